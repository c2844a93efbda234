package jp.mamori.bench;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.random.RandomGenerator;

/** Builds the FHIR requests of the benchmark against one base URL. Immutable and thread-safe. */
final class FhirRequests {

    /** Patients per transaction bundle, in the transaction scenario and during setup. */
    static final int BUNDLE_SIZE = 100;

    /** Upper bound for one request, so a hung server cannot stall a worker past the deadline forever. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final String FHIR_JSON = "application/fhir+json";

    private final String base;
    private final String token;
    private final String authorization;
    private final List<String> ids;

    /**
     * @param base  FHIR base URL without a trailing slash
     * @param token bearer token, or {@code null}
     * @param ids   ids of existing patients for read requests (may be empty if no reads are made)
     */
    FhirRequests(String base, String token, List<String> ids) {
        this.base = base;
        this.token = token;
        this.authorization = token == null ? null : "Bearer " + token;
        this.ids = List.copyOf(ids);
    }

    FhirRequests withIds(List<String> newIds) {
        return new FhirRequests(base, token, newIds);
    }

    HttpRequest metadata() {
        return builder(base + "/metadata").GET().build();
    }

    /** POST a new patient and ask for no body back (the measured create). */
    HttpRequest create(RandomGenerator random) {
        return builder(base + "/Patient")
                .header("Content-Type", FHIR_JSON)
                .header("Prefer", "return=minimal")
                .POST(HttpRequest.BodyPublishers.ofString(SyntheticPatients.patient(random)))
                .build();
    }

    /** POST a new patient with the server's default answer, so its id can be learned (setup). */
    HttpRequest createForSetup(RandomGenerator random) {
        return builder(base + "/Patient")
                .header("Content-Type", FHIR_JSON)
                .POST(HttpRequest.BodyPublishers.ofString(SyntheticPatients.patient(random)))
                .build();
    }

    HttpRequest read(RandomGenerator random) {
        if (ids.isEmpty()) {
            throw new IllegalStateException("no patient ids to read");
        }
        return builder(base + "/Patient/" + ids.get(random.nextInt(ids.size()))).GET().build();
    }

    HttpRequest search(RandomGenerator random) {
        String family = URLEncoder.encode(SyntheticPatients.randomFamilyName(random), StandardCharsets.UTF_8);
        return builder(base + "/Patient?family=" + family).GET().build();
    }

    HttpRequest transaction(int count, RandomGenerator random) {
        return builder(base)
                .header("Content-Type", FHIR_JSON)
                .POST(HttpRequest.BodyPublishers.ofString(SyntheticPatients.transaction(count, random)))
                .build();
    }

    private HttpRequest.Builder builder(String url) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url))
                .timeout(TIMEOUT)
                .header("Accept", FHIR_JSON);
        if (authorization != null) {
            builder.header("Authorization", authorization);
        }
        return builder;
    }
}
