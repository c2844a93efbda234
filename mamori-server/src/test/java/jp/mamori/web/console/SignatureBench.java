package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.identity.Scope;
import jp.mamori.db.Tx;
import jp.mamori.identity.Sessions;
import jp.mamori.records.RecordService;
import jp.mamori.signatures.DocumentSigning;
import jp.mamori.signatures.SignatureCheck;
import jp.mamori.signatures.SignatureSetup;
import jp.mamori.signatures.SignatureUpkeep;
import jp.mamori.signatures.SignerKey;
import jp.mamori.signatures.Signatures;
import jp.mamori.signatures.SigningKeyRegistry;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import jp.mamori.testing.pki.TestPki;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;

import javax.sql.DataSource;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The signature targets of issue 17, on a real server (TestServer with {@code --signature-trust-dir} and
 * {@code --signature-tsa-url}) and the test PKI on loopback (TSA, OCSP, CRL), a software (PKCS#12) key:
 * <ol>
 *   <li>確定保存 + sign + time-stamp as the console does it: POST /console/notes/save op=finalize with the PIN, by a
 *       doctor with a key, and the same finalization by a doctor without a key, alternately in the same run (the
 *       machine is shared: the cost of signing is the ratio measured side by side). Latency at an HTTP client on
 *       loopback, up to the 303 that ends the finalization (the page it leads to is not counted);</li>
 *   <li>verification of the signed versions ({@link SignatureCheck#checkAll}, what {@code mamori verify-signatures}
 *       runs), after filling them up to {@code verify} with DocumentSigning directly on several threads;</li>
 *   <li>LTA extension of all of them ({@link SignatureUpkeep#runOnce}, the scheduled job).</li>
 * </ol>
 * Not a unit test (it is test code because the PKI is); run it when the machine is quiet:
 * <pre>./mvnw -o -q -pl mamori-server -am test-compile
 * ./mvnw -o -q -pl mamori-server dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper=ALL-UNNAMED -Xmx2g \
 *     -cp mamori-server/target/test-classes:mamori-server/target/classes:$(cat mamori-server/target/cp.txt) \
 *     jp.mamori.web.console.SignatureBench 300 10000</pre>
 * Arguments: finalizations per arm (default 300), signed versions to verify and extend (default 10,000).
 */
public final class SignatureBench {
    private static final String PIN = "5173-2468";
    private static final Clock CLOCK = Clock.systemUTC();

    private SignatureBench() {
    }

    public static void main(String[] args) throws Exception {
        int finalizations = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int verify = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
        System.out.println("machine: " + Runtime.getRuntime().availableProcessors() + " cores, load "
                + Files.readString(Path.of("/proc/loadavg")).strip() + ", Java " + Runtime.version());
        TestPki pki = TestPki.get();
        Path trust = pki.trustDir();
        try (TestServer server = TestServer.start(List.of("--signature-trust-dir", trust.toString(),
                "--signature-tsa-url", pki.tsaUrl().toString()))) {
            // the bench runs the upkeep itself, timed: the server's own timer would start it a minute after start
            server.server().signatureUpkeep().close();
            DataSource ds = server.server().database().dataSource();
            RecordService records = server.server().records();
            String patient = patient(records);
            UUID signer = account(server, "bench.signer", "署名", "一郎", patient);
            UUID plain = account(server, "bench.plain", "無署", "二郎", patient);
            Path keys = TestData.newFolder("bench-keys-");
            Files.createDirectories(keys);
            Path p12 = pki.signer("署名 一郎", "Medical Doctor").writePkcs12(keys.resolve("signer.p12"),
                    PIN.toCharArray());
            SigningKeyRegistry.Registered registered;
            try (SignerKey k = jp.mamori.signatures.SignerKeys.pkcs12(p12, PIN.toCharArray())) {
                registered = Tx.inTransaction(ds, c -> SigningKeyRegistry.register(c, signer, "pkcs12",
                        p12.toString(), k.certificate(), "bench", CLOCK.instant()));
            }

            ConsoleClient console = new ConsoleClient(server, signer, plain);
            for (int i = 0; i < 10; i++) { // warm-up, both arms
                console.finalizeNote(patient, true);
                console.finalizeNote(patient, false);
            }
            long[] signed = new long[finalizations];
            long[] unsigned = new long[finalizations];
            for (int i = 0; i < finalizations; i++) {
                if (i % 2 == 0) {
                    signed[i] = console.finalizeNote(patient, true);
                    unsigned[i] = console.finalizeNote(patient, false);
                } else {
                    unsigned[i] = console.finalizeNote(patient, false);
                    signed[i] = console.finalizeNote(patient, true);
                }
            }
            Arrays.sort(signed);
            Arrays.sort(unsigned);
            long bt = count(ds, "SELECT count(*) FROM document_signature WHERE level = 'B-T'");
            System.out.printf("finalize + sign + time-stamp (console, PKCS#12): n=%d p50 %.1f ms, p95 %.1f ms, max %.1f"
                    + " ms (target p95 <= 150 ms: %s); %d signatures at B-T%n", finalizations, ms(p(signed, 50)),
                    ms(p(signed, 95)), ms(signed[finalizations - 1]), p(signed, 95) <= 150_000_000L ? "met" : "NOT met",
                    bt);
            System.out.printf("finalize without a key (same run, alternately): n=%d p50 %.1f ms, p95 %.1f ms, max %.1f"
                    + " ms; signing costs x%.2f at p50, x%.2f at p95 (+%.1f ms at p50)%n", finalizations,
                    ms(p(unsigned, 50)), ms(p(unsigned, 95)), ms(unsigned[finalizations - 1]),
                    (double) p(signed, 50) / p(unsigned, 50), (double) p(signed, 95) / p(unsigned, 95),
                    ms(p(signed, 50) - p(unsigned, 50)));

            // fill up to `verify` signed versions, DocumentSigning directly on several threads
            long have = count(ds, "SELECT count(*) FROM document_signature");
            int more = (int) Math.max(0, verify - have);
            long t0 = System.nanoTime();
            fill(records, registered, signer, patient, p12, more, 4);
            System.out.printf("made %,d more signed versions (4 threads) in %.1f s%n", more,
                    (System.nanoTime() - t0) / 1e9);
            long total = count(ds, "SELECT count(*) FROM document_signature");

            Signatures signatures = new Signatures(SignatureSetup.settings(server.server().config().signatures())
                    .orElseThrow());
            SignatureCheck check = new SignatureCheck(ds, records, signatures, CLOCK);
            AtomicInteger failed = new AtomicInteger();
            t0 = System.nanoTime();
            long[] counts = check.checkAll(r -> true, k -> {
                if (!k.passed() && failed.getAndIncrement() < 3) {
                    System.out.println("  not valid: " + k.row().ref() + " " + k.reason());
                }
            });
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("verify %,d signed versions (checkAll, B-T): %.1f s, %.2f ms per signature, %d valid,"
                    + " %d not (target <= 60 s for 10,000: %s)%n", total, secs, secs * 1000 / total, counts[0],
                    counts[1], secs * 10_000 / total <= 60 ? "met" : "NOT met");

            t0 = System.nanoTime();
            SignatureUpkeep.Run run = server.server().signatureUpkeep().runOnce();
            secs = (System.nanoTime() - t0) / 1e9;
            long lta = count(ds, "SELECT count(*) FROM document_signature WHERE level = 'LTA'");
            System.out.printf("extend %,d to LTA (upkeep runOnce): %.1f s, %.2f ms per signature, %s; %,d at LTA"
                    + " (target <= 300 s for 10,000: %s)%n", total, secs, secs * 1000 / total, run, lta,
                    secs * 10_000 / total <= 300 ? "met" : "NOT met");

            t0 = System.nanoTime();
            counts = check.checkAll(r -> true, k -> {
            });
            secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("verify %,d LTA signatures: %.1f s, %.2f ms per signature, %d valid, %d not%n", total,
                    secs, secs * 1000 / total, counts[0], counts[1]);
            System.out.println("machine load at the end: " + Files.readString(Path.of("/proc/loadavg")).strip());
        }
        System.exit(0); // the test PKI's HTTP server does not end by itself
    }

    /** The console as two doctors' browsers use it: a draft, then 確定保存 (timed) on that draft. */
    private static final class ConsoleClient {
        private final HttpClient http;
        private final String origin;
        private final String[] cookies = new String[2];
        private final String cookieName;

        ConsoleClient(TestServer server, UUID signer, UUID plain) {
            this.http = server.httpClient();
            this.origin = server.base().replaceFirst("/fhir$", "");
            this.cookieName = origin.startsWith("https:") ? "__Host-mamori-session" : "mamori-session";
            Sessions sessions = server.server().identity().sessions();
            cookies[0] = sessions.create(signer, Sessions.Stage.AUTHENTICATED, "pwd+totp", true, "127.0.0.1", "bench",
                    null, null);
            cookies[1] = sessions.create(plain, Sessions.Stage.AUTHENTICATED, "pwd+totp", true, "127.0.0.1", "bench",
                    null, null);
        }

        /** Writes a draft, then finalizes it; returns the nanoseconds of the finalization. */
        long finalizeNote(String patient, boolean withKey) throws Exception {
            String cookie = cookies[withKey ? 0 : 1];
            HttpResponse<String> draft = post(cookie, "patient", patient, "id", "", "s", "胸痛なし。", "o",
                    "BP 128/76", "a", "高血圧症", "p", "降圧薬継続", "op", "draft");
            String location = draft.headers().firstValue("Location").orElseThrow(() -> new IllegalStateException(
                    "draft: status " + draft.statusCode() + " " + draft.body()));
            String id = location.substring(location.lastIndexOf('/') + 1);
            long t = System.nanoTime();
            HttpResponse<String> done = post(cookie, "patient", patient, "id", id, "base", "1", "s", "胸痛なし。", "o",
                    "BP 128/76", "a", "高血圧症", "p", "降圧薬継続", "op", "finalize", "pin", withKey ? PIN : "");
            long took = System.nanoTime() - t;
            if (done.statusCode() != 303) {
                throw new IllegalStateException("finalize: status " + done.statusCode() + " " + done.body());
            }
            return took;
        }

        private HttpResponse<String> post(String cookie, String... fields) throws Exception {
            StringBuilder form = new StringBuilder("csrf=").append(enc(jp.mamori.web.console.Console.csrfToken(
                    cookie)));
            for (int i = 0; i < fields.length; i += 2) {
                form.append('&').append(fields[i]).append('=').append(enc(fields[i + 1]));
            }
            HttpRequest rq = HttpRequest.newBuilder(URI.create(origin + "/console/notes/save"))
                    .header("Cookie", cookieName + "=" + cookie).header("Origin", origin)
                    .header("Sec-Fetch-Site", "same-origin").header("Referer", origin + "/console/home")
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form.toString())).build();
            return http.send(rq, HttpResponse.BodyHandlers.ofString());
        }
    }

    /** Signed final notes written straight through the record service with the signer's key, on threads. */
    private static void fill(RecordService records, SigningKeyRegistry.Registered registered, UUID signer,
                             String patient, Path p12, int count, int threads) throws Exception {
        if (count == 0) {
            return;
        }
        // the author is the doctor's account, as DocumentSigning requires; the access check is a system scope's (the
        // bench measures signing, not the care-relationship check the console part already went through)
        Caller author = new Caller("account:" + signer, "署名 一郎", Set.of(Scope.parse("system/*.*")), "127.0.0.1");
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                done.add(pool.submit(() -> {
                    try (SignerKey key = jp.mamori.signatures.SignerKeys.pkcs12(p12, PIN.toCharArray())) {
                        DocumentSigning.Signer s = new DocumentSigning.Signer(signer, registered, key);
                        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
                            Composition c = note(patient, signer, i);
                            DocumentSigning.within(s, () -> records.create(author, c, null, null));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static Composition note(String patient, UUID author, int i) {
        Composition c = new Composition();
        c.setStatus(Composition.CompositionStatus.FINAL);
        c.setType(new CodeableConcept().addCoding(new Coding("http://loinc.org", "11506-3", "Progress note")));
        c.setSubject(new Reference("Patient/" + patient));
        c.setDate(Date.from(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)));
        c.setTitle("経過記録 " + i);
        c.addAuthor().setDisplay("署名 一郎").setIdentifier(new org.hl7.fhir.r4.model.Identifier()
                .setSystem("urn:mamori:account").setValue(author.toString()));
        Narrative n = new Narrative();
        n.setStatus(Narrative.NarrativeStatus.GENERATED);
        n.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">胸痛なし。経過良好 " + i + "</div>");
        c.addSection().setTitle("S").setCode(new CodeableConcept().addCoding(new Coding("http://loinc.org",
                "61150-9", null))).setText(n);
        return c;
    }

    private static String patient(RecordService records) {
        Patient p = new Patient();
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.1").setValue("9000017001");
        p.addName().setFamily("測定").addGiven("太郎").setText("測定\u3000太郎");
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType("1970-01-01"));
        return records.create(Caller.system("bench"), p, null, null).stored().id();
    }

    /** A physician (qualification recorded, so the certificate's 医師 matches) with a care relationship. */
    private static UUID account(TestServer server, String login, String family, String given, String patient)
            throws Exception {
        UUID id = UUID.randomUUID();
        try (Connection c = server.superuserConnection()) {
            exec(c, "INSERT INTO account (account_id, login_id, family_name, given_name, family_kana, given_kana,"
                    + " account_type, status, status_changed_at, created_at, created_by) VALUES (?, ?, ?, ?, 'ソクテイ',"
                    + " 'イシ', 'staff', 'active', now(), now(), 'bench')", id, login, family, given);
            exec(c, "INSERT INTO account_qualification (account_id, qualification, licence_number) VALUES (?,"
                    + " 'physician', ?)", id, login);
            exec(c, "INSERT INTO role_assignment (assignment_id, account_id, role, department, scope, four_eyes,"
                    + " granted_by, granted_at, approved_by, approved_at) VALUES (?, ?, 'physician', '内科',"
                    + " 'department', false, ?, now(), ?, now())", UUID.randomUUID(), id, id, id);
            exec(c, "INSERT INTO care_assignment (care_id, account_id, patient_id, kind, department, valid_from,"
                    + " added_by, added_at) VALUES (?, ?, ?, 'assignment', NULL, now() - interval '1 day', ?, now())",
                    UUID.randomUUID(), id, patient, id);
        }
        return id;
    }

    private static void exec(Connection c, String sql, Object... args) throws Exception {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private static long count(DataSource ds, String sql) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private static long p(long[] sorted, int percent) {
        int rank = (int) Math.ceil(percent * sorted.length / 100.0);
        return sorted[Math.max(0, Math.min(sorted.length, rank) - 1)];
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
