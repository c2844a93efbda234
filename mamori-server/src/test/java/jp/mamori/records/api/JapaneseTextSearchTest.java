package jp.mamori.records.api;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static jp.mamori.records.api.Api.SYS;
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
 * Japanese names that a clerk would call the same name are found by one search (ADR 0003): invisible
 * characters, composed and decomposed kana, half-width kana, ideographic variation selectors and the
 * 異体字 of the folding table. The stored record keeps the characters exactly as written.
 */
class JapaneseTextSearchTest {

    private static Set<String> found(String v, String query) {
        return Set.copyOf(search("/Patient?" + query + "&identifier=" + enc(SYS + "|" + v)));
    }

    private static String q(String param, String value) {
        return param + "=" + enc(value);
    }

    private static String storedFamily(String id) {
        var r = s().get("/Patient/" + id);
        status(200, r);
        return json(r).path("name").path(0).path("family").asText();
    }

    @Test
    void aZeroWidthSpaceInsideAStoredNameDoesNotHideThePatient() {
        String v = uid();
        String written = "山\u200B田";
        String id = createId("Patient", patient(v, written, "太\u2060郎", null, null));
        assertEquals(Set.of(id), found(v, q("family", "山田")));
        assertEquals(Set.of(id), found(v, q("family:exact", "山田")));
        assertEquals(Set.of(id), found(v, q("name", "太郎")));
        // a soft hyphen, a BOM or a bidi mark typed into the query is ignored as well
        assertEquals(Set.of(id), found(v, q("family", "山\u00AD\uFEFF田\u200E")));
        assertEquals(written, storedFamily(id), "the stored record keeps the zero-width space");
    }

    @Test
    void aValueOfOnlyInvisibleCharactersOrSpacesIsRefusedRatherThanMatchingEveryName() {
        for (String value : new String[]{"\u200B", "\uFEFF\u200D", " ", "\u3000", "\u00AD"}) {
            for (String param : new String[]{"family", "family:contains", "family:exact", "name"}) {
                var r = s().get("/Patient?" + q(param, value));
                status(400, r);
            }
        }
    }

    @Test
    void composedAndDecomposedKanaMatchWithAndWithoutExact() {
        String v = uid();
        String decomposed = createId("Patient", patient(v, "カ\u3099モウ"));
        String composed = createId("Patient", patient(v, "パンダ"));
        assertEquals(Set.of(decomposed), found(v, q("family", "ガモウ")));
        assertEquals(Set.of(decomposed), found(v, q("family:exact", "ガモウ")));
        assertEquals(Set.of(composed), found(v, q("family", "ハ\u309Aンダ")));
        assertEquals(Set.of(composed), found(v, q("family:exact", "ハ\u309Aンダ")));
        // the voiced-sound marks still tell the sounds apart
        assertEquals(Set.of(), found(v, q("family:exact", "カモウ")));
        assertEquals(Set.of(), found(v, q("family", "ハンダ")));
        assertEquals("カ\u3099モウ", storedFamily(decomposed), "the stored record keeps the decomposed form");
    }

    @Test
    void takahashiWithEitherTakaFindsBoth() {
        String v = uid();
        String hashigo = createId("Patient", patient(v, "髙橋"));
        String plain = createId("Patient", patient(v, "高橋"));
        assertEquals(Set.of(hashigo, plain), found(v, q("family", "高橋")));
        assertEquals(Set.of(hashigo, plain), found(v, q("family", "髙橋")));
        assertEquals(Set.of(hashigo, plain), found(v, q("family", "高")));
        // :exact is exact: the 異体字 are different characters (ADR 0003)
        assertEquals(Set.of(plain), found(v, q("family:exact", "高橋")));
        assertEquals(Set.of(hashigo), found(v, q("family:exact", "髙橋")));
        assertEquals("髙橋", storedFamily(hashigo), "the stored record keeps 髙");
    }

    @Test
    void sakiAndWatanabeVariantsFindEachOther() {
        String v = uid();
        String tatsusaki = createId("Patient", patient(v, "山﨑"));
        String saki = createId("Patient", patient(v, "山崎"));
        assertEquals(Set.of(tatsusaki, saki), found(v, q("family", "山崎")));
        assertEquals(Set.of(tatsusaki, saki), found(v, q("family", "山﨑")));
        String a = createId("Patient", patient(v, "渡邊"));
        String b = createId("Patient", patient(v, "渡邉"));
        String c = createId("Patient", patient(v, "渡辺"));
        for (String q : new String[]{"渡辺", "渡邊", "渡邉", "渡"}) {
            assertEquals(Set.of(a, b, c), found(v, q("family", q)), q);
        }
        assertEquals("渡邉", storedFamily(b));
    }

    @Test
    void halfWidthKatakanaIsFoundByFullWidthAndTheReverse() {
        String v = uid();
        String half = createId("Patient", patient(v, "ｻﾄｳ", "ﾊﾟﾝ", null, null));
        String full = createId("Patient", patient(v, "サトウ"));
        assertEquals(Set.of(half, full), found(v, q("family", "サトウ")));
        assertEquals(Set.of(half, full), found(v, q("family", "ｻﾄｳ")));
        assertEquals(Set.of(half), found(v, q("given", "パン")));
    }

    @Test
    void aNameWithAnIdeographicVariationSequenceIsFoundByThePlainCharacter() {
        String v = uid();
        String written = "葛\uDB40\uDD00飾"; // 葛 + U+E0100 (VS17): the 葛 of 葛飾区 with ヒ
        String id = createId("Patient", patient(v, written));
        assertEquals(Set.of(id), found(v, q("family", "葛飾")));
        assertEquals(Set.of(id), found(v, q("family:exact", "葛飾")));
        assertEquals(Set.of(id), found(v, q("family:contains", "飾")));
        assertEquals(written, storedFamily(id), "the stored record keeps the variation selector");
    }
}
