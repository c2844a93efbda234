package jp.mamori.records.api;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static jp.mamori.records.api.Api.SYS;
import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.enc;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.matchIds;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.search;
import static jp.mamori.records.api.Api.status;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sorting, paging through next links, totals and _summary=count. */
class SearchPagingTest {

    private static String ident(String v) {
        return "identifier=" + enc(SYS + "|" + v);
    }

    private static List<String> createSeven(String v) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            ids.add(createId("Patient", patient(v, "Page" + i + v)));
        }
        return ids;
    }

    private static List<String> allIds(List<JsonNode> pages) {
        List<String> out = new ArrayList<>();
        for (JsonNode p : pages) {
            out.addAll(matchIds(p));
        }
        return out;
    }

    @Test
    void pagingThroughNextLinksReturnsEveryMatchExactlyOnce() {
        String v = uid();
        List<String> ids = createSeven(v);
        List<JsonNode> pages = Api.pages("/Patient?" + ident(v) + "&_count=3", null);
        assertEquals(3, pages.size());
        assertEquals(List.of(3, 3, 1), pages.stream().map(p -> p.path("entry").size()).toList());
        List<String> all = allIds(pages);
        assertEquals(7, all.size(), all::toString);
        assertEquals(Set.copyOf(ids), Set.copyOf(all));
    }

    @Test
    void pagingStaysStableWhileResourcesAreCreatedBetweenPages() {
        String v = uid();
        List<String> ids = createSeven(v);
        List<String> addedMatching = new ArrayList<>();
        List<JsonNode> pages = Api.pages("/Patient?" + ident(v) + "&_count=3", () -> {
            createId("Patient", patient(uid(), "Unrelated"));
            addedMatching.add(createId("Patient", patient(v, "Late" + v)));
        });
        List<String> all = allIds(pages);
        assertEquals(all.size(), new HashSet<>(all).size(), () -> "duplicates: " + all);
        assertTrue(all.containsAll(ids), () -> "gaps: " + all + " misses some of " + ids);
        List<String> extra = new ArrayList<>(all);
        extra.removeAll(ids);
        assertTrue(addedMatching.containsAll(extra), () -> "unexpected entries " + extra);
    }

    @Test
    void pagingWithASortKeepsTheOrderAcrossPages() {
        String v = uid();
        List<String> ids = createSeven(v);
        List<String> all = allIds(Api.pages("/Patient?" + ident(v) + "&_count=3&_sort=-family", null));
        List<String> expected = new ArrayList<>(ids);
        java.util.Collections.reverse(expected);
        assertEquals(expected, all);
    }

    @Test
    void sortByLastUpdatedBirthdateAndFamily() {
        String v = uid();
        String b = createId("Patient", patient(v, "Bravo" + v, null, null, "1970-05-05"));
        String c = createId("Patient", patient(v, "charlie" + v, null, null, "1990-01-01"));
        String a = createId("Patient", patient(v, "Alpha" + v, null, null, "1980-12-31"));
        String none = createId("Patient", patient(v, "Delta" + v));
        assertEquals(List.of(b, c, a, none), search("/Patient?" + ident(v) + "&_sort=_lastUpdated"));
        assertEquals(List.of(none, a, c, b), search("/Patient?" + ident(v) + "&_sort=-_lastUpdated"));
        assertEquals(List.of(c, a, b, none), search("/Patient?" + ident(v) + "&_sort=-birthdate"));
        assertEquals(List.of(b, a, c, none), search("/Patient?" + ident(v) + "&_sort=birthdate"));
        assertEquals(List.of(a, b, c, none), search("/Patient?" + ident(v) + "&_sort=family"));
        status(400, s().get("/Patient?" + ident(v) + "&_sort=nonsense"));
    }

    @Test
    void summaryCountAnswersTheTotalWithoutEntries() {
        String v = uid();
        createSeven(v);
        HttpResponse<String> r = s().get("/Patient?" + ident(v) + "&_summary=count");
        status(200, r);
        JsonNode b = json(r);
        assertEquals(7, b.path("total").asInt(), b::toString);
        assertTrue(b.path("entry").isEmpty(), b::toString);
        assertEquals(7, json(s().get("/Patient?" + ident(v) + "&_count=0")).path("total").asInt());
    }

    @Test
    void totalAccurateCountsAllMatchesOnEveryPage() {
        String v = uid();
        createSeven(v);
        List<JsonNode> pages = Api.pages("/Patient?" + ident(v) + "&_count=3&_total=accurate", null);
        for (JsonNode p : pages) {
            assertEquals(7, p.path("total").asInt(), p::toString);
        }
        JsonNode firstPage = json(s().get("/Patient?" + ident(v) + "&_count=3"));
        assertFalse(firstPage.has("total") && firstPage.path("total").asInt() != 7, firstPage::toString);
    }

    @Test
    void aResourceDeletedBeforeItsPageIsNotReturned() {
        String v = uid();
        List<String> ids = createSeven(v);
        String last = ids.get(6);
        List<JsonNode> pages = Api.pages("/Patient?" + ident(v) + "&_count=3", () -> {
            if (s().get("/Patient/" + last).statusCode() == 200) {
                status(200, s().delete("/Patient/" + last, "test: deleted while paging"));
            }
        });
        List<String> all = allIds(pages);
        assertEquals(ids.subList(0, 6), all);
    }
}
