package jp.mamori.records.api;

import org.hl7.fhir.r4.model.CapabilityStatement;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The capability statement is truthful: everything it advertises, the server does. */
class CapabilityTruthTest {
    @Test
    void everyAdvertisedSearchParameterOfEveryTypeIsAccepted() {
        HttpResponse<String> meta = s().get("/metadata");
        CapabilityStatement cs = jp.mamori.testing.Fhir.parse(CapabilityStatement.class, meta.body());
        List<String> refused = new ArrayList<>();
        int checked = 0;
        List<CapabilityStatement.CapabilityStatementRestResourceComponent> resources = cs.getRestFirstRep().getResource();
        assertTrue(resources.size() >= 140, "every R4 resource type is listed, found " + resources.size());
        for (var r : resources) {
            for (var p : r.getSearchParam()) {
                String value = switch (p.getType()) {
                    case DATE -> "ge2020-01-01";
                    case REFERENCE -> "Patient/none";
                    case QUANTITY, NUMBER -> "1";
                    case URI -> "http://example.org/none";
                    default -> "none";
                };
                HttpResponse<String> res = s().get("/" + r.getType() + "?" + p.getName() + "=" + enc(value)
                        + "&_summary=count");
                checked++;
                if (res.statusCode() != 200) {
                    refused.add(r.getType() + "?" + p.getName() + " -> " + res.statusCode());
                }
            }
        }
        assertTrue(checked > 1000, "checked " + checked);
        assertEquals(List.of(), refused);
    }

    @Test
    void theStatementNamesTheSoftwareAndTheSecurityItNeeds() {
        CapabilityStatement cs = jp.mamori.testing.Fhir.parse(CapabilityStatement.class, s().get("/metadata").body());
        assertEquals("Mamori", cs.getSoftware().getName());
        // our own search parameter is advertised where it applies (issue 22: the console's narrowing search)
        assertTrue(cs.getRestFirstRep().getResource().stream().filter(r -> r.getType().equals("Encounter"))
                .flatMap(r -> r.getSearchParam().stream()).anyMatch(p -> p.getName().equals("place")));
        assertEquals("4.0.1", cs.getFhirVersion().toCode());
        assertEquals("SMART-on-FHIR", cs.getRestFirstRep().getSecurity().getServiceFirstRep().getCodingFirstRep().getCode());
    }
}
