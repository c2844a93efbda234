package jp.mamori.bench;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * Builds the FHIR requests of the benchmark against one base URL, each as the bytes {@link LoadClient} sends.
 * Immutable and thread-safe.
 */
final class FhirRequests {

    /** Patients per transaction bundle, in the transaction scenario and during setup. */
    static final int BUNDLE_SIZE = 100;

    /** Upper bound for one request, so a hung server cannot stall a worker past the deadline forever. */
    static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** A FHIR resource id (R4 {@code id} datatype): what may be put into a read's path. */
    private static final Pattern FHIR_ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

    private static final String FHIR_JSON = "application/fhir+json";
    private static final byte[] NO_BODY = new byte[0];

    private final String base;
    private final String token;
    private final String path;
    /** Host, Accept and Authorization lines, sent with every request. */
    private final String fields;
    private final String postFields;
    private final List<String> ids;
    /** One search per family name, prepared once: the names are few and the scenario picks them uniformly. */
    private final List<LoadClient.Request> searches;

    /**
     * @param base  FHIR base URL without a trailing slash
     * @param token bearer token, or {@code null}
     * @param ids   ids of existing patients for read requests (may be empty if no reads are made)
     * @throws IllegalArgumentException if an id is not a FHIR id
     */
    FhirRequests(String base, String token, List<String> ids) {
        this.base = base;
        this.token = token;
        URI uri = URI.create(base);
        this.path = uri.getRawPath() == null ? "" : uri.getRawPath();
        this.fields = "Host: " + LoadClient.hostHeader(uri) + "\r\nAccept: " + FHIR_JSON + "\r\n"
                + (token == null ? "" : "Authorization: Bearer " + token + "\r\n");
        this.postFields = fields + "Content-Type: " + FHIR_JSON + "\r\n";
        for (String id : ids) {
            if (!FHIR_ID.matcher(id).matches()) {
                throw new IllegalArgumentException("not a FHIR id: '" + id.substring(0, Math.min(id.length(), 70))
                        + "'");
            }
        }
        this.ids = List.copyOf(ids);
        this.searches = SyntheticPatients.familyNames().stream()
                .map(family -> get("/Patient?family=" + URLEncoder.encode(family, StandardCharsets.UTF_8)))
                .toList();
    }

    /** The same base with these ids to read; see {@link #FhirRequests}. */
    FhirRequests withIds(List<String> newIds) {
        return new FhirRequests(base, token, newIds);
    }

    /** Whether a server-assigned id may be read back by this bench (a FHIR id, nothing else). */
    static boolean isFhirId(String id) {
        return FHIR_ID.matcher(id).matches();
    }

    LoadClient.Request metadata() {
        return get("/metadata");
    }

    /** POST a new patient and ask for no body back (the measured create). */
    LoadClient.Request create(RandomGenerator random) {
        return LoadClient.Request.of("POST", path + "/Patient", postFields + "Prefer: return=minimal\r\n",
                SyntheticPatients.patient(random).getBytes(StandardCharsets.UTF_8));
    }

    /** POST a new patient with the server's default answer, so its id can be learned (setup). */
    LoadClient.Request createForSetup(RandomGenerator random) {
        return LoadClient.Request.of("POST", path + "/Patient", postFields,
                SyntheticPatients.patient(random).getBytes(StandardCharsets.UTF_8));
    }

    LoadClient.Request read(RandomGenerator random) {
        if (ids.isEmpty()) {
            throw new IllegalStateException("no patient ids to read");
        }
        return get("/Patient/" + ids.get(random.nextInt(ids.size())));
    }

    LoadClient.Request search(RandomGenerator random) {
        return searches.get(random.nextInt(searches.size()));
    }

    LoadClient.Request transaction(int count, RandomGenerator random) {
        return LoadClient.Request.of("POST", path.isEmpty() ? "/" : path, postFields,
                SyntheticPatients.transaction(count, random).getBytes(StandardCharsets.UTF_8));
    }

    private LoadClient.Request get(String relative) {
        return LoadClient.Request.of("GET", path + relative, fields, NO_BODY);
    }
}
