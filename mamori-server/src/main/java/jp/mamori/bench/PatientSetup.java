package jp.mamori.bench;

import java.io.IOException;
import java.io.PrintStream;
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
 * Work is spread over as many threads as the benchmark's concurrency, each with its own connection. The ids the
 * server names must be FHIR ids (they go into the reads' paths): another answer fails the setup.
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
     *
     * @throws SetupException with one line when a request fails or the server names an id that is not a FHIR id
     */
    static List<String> createPatients(LoadClient client, FhirRequests requests, int count, int threads,
                                       PrintStream err) throws SetupException, InterruptedException {
        long started = System.nanoTime();
        err.println("bench: setup: creating " + count + " patients");
        List<String> ids = Collections.synchronizedList(new ArrayList<>(count));

        // The first transaction decides whether the server supports them.
        int first = Math.min(FhirRequests.BUNDLE_SIZE, count);
        LoadClient.Request probe = requests.transaction(first, ThreadLocalRandom.current());
        LoadClient.Response answer;
        try (LoadClient.Connection connection = client.connection()) {
            answer = connection.send(probe, true);
        } catch (IOException e) {
            throw new SetupException(HttpSupport.target(probe) + ": " + HttpSupport.describe(e));
        }
        boolean useTransactions = HttpSupport.isSuccess(answer.status());
        int remainingAfterProbe = count;
        if (useTransactions) {
            List<String> named = idsFromBundle(text(answer));
            String bad = firstNonFhirId(named);
            if (bad != null) {
                throw new SetupException(notAnId(probe, bad));
            }
            ids.addAll(named);
            remainingAfterProbe -= first;
        } else {
            err.println("bench: setup: the server answered HTTP " + answer.status()
                    + " to a transaction bundle; creating patients one by one");
        }

        AtomicInteger remaining = new AtomicInteger(remainingAfterProbe);
        AtomicReference<String> failure = new AtomicReference<>();
        int batch = useTransactions ? FhirRequests.BUNDLE_SIZE : 1;
        Runnable work = () -> {
            try (LoadClient.Connection connection = client.connection()) {
                createAll(connection, requests, useTransactions, remaining, ids, failure);
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

    /** One setup thread: takes batches until none remain or some thread failed (the first failure is kept). */
    private static void createAll(LoadClient.Connection connection, FhirRequests requests, boolean useTransactions,
                                  AtomicInteger remaining, List<String> ids, AtomicReference<String> failure) {
        int batch = useTransactions ? FhirRequests.BUNDLE_SIZE : 1;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (failure.get() == null) {
            int previous = remaining.getAndUpdate(r -> Math.max(0, r - batch));
            int n = Math.min(previous, batch);
            if (n == 0) {
                return;
            }
            LoadClient.Request request = useTransactions
                    ? requests.transaction(n, random)
                    : requests.createForSetup(random);
            try {
                LoadClient.Response response = connection.send(request, true);
                if (!HttpSupport.isSuccess(response.status())) {
                    failure.compareAndSet(null, HttpSupport.httpError(request, response.status(), response.body()));
                    return;
                }
                List<String> named;
                if (useTransactions) {
                    named = idsFromBundle(text(response));
                } else {
                    String id = idFromCreate(response);
                    named = id == null ? List.of() : List.of(id);
                }
                String bad = firstNonFhirId(named);
                if (bad != null) {
                    failure.compareAndSet(null, notAnId(request, bad));
                    return;
                }
                ids.addAll(named);
            } catch (IOException e) {
                failure.compareAndSet(null, HttpSupport.target(request) + ": " + HttpSupport.describe(e));
                return;
            } catch (RuntimeException e) {
                failure.compareAndSet(null, "unexpected error: " + HttpSupport.describe(e));
                return;
            }
        }
    }

    private static String firstNonFhirId(List<String> ids) {
        return ids.stream().filter(id -> !FhirRequests.isFhirId(id)).findFirst().orElse(null);
    }

    private static String notAnId(LoadClient.Request request, String id) {
        String shown = (id.length() > 70 ? id.substring(0, 70) + "…" : id).replaceAll("\\p{Cntrl}", "?");
        return HttpSupport.target(request) + ": サーバーが FHIR の id でない患者 id を返しました / the server named a"
                + " patient id that is not a FHIR id: '" + shown + "'";
    }

    private static String text(LoadClient.Response response) {
        return new String(response.body(), StandardCharsets.UTF_8);
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
    static String idFromCreate(LoadClient.Response response) {
        for (String header : List.of("Location", "Content-Location")) {
            String location = response.header(header);
            if (location != null) {
                Matcher matcher = HEADER_LOCATION.matcher(location);
                if (matcher.find()) {
                    return matcher.group(1);
                }
            }
        }
        Matcher matcher = BODY_ID.matcher(text(response));
        return matcher.find() ? matcher.group(1) : null;
    }
}
