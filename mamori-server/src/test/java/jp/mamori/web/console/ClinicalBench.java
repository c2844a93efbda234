package jp.mamori.web.console;

import jp.mamori.access.Caller;
import jp.mamori.demo.DemoData;
import jp.mamori.demo.DemoGenerator;
import jp.mamori.identity.Sessions;
import jp.mamori.records.BundleProcessor;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.Bundle;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * The clinician console's speed targets (issue 6), on a fresh embedded server: the chart page of a patient with
 * 5,000 observations and 300 notes, the patient search by kana over 100,000 patients, and the chart summary PDF.
 * Latency is measured at an HTTP client on loopback (an upper bound on server time), as a physician with a care
 * relationship. Not a unit test; run it when the machine is quiet:
 * <pre>./mvnw -o -q -pl mamori-server test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp mamori-server/target/test-classes:mamori-server/target/classes:$(cat mamori-server/target/cp.txt) \
 *     jp.mamori.web.console.ClinicalBench 100000 50</pre>
 * Arguments: patients for the search (default 100,000), requests per measurement (default 50).
 */
public final class ClinicalBench {
    private ClinicalBench() {
    }

    public static void main(String[] args) throws Exception {
        int patients = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 50;
        try (TestServer server = TestServer.start(List.of("--http"))) {
            var ds = server.server().database().dataSource();
            long t0 = System.nanoTime();
            new DemoData(ds, server.server().audit().recorder()).create(1, 77, new DemoGenerator.Options(5000, 300), LocalDate.now(Html.JST));
            String big = one(server, "SELECT res_id FROM resource WHERE res_type = 'Patient' LIMIT 1");
            System.out.printf("chart data: 1 patient, 5,000 observations, 300 notes in %.1f s%n",
                    (System.nanoTime() - t0) / 1e9);

            t0 = System.nanoTime();
            BundleProcessor bundles = new BundleProcessor(server.server().records());
            DemoGenerator gen = new DemoGenerator(78, new DemoGenerator.Options(1, 1), LocalDate.now(Html.JST));
            Caller system = Caller.system("bench");
            Bundle b = new Bundle().setType(Bundle.BundleType.TRANSACTION);
            for (int i = 0; i < patients; i++) {
                var patient = gen.patient(i).entries().get(0).resource();
                b.addEntry().setResource(patient).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("Patient");
                if (b.getEntry().size() == 500 || i == patients - 1) {
                    bundles.process(system, b, "bench");
                    b = new Bundle().setType(Bundle.BundleType.TRANSACTION);
                }
            }
            try (Connection c = server.superuserConnection(); var st = c.createStatement()) {
                st.execute("ANALYZE");
            }
            System.out.printf("search data: %,d patients in %.1f s%n", patients, (System.nanoTime() - t0) / 1e9);

            UUID doctor = UUID.randomUUID();
            try (Connection c = server.superuserConnection()) {
                exec(c, "INSERT INTO account (account_id, login_id, family_name, given_name, family_kana, given_kana,"
                        + " account_type, status, status_changed_at, created_at, created_by) VALUES (?, 'bench.doctor',"
                        + " '試験', '医師', 'シケン', 'イシ', 'staff', 'active', now(), now(), 'bench')", doctor);
                exec(c, "INSERT INTO role_assignment (assignment_id, account_id, role, department, scope, four_eyes,"
                        + " granted_by, granted_at, approved_by, approved_at) VALUES (?, ?, 'physician', '内科',"
                        + " 'department', false, ?, now(), ?, now())", UUID.randomUUID(), doctor, doctor, doctor);
                exec(c, "INSERT INTO care_assignment (care_id, account_id, patient_id, kind, department, valid_from,"
                        + " added_by, added_at) VALUES (?, ?, ?, 'assignment', NULL, now() - interval '1 day', ?, now())",
                        UUID.randomUUID(), doctor, big, doctor);
                // Privileges for the psychiatric label, so the demo chart shows whole.
                exec(c, "INSERT INTO sensitivity_privilege (privilege_id, account_id, label, four_eyes, granted_by,"
                        + " granted_at, approved_by, approved_at) VALUES (?, ?, 'PSY', false, ?, now(), ?, now())",
                        UUID.randomUUID(), doctor, doctor, doctor);
            } catch (java.sql.SQLException e) {
                System.out.println("(privilege not granted: " + e.getMessage() + ")");
            }
            String cookie = server.server().identity().sessions().create(doctor, Sessions.Stage.AUTHENTICATED,
                    "pwd+totp", true, "127.0.0.1", "bench", null, null);
            String origin = server.consoleOrigin();
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(10)).build();
            HttpRequest chart = HttpRequest.newBuilder(URI.create(origin + "/console/patients/" + big))
                    .header("Cookie", "mamori-session=" + cookie).GET().build();
            HttpResponse<byte[]> first = http.send(chart, HttpResponse.BodyHandlers.ofByteArray());
            System.out.printf("chart page: status %d, %,d bytes%n", first.statusCode(), first.body().length);
            report("chart page (5,000 observations, 300 notes)", measure(http, chart, runs), 300);

            String form = "csrf=" + URLEncoder.encode(Console.csrfToken(cookie), StandardCharsets.UTF_8) + "&name="
                    + URLEncoder.encode("やまだ", StandardCharsets.UTF_8);
            HttpRequest search = HttpRequest.newBuilder(URI.create(origin + "/console/patients"))
                    .header("Cookie", "mamori-session=" + cookie).header("Origin", origin)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build();
            HttpResponse<String> s1 = http.send(search, HttpResponse.BodyHandlers.ofString());
            System.out.printf("search page: status %d, %d rows%n", s1.statusCode(),
                    s1.body().split("/console/patients/", -1).length - 1);
            report("patient search by kana やまだ over " + patients + " patients (page of up to 50)",
                    measure(http, search, runs), 50);

            HttpRequest pdf = HttpRequest.newBuilder(URI.create(origin + "/console/patients/" + big + "/summary.pdf"))
                    .header("Cookie", "mamori-session=" + cookie).GET().build();
            HttpResponse<byte[]> p1 = http.send(pdf, HttpResponse.BodyHandlers.ofByteArray());
            try (var doc = org.apache.pdfbox.Loader.loadPDF(p1.body())) {
                System.out.printf("summary PDF: status %d, %,d bytes, %d pages%n", p1.statusCode(), p1.body().length,
                        doc.getNumberOfPages());
            }
            report("chart summary PDF of that patient", measure(http, pdf, Math.max(5, runs / 5)), 2000);
            System.out.println("machine load: " + java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).strip());
        }
    }

    private static long[] measure(HttpClient http, HttpRequest rq, int runs) throws Exception {
        for (int i = 0; i < 3; i++) {
            http.send(rq, HttpResponse.BodyHandlers.discarding());
        }
        long[] ms = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t = System.nanoTime();
            HttpResponse<Void> r = http.send(rq, HttpResponse.BodyHandlers.discarding());
            ms[i] = (System.nanoTime() - t) / 1_000_000;
            if (r.statusCode() != 200) {
                throw new IllegalStateException("status " + r.statusCode());
            }
        }
        Arrays.sort(ms);
        return ms;
    }

    private static void report(String what, long[] ms, long target) {
        long p50 = ms[ms.length / 2];
        long p95 = ms[Math.min(ms.length - 1, (int) Math.ceil(ms.length * 0.95) - 1)];
        System.out.printf("%s: n=%d p50 %d ms, p95 %d ms, max %d ms (target p95 <= %d ms: %s)%n", what, ms.length,
                p50, p95, ms[ms.length - 1], target, p95 <= target ? "met" : "NOT met");
    }

    private static String one(TestServer s, String sql) throws Exception {
        try (Connection c = s.superuserConnection(); PreparedStatement ps = c.prepareStatement(sql);
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void exec(Connection c, String sql, Object... params) throws java.sql.SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            ps.executeUpdate();
        }
    }
}
