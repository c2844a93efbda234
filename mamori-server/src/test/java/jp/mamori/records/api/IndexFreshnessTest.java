package jp.mamori.records.api;

import org.junit.jupiter.api.Test;

import java.util.List;

import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Searches are answered from the index alone when they can be, which is right only if the index holds the
 * current version of live resources and nothing else. These tests try to catch a stale row.
 */
class IndexFreshnessTest {
    @Test
    void afterAnUpdateTheOldValueNoLongerFindsTheResourceAndTheNewOneDoes() {
        String oldName = "旧姓" + uid();
        String newName = "新姓" + uid();
        String mrn = uid();
        String id = createId("Patient", patient(mrn, oldName));
        assertEquals(List.of(id), search("/Patient?family=" + enc(oldName)));
        status(200, s().put("/Patient/" + id, patient(mrn, newName).replace("{\"resourceType\":\"Patient\",",
                "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",")));
        assertEquals(List.of(), search("/Patient?family=" + enc(oldName)));
        assertEquals(List.of(id), search("/Patient?family=" + enc(newName)));
        assertEquals(0, json(s().get("/Patient?family=" + enc(oldName) + "&_summary=count")).get("total").asInt());
    }

    @Test
    void aDeletedResourceIsNeitherFoundNorCounted() {
        String family = "削除" + uid();
        String keep = createId("Patient", patient(uid(), family, "花子", "female", "1990-01-01"));
        String gone = createId("Patient", patient(uid(), family, "次郎", "male", "1991-01-01"));
        status(200, s().delete("/Patient/" + gone, "重複登録"));
        assertEquals(List.of(keep), search("/Patient?family=" + enc(family)));
        assertEquals(1, json(s().get("/Patient?family=" + enc(family) + "&_total=accurate")).get("total").asInt());
        assertEquals(List.of(keep), search("/Patient?family=" + enc(family) + "&gender=male,female,other,unknown"));
    }

    @Test
    void aSearchOfOneTypeNeverReturnsAnotherTypeWithTheSameIndexedValue() {
        String code = "code-" + uid();
        String obs = createId("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":"
                + "[{\"system\":\"urn:test\",\"code\":\"" + code + "\"}]}}");
        String cond = createId("Condition", "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/x\"},"
                + "\"code\":{\"coding\":[{\"system\":\"urn:test\",\"code\":\"" + code + "\"}]}}");
        assertEquals(List.of(obs), search("/Observation?code=" + enc("urn:test|" + code)));
        assertEquals(List.of(cond), search("/Condition?code=" + enc("urn:test|" + code)));
    }
}
