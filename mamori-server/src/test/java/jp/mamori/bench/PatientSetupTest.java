package jp.mamori.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class PatientSetupTest {

    @Test
    void readsIdsFromATransactionResponse() {
        String hapiStyle = """
                {"resourceType": "Bundle", "type": "transaction-response", "entry": [
                  {"response": {"status": "201 Created", "location": "Patient/1001/_history/1", "etag": "1"}},
                  {"response": {"status": "201 Created", "location": "https://h.example/fhir/Patient/a-b.c/_history/1"}},
                  {"response": {"status": "201 Created", "location": "Patient/77"}}
                ]}""";
        assertEquals(List.of("1001", "a-b.c", "77"), PatientSetup.idsFromBundle(hapiStyle));
        assertEquals(List.of(), PatientSetup.idsFromBundle("{\"resourceType\":\"Bundle\"}"));
    }
}
