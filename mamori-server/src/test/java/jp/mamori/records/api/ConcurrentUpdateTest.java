package jp.mamori.records.api;

import org.junit.jupiter.api.RepeatedTest;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static jp.mamori.records.api.Api.createId;
import static jp.mamori.records.api.Api.json;
import static jp.mamori.records.api.Api.patient;
import static jp.mamori.records.api.Api.s;
import static jp.mamori.records.api.Api.uid;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Concurrent updates of one resource never both succeed against the same version. */
class ConcurrentUpdateTest {
    private static final int WRITERS = 8;

    @RepeatedTest(3)
    void ofEightUpdatesAgainstVersionOneExactlyOneSucceedsAndTheRestGet412() throws Exception {
        String mrn = uid();
        String id = createId("Patient", patient(mrn, "同時"));
        List<Integer> statuses = race(id, mrn, true);
        assertEquals(1, statuses.stream().filter(c -> c == 200).count(), statuses.toString());
        assertEquals(WRITERS - 1, statuses.stream().filter(c -> c == 412).count(), statuses.toString());
        assertEquals(2, json(s().get("/Patient/" + id + "/_history")).get("entry").size());
    }

    @RepeatedTest(3)
    void updatesWithoutIfMatchAreSerializedIntoDistinctVersions() throws Exception {
        String mrn = uid();
        String id = createId("Patient", patient(mrn, "直列"));
        List<Integer> statuses = race(id, mrn, false);
        assertEquals(List.of(200, 200, 200, 200, 200, 200, 200, 200), statuses);
        var entries = json(s().get("/Patient/" + id + "/_history?_count=50")).get("entry");
        TreeSet<Integer> versions = new TreeSet<>();
        entries.forEach(e -> versions.add(e.get("resource").get("meta").get("versionId").asInt()));
        assertEquals(WRITERS + 1, entries.size());
        assertEquals(WRITERS + 1, versions.size(), "no version number twice");
        assertEquals(WRITERS + 1, versions.last());
    }

    private static List<Integer> race(String id, String mrn, boolean ifMatch) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> answers = new ArrayList<>();
            for (int i = 0; i < WRITERS; i++) {
                String body = patient(mrn, "書込" + i).replace("{\"resourceType\":\"Patient\",",
                        "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",");
                answers.add(pool.submit(() -> {
                    HttpRequest.Builder b = s().request("/Patient/" + id).header("Content-Type", "application/fhir+json")
                            .PUT(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
                    if (ifMatch) {
                        b.header("If-Match", "W/\"1\"");
                    }
                    start.await();
                    HttpResponse<String> r = s().send(b.build());
                    return r.statusCode();
                }));
            }
            start.countDown();
            List<Integer> out = new ArrayList<>();
            for (Future<Integer> f : answers) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }
}
