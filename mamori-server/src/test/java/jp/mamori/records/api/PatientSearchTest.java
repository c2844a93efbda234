package jp.mamori.records.api;

import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.firstIssue;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Patient search parameters with the R4 semantics, including Japanese names. */
class PatientSearchTest {

    private static String ident(String v) {
        return "identifier=" + enc(SYS + "|" + v);
    }

    private static Set<String> found(String query) {
        return Set.copyOf(search("/Patient?" + query));
    }

    @Test
    void identifierMatchesBySystemAndValueByValueOnlyAndByValueWithoutSystem() {
        String v = uid();
        String withSys = createId("Patient", patient(v, "Ident"));
        String noSys = createId("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"value\":\"" + v
                + "\"}]}");
        String otherSys = createId("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":"
                + "\"urn:other\",\"value\":\"" + v + "\"}]}");
        assertEquals(Set.of(withSys), found(ident(v)));
        assertEquals(Set.of(withSys, noSys, otherSys), found("identifier=" + v));
        assertEquals(Set.of(noSys), found("identifier=" + enc("|" + v)));
        assertEquals(Set.of(), found("identifier=" + enc(SYS + "|other" + v)));
    }

    @Test
    void anIndexLookupCombinesWithIdAndLastUpdated() {
        // Found by FuzzTest: an index lookup followed by _id or _lastUpdated was answered from the index
        // alone, where resource columns do not exist (a 500).
        String v = uid();
        String a = createId("Patient", patient(v, "Combo"));
        String b = createId("Patient", patient(v, "Combo"));
        assertEquals(Set.of(a), found(ident(v) + "&_id=" + a));
        assertEquals(Set.of(a, b), found(ident(v) + "&_id=" + enc(a + "," + b)));
        assertEquals(Set.of(a, b), found(ident(v) + "&_lastUpdated=gt2020-01-01"));
        assertEquals(Set.of(), found(ident(v) + "&_lastUpdated=lt2020-01-01"));
        assertEquals(Set.of(), found(ident(v) + "&_id=json"));
    }

    @Test
    void stringParametersMatchByPrefixIgnoringCaseAndAccents() {
        String v = uid();
        String id = createId("Patient", patient(v, "Müller" + v, "Émile", null, null));
        assertEquals(Set.of(id), found("family=" + enc("muller" + v.substring(0, 6))));
        assertEquals(Set.of(id), found("family=" + enc("MÜLLER" + v)));
        assertEquals(Set.of(id), found("name=" + enc("müll") + "&" + ident(v)));
        assertEquals(Set.of(id), found("given=emi&" + ident(v)));
        // prefix, not substring
        assertEquals(Set.of(), found("family=" + enc("ller" + v)));
        assertEquals(Set.of(), found("given=mile&" + ident(v)));
    }

    @Test
    void exactModifierMatchesOnlyTheWholeStringWithItsCase() {
        String v = uid();
        String id = createId("Patient", patient(v, "Exact" + v));
        assertEquals(Set.of(id), found("family:exact=Exact" + v));
        assertEquals(Set.of(), found("family:exact=exact" + v));
        assertEquals(Set.of(), found("family:exact=Exact" + v.substring(0, 6)));
    }

    @Test
    void containsModifierMatchesAnywhereInTheString() {
        String v = uid();
        String id = createId("Patient", patient(v, "Con" + v + "tains"));
        assertEquals(Set.of(id), found("family:contains=" + v.substring(3) + "TAI"));
        assertEquals(Set.of(), found("family=" + v.substring(3)));
    }

    @Test
    void kanjiFamilyNameFindsItself() {
        String v = uid();
        String id = createId("Patient", patient(v, "山田", "太郎", null, null));
        assertEquals(Set.of(id), found("family=" + enc("山田") + "&" + ident(v)));
        assertEquals(Set.of(id), found("name=" + enc("太郎") + "&" + ident(v)));
        assertEquals(Set.of(), found("family=" + enc("山本") + "&" + ident(v)));
    }

