package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The default body limit accepts the transaction bundles that synthetic-patient generators produce (tens
 * of MB: one patient's whole history), and the server stores every entry of one.
 */
class LargeBundleTest {
    private static final int OBSERVATIONS = 10_000;

    @Test
    void aTwentyMegabyteTransactionOfOnePatientsHistoryIsStoredWhole() {
        String mrn = uid();
        String note = "経過観察。".repeat(120); // about 1.8 KB of Japanese text per entry, as real notes have
        StringBuilder b = new StringBuilder(OBSERVATIONS * 2200);
        b.append("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[");
        b.append("{\"fullUrl\":\"urn:uuid:00000000-0000-4000-8000-000000000000\",\"resource\":{\"resourceType\":"
                + "\"Patient\",\"identifier\":[{\"system\":\"urn:test:large\",\"value\":\"").append(mrn)
                .append("\"}],\"name\":[{\"family\":\"大容量\",\"given\":[\"試験\"]}]},\"request\":{\"method\":\"POST\","
                        + "\"url\":\"Patient\"}}");
        for (int i = 0; i < OBSERVATIONS; i++) {
            b.append(",{\"fullUrl\":\"urn:uuid:").append(java.util.UUID.randomUUID())
                    .append("\",\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":"
                            + "[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\",\"display\":\"Heart rate\"}]},"
                            + "\"subject\":{\"reference\":\"urn:uuid:00000000-0000-4000-8000-000000000000\"},"
                            + "\"effectiveDateTime\":\"2020-01-01T09:00:00+09:00\",\"valueQuantity\":{\"value\":")
                    .append(60 + i % 40).append(",\"unit\":\"/min\",\"system\":\"http://unitsofmeasure.org\","
                            + "\"code\":\"/min\"},\"note\":[{\"text\":\"").append(note).append("\"}]},\"request\":"
                            + "{\"method\":\"POST\",\"url\":\"Observation\"}}");
        }
        b.append("]}");
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        assertTrue(body.length > 20_000_000, "bundle is " + body.length + " bytes");

        HttpResponse<String> r = s().send(s().request("").header("Content-Type", "application/fhir+json")
                .header("Prefer", "return=minimal").timeout(java.time.Duration.ofMinutes(5))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
        assertEquals(200, r.statusCode(), r.body().length() > 500 ? r.body().substring(0, 500) : r.body());
        JsonNode response = json(r);
        assertEquals(OBSERVATIONS + 1, response.get("entry").size());

        JsonNode patients = json(s().get("/Patient?identifier=" + enc("urn:test:large|" + mrn)));
        assertEquals(1, patients.get("total").asInt());
        String patientId = patients.get("entry").get(0).get("resource").get("id").asText();
        JsonNode count = json(s().get("/Observation?subject=Patient/" + patientId + "&_summary=count"));
        assertEquals(OBSERVATIONS, count.get("total").asInt());
    }
}
