package jp.mamori.records.api;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;

import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** STORE-10: records of deceased patients are protected exactly like everyone else's. */
class DeceasedPatientTest {
    @Test
    void aDeceasedPatientsRecordNeedsTheSameAuthenticationAndScopeAsAnyOther() {
        String id = createId("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:test\","
                + "\"value\":\"" + uid() + "\"}],\"name\":[{\"family\":\"故人\"}],\"deceasedBoolean\":true}");
        var anonymous = s().send(HttpRequest.newBuilder(URI.create(s().base() + "/Patient/" + id)).GET().build());
        assertEquals(401, anonymous.statusCode());
        String observationsOnly = s().tokenWithScopes("system/Observation.read");
        var wrongScope = s().send(HttpRequest.newBuilder(URI.create(s().base() + "/Patient/" + id))
                .header("Authorization", "Bearer " + observationsOnly).GET().build());
        assertEquals(403, wrongScope.statusCode());
        assertEquals(200, s().get("/Patient/" + id).statusCode());
    }
}