    @Test
    void hiraganaFindsKatakanaAndHalfWidthKanaFindsFullWidth() {
        String v = uid();
        String id = createId("Patient", patient(v, "ヤマダ", "ハナコ", null, null));
        assertEquals(Set.of(id), found("family=" + enc("やまだ") + "&" + ident(v)));
        assertEquals(Set.of(id), found("family=" + enc("ﾔﾏﾀﾞ") + "&" + ident(v)));
        assertEquals(Set.of(id), found("given=" + enc("はな") + "&" + ident(v)));
        String hira = createId("Patient", patient(v, "やまだ"));
        assertEquals(Set.of(id, hira), found("family=" + enc("ヤマダ") + "&" + ident(v)));
    }

    @Test
    void voicedSoundMarksAreKeptSoGaDoesNotMatchKa() {
        String v = uid();
        String ga = createId("Patient", patient(v, "ガモウ"));
        String ka = createId("Patient", patient(v, "カモウ"));
        assertEquals(Set.of(ga), found("family=" + enc("ガモウ") + "&" + ident(v)));
        assertEquals(Set.of(ga), found("family=" + enc("がもう") + "&" + ident(v)));
        assertEquals(Set.of(ga), found("family=" + enc("ｶﾞﾓｳ") + "&" + ident(v)));
        assertEquals(Set.of(ka), found("family=" + enc("カモウ") + "&" + ident(v)));
        assertEquals(Set.of(ka), found("family=" + enc("か") + "&" + ident(v)));
    }

    @Test
    void birthdateHonoursEveryPrefixAndPartialDates() {
        String v = uid();
        String a = createId("Patient", patient(v, "BdA", null, null, "1980-03-31"));
        String b = createId("Patient", patient(v, "BdB", null, null, "1980-04-15"));
        String c = createId("Patient", patient(v, "BdC", null, null, "1981-01-01"));
        String q = "&" + ident(v);
        assertEquals(Set.of(b), found("birthdate=1980-04-15" + q));
        assertEquals(Set.of(b), found("birthdate=eq1980-04-15" + q));
        assertEquals(Set.of(a, c), found("birthdate=ne1980-04-15" + q));
        assertEquals(Set.of(a, b), found("birthdate=1980" + q));
        assertEquals(Set.of(b), found("birthdate=1980-04" + q));
        assertEquals(Set.of(c), found("birthdate=gt1980-04-15" + q));
        assertEquals(Set.of(a), found("birthdate=lt1980-04-15" + q));
        assertEquals(Set.of(b, c), found("birthdate=ge1980-04-15" + q));
        assertEquals(Set.of(a, b), found("birthdate=le1980-04-15" + q));
        assertEquals(Set.of(c), found("birthdate=gt1980" + q));
        assertEquals(Set.of(a, b), found("birthdate=lt1981" + q));
        assertEquals(Set.of(a, b, c), found("birthdate=ge1980-03" + q));
        assertEquals(Set.of(b, c), found("birthdate=ge1980-04" + q));
        assertEquals(Set.of(a, b), found("birthdate=le1980-04" + q));
        assertEquals(Set.of(a), found("birthdate=lt1980-04" + q));
        // two values of one parameter are ANDed: a range
        assertEquals(Set.of(b), found("birthdate=ge1980-04-01&birthdate=lt1980-05-01" + q));
    }

