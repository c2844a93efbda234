package jp.mamori.records.api;

import jp.mamori.access.Caller;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.EntryCodec;
import jp.mamori.identity.Scope;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The FHIR API's entries, byte for byte as the trail has always stored them (the offline verifier and old exports
 * read them): a client's read, from what the answer disclosed, and a refused credential.
 */
class ApiAuditEntryGoldenTest {
    private static final Instant AT = Instant.parse("2026-11-23T01:02:03.456789123Z");
    private static final String ONES = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    private static String encoded(long seq, byte[] prev, AuditEvent.Builder e) {
        return new String(EntryCodec.encode(seq, prev, e.at(AT).build().stored()), StandardCharsets.UTF_8);
    }

    private static byte[] ones() {
        byte[] b = new byte[32];
        java.util.Arrays.fill(b, (byte) 1);
        return b;
    }

    @Test
    void aClientsReadNamesTheVersionItDisclosedAndEveryPatientTheAnswerIsAboutOrRefersTo() {
        Caller lab = new Caller("client:lab-1", "検査システム", Set.of(Scope.parse("system/*.read")), "10.0.0.7");
        ApiAudit.Request rq = new ApiAudit.Request("GET", List.of("Patient", "p1"), "10.0.0.7", "Bearer t0k3n");
        String body = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"3\"},"
                + "\"name\":[{\"family\":\"山田\"}],\"generalPractitioner\":[{\"reference\":\"Practitioner/d1\"}],"
                + "\"link\":[{\"other\":{\"reference\":\"Patient/p2\"},\"type\":\"seealso\"}]}";
        ApiAudit.Answer answer = new ApiAudit.Answer(200, body.getBytes(StandardCharsets.UTF_8),
                "application/fhir+json;charset=utf-8", null, "W/\"3\"");
        AuditEvent.Builder e = new ApiAudit(null, null).answered(lab, rq, ApiAudit.action(rq), answer, Set.of());
        assertEquals("{\"seq\":41,\"prev\":\"" + ONES + "\",\"time\":\"2026-11-23T01:02:03.456789Z\","
                + "\"actor\":\"client:lab-1\",\"kind\":\"client\",\"display\":\"検査システム\","
                + "\"patient\":[\"p1\",\"p2\"],\"resource\":[\"Patient/p1/_history/3\"],\"action\":\"read\","
                + "\"outcome\":\"success\",\"purpose\":\"operations\",\"address\":\"10.0.0.7\","
                + "\"session\":\"5265ab805bd5f3e2b657ebef\","
                + "\"detail\":{\"request\":\"GET /Patient/p1\",\"status\":\"200\"}}", encoded(41, ones(), e));
    }

    @Test
    void aRefusedCredentialIsAnAnonymousRefusalNamingThePathAskedFor() {
        ApiAudit.Request rq = new ApiAudit.Request("GET", List.of("Patient", "p1"), "203.0.113.9", "Bearer wrong");
        assertEquals("{\"seq\":0,\"time\":\"2026-11-23T01:02:03.456789Z\",\"actor\":\"anonymous\","
                + "\"kind\":\"anonymous\",\"action\":\"authenticate\",\"outcome\":\"refused\",\"purpose\":\"security\","
                + "\"address\":\"203.0.113.9\",\"session\":\"2cdf31b2b0532ecd1140eb33\","
                + "\"detail\":{\"path\":\"/fhir/Patient/p1\"}}", encoded(0, null, ApiAudit.anonymous(rq)));
    }

    @Test
    void aRefusedRequestNamesWhatItAskedForAsItAskedForIt() {
        Caller lab = new Caller("client:lab-1", "検査システム", Set.of(Scope.parse("system/*.read")), "10.0.0.7");
        ApiAudit.Request rq = new ApiAudit.Request("GET", List.of("Patient", "no such", "_history", "7"),
                "10.0.0.7", null);
        assertEquals("{\"seq\":5,\"prev\":\"" + ONES + "\",\"time\":\"2026-11-23T01:02:03.456789Z\","
                + "\"actor\":\"client:lab-1\",\"kind\":\"client\",\"display\":\"検査システム\","
                + "\"patient\":[\"no such\"],\"resource\":[\"Patient/no such/_history/7\"],\"action\":\"vread\","
                + "\"outcome\":\"refused\",\"purpose\":\"operations\",\"address\":\"10.0.0.7\","
                + "\"detail\":{\"request\":\"GET /Patient/no such/_history/7\",\"status\":\"404\"}}",
                encoded(5, ones(), new ApiAudit(null, null).refused(lab, rq, AuditAction.VREAD, 404)));
        ApiAudit.Request odd = new ApiAudit.Request("GET", List.of("Patient", "$x", "_history", "2"), "10.0.0.7",
                null);
        assertEquals(List.of("Patient/_history/2"), new ApiAudit(null, null).refused(lab, odd, AuditAction.VREAD, 400)
                .build().stored().resources(), "as recorded before the references were typed");
    }
}
