package jp.mamori.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * FHIR creates from a few client threads while something fails underneath (issue 18 §1 tests): each create carries a
 * unique identifier; what was acknowledged (201, with its id) is remembered, and every other answer is counted by
 * status (0: no answer at all), with one example body each. {@link #checkAcknowledged} then asks a server for every
 * acknowledged create and for every identifier ever sent: acknowledged ones must be there once, the others at most
 * once (a create whose commit was cut off may or may not have been stored, never twice or half).
 */
public final class WriteLoad implements AutoCloseable {
    public static final String SYSTEM = "urn:mamori:test:continuity";

    /** One acknowledged create: where it was sent and the id it got. */
    public record Ack(String identifier, String id, String via) {
    }

    private final HttpClient http;
    private final String token;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    public final Map<String, Ack> acked = new ConcurrentHashMap<>();
    public final Map<String, Boolean> sent = new ConcurrentHashMap<>();
    public final Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    public final Map<Integer, String> examples = new ConcurrentHashMap<>();
    public final Map<Integer, String> retryAfter = new ConcurrentHashMap<>();

    public WriteLoad(HttpClient http, String token) {
        this.http = http;
        this.token = token;
    }

    /** A Patient with one identifier in {@link #SYSTEM} and a Japanese name. */
    public static String patient(String identifier) {
        return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + SYSTEM + "\",\"value\":\"" + identifier
                + "\"}],\"name\":[{\"family\":\"継続\",\"given\":[\"試験\"]}],\"gender\":\"female\","
                + "\"birthDate\":\"1970-01-01\"}";
    }

    /** Starts a client thread that writes to whatever {@code base} gives at each create (a FHIR base URL). */
    public WriteLoad writer(String name, Supplier<String> base) {
        threads.add(Thread.ofPlatform().daemon().name("write-" + name).start(() -> {
            for (int n = 0; !stop.get(); n++) {
                String ident = name + "-" + n + "-" + UUID.randomUUID();
                String b = base.get();
                sent.put(ident, Boolean.TRUE);
                int status;
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(b + "/Patient"))
                            .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token)
                            .header("Content-Type", "application/fhir+json")
                            .POST(HttpRequest.BodyPublishers.ofString(patient(ident), StandardCharsets.UTF_8)).build(),
                            HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
                    status = r.statusCode();
                    if (status == 201) {
                        String loc = r.headers().firstValue("Location").orElseThrow();
                        String id = loc.replaceFirst("^.*/Patient/", "").replaceFirst("/_history/.*$", "");
                        acked.put(ident, new Ack(ident, id, b));
                    } else {
                        examples.putIfAbsent(status, r.body());
                        r.headers().firstValue("Retry-After").ifPresent(v -> retryAfter.putIfAbsent(r.statusCode(), v));
                    }
                } catch (java.net.ConnectException e) {
                    sent.remove(ident); // never reached a server
                    status = -1;
                } catch (Exception e) {
                    status = 0;
                    examples.putIfAbsent(0, e.toString());
                }
                statuses.merge(status, 1, Integer::sum);
                if (status != 201) {
                    sleep(50); // a retrying client waits a moment
                }
            }
        }));
        return this;
    }

    /** How many answers had {@code status}. */
    public int count(int status) {
        return statuses.getOrDefault(status, 0);
    }

    /** Waits until {@code n} more creates were acknowledged (at most a minute). */
    public void awaitAcks(int n) {
        int target = acked.size() + n;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (acked.size() < target) {
            assertTrue(System.nanoTime() < deadline, "only " + acked.size() + " of " + target + " creates acknowledged;"
                    + " answers " + statuses + " " + examples);
            sleep(50);
        }
    }

    /** Waits until {@code n} more answers had {@code status} (at most {@code seconds}). */
    public void awaitStatus(int status, int n, int seconds) {
        int target = count(status) + n;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (count(status) < target) {
            assertTrue(System.nanoTime() < deadline, "no answer " + status + " yet; answers " + statuses + " "
                    + examples);
            sleep(50);
        }
    }

    /** Stops the writers and waits for them. */
    @Override
    public void close() {
        stop.set(true);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(60));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Every acknowledged create is readable at {@code fhirBase} and stored once; every identifier sent is stored at
     * most once. Returns how many unacknowledged creates were stored all the same (their commit outran the failure).
     */
    public int checkAcknowledged(String fhirBase) throws Exception {
        List<String> problems = new ArrayList<>();
        int extra = 0;
        for (String ident : sent.keySet()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(fhirBase + "/Patient?identifier="
                            + SYSTEM + "%7C" + ident)).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + token).GET().build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, r.statusCode(), r.body());
            int matches = r.body().split("\"fullUrl\"", -1).length - 1;
            Ack a = acked.get(ident);
            if (a != null) {
                if (matches != 1 || !r.body().contains("Patient/" + a.id())) {
                    problems.add(ident + " acknowledged as Patient/" + a.id() + " via " + a.via() + ", stored "
                            + matches + " times");
                }
            } else if (matches > 1) {
                problems.add(ident + " (not acknowledged) stored " + matches + " times");
            } else {
                extra += matches;
            }
        }
        assertTrue(problems.isEmpty(), problems.size() + " problems, e.g. " + problems.subList(0,
                Math.min(5, problems.size())));
        return extra;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
