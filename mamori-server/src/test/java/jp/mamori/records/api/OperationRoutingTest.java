package jp.mamori.records.api;

import jp.mamori.access.Caller;
import jp.mamori.kernel.FhirError;
import jp.mamori.web.Reply;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Extended operations registered by capabilities above the record store reach them at each level, and only them. */
class OperationRoutingTest {
    private final List<FhirOperation.Target> seen = new ArrayList<>();
    private final FhirEndpoint endpoint = new FhirEndpoint(null, "test").withOperation("$probe", new FhirOperation() {
        @Override
        public Reply handle(FhirRequest rq, Target target) {
            seen.add(target);
            return Reply.empty(204);
        }

        @Override
        public String definition() {
            return "http://example.org/OperationDefinition/probe";
        }
    });

    private static FhirRequest get(String... segments) {
        return new FhirRequest("GET", List.of(segments), "", Map.of(), h -> null,
                () -> new ByteArrayInputStream(new byte[0]), Caller.system("test"), "https://h/fhir", null);
    }

    @Test
    void systemTypeAndInstanceLevelsReachTheOperationWithTheirTarget() {
        assertEquals(204, endpoint.handle(get("$probe")).status());
        assertEquals(204, endpoint.handle(get("$probe", "job-1", "file-2")).status());
        assertEquals(204, endpoint.handle(get("Patient", "$probe")).status());
        assertEquals(204, endpoint.handle(get("Group", "g1", "$probe")).status());
        assertEquals(List.of(new FhirOperation.Target(null, null, List.of()),
                new FhirOperation.Target(null, null, List.of("job-1", "file-2")),
                new FhirOperation.Target("Patient", null, List.of()),
                new FhirOperation.Target("Group", "g1", List.of())), seen);
        assertTrue(seen.get(0).system() && seen.get(3).instance() && !seen.get(2).instance());
    }

    @Test
    void unknownOperationsUnknownTypesAndRemovalAreRefusedWithoutReachingIt() {
        FhirError unknown = assertThrows(FhirError.class, () -> endpoint.handle(get("Patient", "$other")));
        assertEquals(404, unknown.status());
        assertEquals(404, assertThrows(FhirError.class, () -> endpoint.handle(get("Nonsense", "$probe"))).status());
        assertEquals(404, assertThrows(FhirError.class,
                () -> endpoint.handle(get("Patient", "1", "_history", "$probe"))).status());
        assertEquals(405, assertThrows(FhirError.class, () -> endpoint.handle(get("Patient", "1", "$expunge"))).status());
        assertEquals(List.of(), seen);
    }

    @Test
    void theCapabilityStatementListsRegisteredOperations() {
        String json = new String(endpoint.metadata(get("metadata")).body(), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"name\":\"probe\"") && json.contains("http://example.org/OperationDefinition/probe"),
                json.substring(0, Math.min(400, json.length())));
        assertThrows(IllegalStateException.class, () -> endpoint.withOperation("$probe", (rq, t) -> Reply.empty(204)));
        assertThrows(IllegalArgumentException.class, () -> endpoint.withOperation("probe", (rq, t) -> Reply.empty(204)));
    }
}
