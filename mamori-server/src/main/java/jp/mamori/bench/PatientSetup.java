package jp.mamori.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Creates the patients a scenario reads or searches, before the measurement.
 *
 * <p>Patients are created with transaction bundles of {@link FhirRequests#BUNDLE_SIZE}. If the
 * server answers the first transaction with an error, setup falls back to one POST per patient.
 * Work is spread over as many threads as the benchmark's concurrency.
 */
final class PatientSetup {

    /** Setup could not create the patients; the message is one line. */
    static final class SetupException extends Exception {
        SetupException(String message) {
            super(message);
        }
    }

    /** {@code "location": "Patient/123/_history/1"} (or a full URL) in a transaction-response entry. */
    private static final Pattern BUNDLE_LOCATION =
            Pattern.compile("\"location\"\\s*:\\s*\"(?:[^\"]*/)?Patient/([^/\"?]+)");
    /** The id in a Location header such as {@code https://host/fhir/Patient/123/_history/1}. */
    private static final Pattern HEADER_LOCATION = Pattern.compile("(?:^|/)Patient/([^/?#]+)");
    /** The resource id in a returned Patient (HAPI and most servers write it near the top). */
    private static final Pattern BODY_ID = Pattern.compile("\"id\"\\s*:\\s*\"([^\"]+)\"");

    private PatientSetup() {
    }

    /**
     * Creates {@code count} patients and returns the ids the server reported (possibly fewer than
     * {@code count} if the server's answers do not name them).
     */
    static List<String> createPatients(HttpClient client, FhirRequests requests, int count, int threads,
                                       PrintStream err) throws SetupException, InterruptedException {
        long started = System.nanoTime();
        err.println("bench: setup: creating " + count + " patients");
        List<String> ids = Collections.synchronizedList(new ArrayList<>(count));

        // The first transaction decides whether the server supports them.
        int first = Math.min(FhirRequests.BUNDLE_SIZE, count);
        HttpRequest probe = requests.transaction(first, ThreadLocalRandom.current());
        HttpResponse<String> answer = send(client, probe);
        boolean useTransactions = HttpSupport.isSuccess(answer.statusCode());
        int remainingAfterProbe = count;
        if (useTransactions) {
            ids.addAll(idsFromBundle(answer.body()));
            remainingAfterProbe -= first;
        } else {
            err.println("bench: setup: the server answered HTTP " + answer.statusCode()
                    + " to a transaction bundle; creating patients one by one");
        }

        AtomicInteger remaining = new AtomicInteger(remainingAfterProbe);
        AtomicReference<String> failure = new AtomicReference<>();
        int batch = useTransactions ? FhirRequests.BUNDLE_SIZE : 1;
        Runnable work = () -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (failure.get() == null) {
                int previous = remaining.getAndUpdate(r -> Math.max(0, r - batch));
                int n = Math.min(previous, batch);
                if (n == 0) {
                    return;
                }
                HttpRequest request = useTransactions
                        ? requests.transaction(n, random)
                        : requests.createForSetup(random);
                try {
                    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
                    if (!HttpSupport.isSuccess(response.statusCode())) {
                        failure.compareAndSet(null, HttpSupport.httpError(request, response.statusCode(),
                                response.body().getBytes(StandardCharsets.UTF_8)));
                        return;
                    }
                    if (useTransactions) {
                        ids.addAll(idsFromBundle(response.body()));
                    } else {
                        String id = idFromCreate(response);
                        if (id != null) {
                            ids.add(id);
                        }
                    }
                } catch (IOException e) {
                    failure.compareAndSet(null, HttpSupport.target(request) + ": " + HttpSupport.describe(e));
                    return;
                } catch (InterruptedException e) {
                    failure.compareAndSet(null, "interrupted");
                    return;
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, "unexpected error: " + HttpSupport.describe(e));
                    return;
                }
            }
        };

        int batches = (remainingAfterProbe + batch - 1) / batch;
        List<Thread> workers = new ArrayList<>();
        for (int i = 0; i < Math.min(threads, batches); i++) {
            workers.add(Thread.ofPlatform().name("bench-setup-" + i).start(work));
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (failure.get() != null) {
            throw new SetupException(failure.get());
        }
        err.println(String.format(Locale.ROOT, "bench: setup: created %d patients in %.1fs",
                count, (System.nanoTime() - started) / 1e9));
        return List.copyOf(ids);
    }

    private static HttpResponse<String> send(HttpClient client, HttpRequest request)
            throws SetupException, InterruptedException {
        try {
            return client.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new SetupException(HttpSupport.target(request) + ": " + HttpSupport.describe(e));
        }
    }

    /** Patient ids named by the entries of a transaction-response bundle. */
    static List<String> idsFromBundle(String body) {
        List<String> ids = new ArrayList<>();
        Matcher matcher = BUNDLE_LOCATION.matcher(body);
        while (matcher.find()) {
            ids.add(matcher.group(1));
        }
        return ids;
    }

    /** The id of a created patient, from the Location header or else from the returned resource. */
    static String idFromCreate(HttpResponse<String> response) {
        for (String header : List.of("Location", "Content-Location")) {
            String location = response.headers().firstValue(header).orElse(null);
            if (location != null) {
                Matcher matcher = HEADER_LOCATION.matcher(location);
                if (matcher.find()) {
                    return matcher.group(1);
                }
            }
        }
        Matcher matcher = BODY_ID.matcher(response.body());
        return matcher.find() ? matcher.group(1) : null;
    }
}