    @Test
    void genderPhoneAndAddressAreSearchable() {
        String v = uid();
        String id = createId("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SYS
                + "\",\"value\":\"" + v + "\"}],\"gender\":\"female\",\"telecom\":[{\"system\":\"phone\","
                + "\"value\":\"03-1234-" + v.substring(0, 4).replaceAll("[a-f]", "7") + "\"}],\"address\":[{"
                + "\"city\":\"世田谷区\",\"state\":\"東京都\",\"postalCode\":\"154-0001\"}]}");
        String other = createId("Patient", patient(v, "Other", null, "male", null));
        assertEquals(Set.of(id), found("gender=female&" + ident(v)));
        assertEquals(Set.of(other), found("gender=male&" + ident(v)));
        assertEquals(Set.of(id), found("gender=" + enc("http://hl7.org/fhir/administrative-gender|female") + "&"
                + ident(v)));
        String phone = "03-1234-" + v.substring(0, 4).replaceAll("[a-f]", "7");
        assertEquals(Set.of(id), found("phone=" + enc(phone) + "&" + ident(v)));
        assertEquals(Set.of(id), found("phone=" + phone.replace("-", "") + "&" + ident(v)));
        assertEquals(Set.of(id), found("address=" + enc("世田谷") + "&" + ident(v)));
        assertEquals(Set.of(id), found("address-city=" + enc("世田谷区") + "&" + ident(v)));
        assertEquals(Set.of(id), found("address-postalcode=154&" + ident(v)));
        assertEquals(Set.of(), found("address=" + enc("大阪") + "&" + ident(v)));
    }

    @Test
    void missingModifierSelectsResourcesWithAndWithoutTheElement() {
        String v = uid();
        String with = createId("Patient", patient(v, "Miss", null, null, "1990-01-01"));
        String without = createId("Patient", patient(v, "Miss"));
        assertEquals(Set.of(without), found("birthdate:missing=true&" + ident(v)));
        assertEquals(Set.of(with), found("birthdate:missing=false&" + ident(v)));
        assertEquals(Set.of(with, without), found("family:missing=false&" + ident(v)));
        status(400, s().get("/Patient?birthdate:missing=maybe"));
    }

    @Test
    void idAndLastUpdatedFilter() throws Exception {
        String v = uid();
        String a = createId("Patient", patient(v, "IdA"));
        Thread.sleep(30);
        String mid = java.time.Instant.now().toString();
        Thread.sleep(30);
        String b = createId("Patient", patient(v, "IdB"));
        assertEquals(Set.of(a), found("_id=" + a));
        assertEquals(Set.of(a, b), found("_id=" + a + "," + b));
        assertEquals(Set.of(b), found("_lastUpdated=" + enc("gt" + mid) + "&" + ident(v)));
        assertEquals(Set.of(a), found("_lastUpdated=" + enc("lt" + mid) + "&" + ident(v)));
        assertEquals(Set.of(a, b), found("_lastUpdated=" + enc("ge" + mid.substring(0, 4)) + "&" + ident(v)));
        assertEquals(Set.of(), found("_lastUpdated=lt2000-01-01&" + ident(v)));
    }

    @Test
    void unknownParameterIsRefusedWith400() {
        HttpResponse<String> r = s().get("/Patient?nonsense=1");
        status(400, r);
        assertTrue(firstIssue(r).path("diagnostics").asText().contains("nonsense"));
        status(400, s().get("/Patient?family:fuzzy=x"));
    }

    @Test
    void badDateValueIsRefusedWith400() {
        status(400, s().get("/Patient?birthdate=1980-13-45"));
        status(400, s().get("/Patient?birthdate=yesterday"));
        status(400, s().get("/Patient?birthdate=xx1980"));
    }

    @Test
    void unknownResourceTypeIs404() {
        HttpResponse<String> r = s().get("/Patients?name=x");
        status(404, r);
        assertEquals("OperationOutcome", Api.json(r).path("resourceType").asText());
    }

    @Test
    void postSearchWithAFormBodyFindsLikeGet() {
        String v = uid();
        String id = createId("Patient", patient(v, "Form" + v));
        HttpResponse<String> r = Api.send("POST", "/Patient/_search", "application/x-www-form-urlencoded",
                "family=" + enc("form" + v) + "&" + ident(v));
        status(200, r);
        assertEquals(List.of(id), Api.matchIds(Api.json(r)));
    }
}
