package jp.mamori.ssmix2;

import jp.mamori.cli.Main;
import jp.mamori.testing.Fhir;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mamori ssmix2 import|export} against a real server and PostgreSQL (issue 23): a tree the test writes in
 * ISO-2022-JP with Japanese text is imported through the record service, a second run imports nothing, bad input gets
 * one line each and the counts add up, a message is imported whole or not at all, and export → import into a fresh
 * Mamori gives the same resources.
 */
class Ssmix2ImportTest {
    record Run(int code, String out, String err) {
        List<String> lines(String outcome) {
            return out.lines().filter(l -> l.startsWith(outcome)).toList();
        }
    }

    static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(argv), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String summary(Run r) {
        return r.out().lines().filter(l -> l.startsWith("ssmix2 ")).findFirst().orElse("");
    }

    static <T extends Resource> List<T> search(TestServer s, Class<T> type, String query) {
        HttpResponse<String> r = s.get("/" + type.getSimpleName() + "?" + query + "&_count=500");
        assertEquals(200, r.statusCode(), r.body());
        Bundle b = Fhir.parse(Bundle.class, r.body());
        return b.getEntry().stream().map(e -> type.cast(e.getResource())).toList();
    }

    static String patientQuery(String patientId) {
        return "identifier=" + URLEncoder.encode(ToFhir.PATIENT_ID_SYSTEM + "|" + patientId, StandardCharsets.UTF_8);
    }

    @Test
    void aTreeInIso2022JpIsImportedThroughTheRecordStoreOnceAndBadInputIsReportedLineByLine(@TempDir Path tmp)
            throws Exception {
        TestTree tree = new TestTree(tmp.resolve("ssmix2"));
        String pid = "2300000001";
        tree.history(pid, "山田", "太郎", "ヤマダ", "タロウ", 1);
        tree.history("2300000002", "高橋", "花子", "タカハシ", "ハナコ", 2); // its ADT-00 is taken away below
        Files.delete(Files.list(tree.root().resolve("230/000/2300000002/-/ADT-00")).findFirst().orElseThrow());
        // bad input, each one line
        Path bad = tree.root();
        tree.writeBytes("2300000003", "-", "ADT-00", "-", "1", "this is not HL7\r".getBytes(StandardCharsets.US_ASCII));
        tree.writeBytes("2300000004", "-", "ADT-00", "-", "1", (TestTree.msh("ADT^A08^ADT_A01", "SJ1") + "\r"
                + TestTree.pid("2300000004") + "||佐藤^一郎^^^^^L^I\r").getBytes("Shift_JIS"));
        tree.write("2300000005", "-", "ADT-00", "-", "1", List.of(TestTree.msh("ADT^A08^ADT_A01", "U8")
                .replace("~ISO IR87", "UNICODE UTF-8"), TestTree.pid("2300000005") + "||鈴木^次郎^^^^^L^I"));
        tree.write(pid, "20240301", "XYZ-99", "1", "1", List.of(TestTree.msh("ADT^A08^ADT_A01", "X1"), TestTree.pid(pid)));
        tree.write(pid, "20240301", "ADT-22", "1", "1", List.of(TestTree.msh("ADT^A01^ADT_A01", "X2"), TestTree.pid(pid)));
        tree.write(pid, "20240302", "OMP-01", "1999", "0", List.of(TestTree.msh("RDE^O11^RDE_O11", "X3"), TestTree.pid(pid)));
        tree.omp01("2300000006", "20240105", "4001"); // no such patient
        Files.writeString(bad.resolve("230/stray.txt"), "outside the layout");
        Path misplaced = bad.resolve("230/000/" + pid + "/20240105/OMP-02");
        Files.createDirectories(misplaced);
        Files.copy(Files.list(bad.resolve("230/000/" + pid + "/20240105/OMP-01")).findFirst().orElseThrow(),
                misplaced.resolve(pid + "_20240105_OMP-01_9_20240105093000123_01_1"));
        tree.writeBytes(pid, "20240303", "OML-11", "5001", "1", new byte[(int) Ssmix2.DEFAULT_MAX_FILE_BYTES + 1]);
        Path outside = Files.writeString(tmp.resolve("secret.hl7"), TestTree.msh("ADT^A08^ADT_A01", "S") + "\r");
        Files.createDirectories(bad.resolve("230/000/" + pid + "/20240304/OML-11"));
        Files.createSymbolicLink(bad.resolve("230/000/" + pid + "/20240304/OML-11/" + pid
                + "_20240304_OML-11_6001_20240304093000000_01_1"), outside);
        Files.createSymbolicLink(bad.resolve("231"), tmp);
        // one message, two results: a correction of a final result, and a final result sent back as preliminary,
        // which the record store refuses (a finalized record cannot return to draft): neither is written
        tree.write(pid, "20240106", "OML-11", "300000101", "1", List.of(TestTree.msh("OUL^R22^OUL_R22", "HALF"),
                TestTree.pid(pid), "SPM|1|||023^血清^JHSD0002", "OBR|1|300000101||B001^生化学検査^99XYZ|||20240105083000",
                "OBX|1|NM|3D010000001926101^グルコース^JC10||120|mg/dL^mg/dL^ISO+|70-109|H|||C|||20240105083000",
                "OBX|2|NM|3B035000002327201^ＡＳＴ^JC10||50|U/L^U/L^ISO+|13-30|H|||P|||20240105083000"));

        try (TestServer s = TestServer.start(List.of())) {
            String data = s.dataDir().toString();
            Run first = run("ssmix2", "import", tree.root().toString(), "--data", data);
            assertEquals(1, first.code(), first.out() + first.err());
            // patient 1: seven messages imported; patient 2: its ADT-00 is missing, so its messages are refused
            assertEquals(7, first.lines("取込 / imported").size(), first.out());
            assertTrue(first.out().contains("ssmix2 import: ファイル 26 件: 取込 7、取込済 0、対象外 2、拒否 17"),
                    first.out());
            assertTrue(summary(first).contains("26 files: 7 imported, 0 already imported, 2 skipped, 17 refused"
                    + " (14 resources, 1 patients)"), first.out());
            List<String> refused = first.lines("拒否 / refused");
            assertEquals(17, refused.size(), first.out());
            assertRefused(refused, "2300000003_-_ADT-00", "MSH", "does not start with an MSH segment");
            assertRefused(refused, "2300000004_-_ADT-00", "-", "not ISO-2022-JP (Shift_JIS or UTF-8?)");
            assertRefused(refused, "2300000005_-_ADT-00", "MSH-18", "not ISO-2022-JP");
            assertRefused(refused, "XYZ-99", "-", "unknown data type XYZ-99");
            assertRefused(refused, "2300000006_20240105_OMP-01", "PID-3", "no patient with this ID");
            assertRefused(refused, "230/stray.txt", "-", "a file outside the tree layout");
            assertRefused(refused, "/OMP-02/" + pid + "_20240105_OMP-01", "-", "does not match its folders");
            assertRefused(refused, "20240303_OML-11", "-", "file too large: 4194305 bytes (at most 4194304)");
            assertRefused(refused, "20240304_OML-11", "-", "a symbolic link is not followed");
            assertRefused(refused, "\t231\t", "-", "a symbolic link is not followed");
            assertRefused(refused, "20240106_OML-11_300000101", null, "not accepted by the record store");
            // patient 2 has no ADT-00: each of its six messages is refused, none is written
            assertEquals(6, refused.stream().filter(l -> l.contains("2300000002_")).count(), first.out());
            assertEquals(2, first.lines("対象外 / skipped").size(), first.out());
            assertTrue(first.out().contains("data type not imported yet"), first.out());
            assertTrue(first.out().contains("withdrawn message (condition flag 0)"), first.out());

            // what was written, through the record store, as the import's system caller with its reason and tags
            List<Patient> patients = search(s, Patient.class, patientQuery(pid));
            assertEquals(1, patients.size());
            Patient p = patients.get(0);
            assertEquals("山田\u3000太郎", p.getName().get(0).getText());
            assertEquals("ヤマダ\u3000タロウ", p.getName().get(1).getText());
            assertEquals("SYL", p.getName().get(1).getExtensionByUrl(ToFhir.REPRESENTATION).getValue().primitiveValue());
            assertEquals("1980-01-02", p.getBirthDateElement().getValueAsString());
            assertEquals("東京都千代田区千代田１丁目2番", p.getAddressFirstRep().getText());
            assertTrue(p.getMeta().getTag().stream().anyMatch(t -> ToFhir.SOURCE_SYSTEM.equals(t.getSystem())
                    && t.getCode().startsWith("230/000/" + pid + "/-/ADT-00/" + pid + "_-_ADT-00_")), p.getMeta().getTag()
                    .toString());
            String subject = "patient=Patient/" + p.getIdPart();
            List<AllergyIntolerance> allergies = search(s, AllergyIntolerance.class, subject);
            assertEquals(List.of("ペニシリン系抗生物質", "卵"), allergies.stream().map(a -> a.getCode().getText()).sorted()
                    .toList());
            List<MedicationRequest> meds = search(s, MedicationRequest.class, subject);
            assertEquals(5, meds.size(), "two prescriptions of two lines and one injection; nothing of order 7001");
            assertTrue(meds.stream().anyMatch(m -> m.getMedicationCodeableConcept().getText()
                    .equals("生理食塩液５００ｍＬ") && m.getCategoryFirstRep().getCodingFirstRep().getCode().equals("OMP-02")));
            List<Observation> obs = search(s, Observation.class, subject);
            assertEquals(6, obs.size());
            assertTrue(obs.stream().anyMatch(o -> o.getCode().getText().equals("ＡＳＴ")
                    && o.getValueQuantity().getValue().intValue() == 45
                    && o.getInterpretationFirstRep().getCodingFirstRep().getCode().equals("H")));
            // nothing of the refused correction: the glucose result is as first imported, in its first version
            Observation glucose = obs.stream().filter(o -> o.getCode().getText().equals("グルコース")
                    && o.getIdentifierFirstRep().getValue().startsWith("300000101-")).findFirst().orElseThrow();
            assertEquals(98, glucose.getValueQuantity().getValue().intValue());
            assertEquals("1", glucose.getMeta().getVersionId());
            assertTrue(obs.stream().anyMatch(o -> o.hasValueStringType() && o.getValueStringType().getValue()
                    .equals("陰性")));
            try (Connection c = s.superuserConnection(); Statement st = c.createStatement()) {
                try (ResultSet rs = st.executeQuery("SELECT DISTINCT author, reason FROM resource_version"
                        + " WHERE res_type = 'MedicationRequest'")) {
                    assertTrue(rs.next());
                    assertEquals("system:ssmix2-import", rs.getString(1));
                    assertTrue(rs.getString(2).startsWith("SS-MIX2 からの移行 / migration from SS-MIX2: 230/000/"),
                            rs.getString(2));
                }
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM ssmix2_import")) {
                    rs.next();
                    assertEquals(7, rs.getLong(1));
                }
            }

            List<String> runs = trail(s, "ssmix2.import");
            assertEquals(1, runs.size(), runs.toString());
            assertTrue(runs.get(0).contains("\"imported\":\"7\"") && runs.get(0).contains("\"refused\":\"17\"")
                    && runs.get(0).contains("\"outcome\":\"error\""), runs.get(0));
            assertTrue(runs.get(0).contains("system:ssmix2-import") && runs.get(0).contains("mamori ssmix2 import（OS"),
                    "the run names the tool and who ran it: " + runs.get(0));

            // again: nothing imported twice, nothing new written
            Run second = run("ssmix2", "import", tree.root().toString(), "--data", data);
            assertEquals(1, second.code());
            assertTrue(summary(second).contains("26 files: 0 imported, 7 already imported, 2 skipped, 17 refused"
                    + " (0 resources, 0 patients)"), second.out());
            assertEquals(5, search(s, MedicationRequest.class, subject).size());
            assertEquals("1", search(s, Patient.class, patientQuery(pid)).get(0).getMeta().getVersionId());
            try (Connection c = s.superuserConnection(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT run_id) FROM ssmix2_import")) {
                rs.next();
                assertEquals(7, rs.getLong(1));
                assertEquals(1, rs.getLong(2));
            }
        }
    }

    /** The trail's entries of one action, as their JSON lines. */
    static List<String> trail(TestServer s, String action) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = s.superuserConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT convert_from(entry, 'UTF8') FROM audit_log ORDER BY seq")) {
            while (rs.next()) {
                if (rs.getString(1).contains("\"action\":\"" + action + "\"")) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static void assertRefused(List<String> refused, String file, String where, String reason) {
        assertTrue(refused.stream().anyMatch(l -> l.contains(file) && (where == null || l.split("\t")[2].equals(where))
                        && l.contains(reason)),
                "expected a refusal of " + file + " at " + where + " because " + reason + " in:\n"
                        + String.join("\n", refused));
    }

    @Test
    void aCorrectedFileGivesTheSameResourcesANewVersionAndCrlfIsAccepted(@TempDir Path tmp) throws Exception {
        TestServer s = TestServer.shared();
        String pid = "2600000001";
        TestTree tree = new TestTree(tmp.resolve("first"));
        tree.history(pid, "中村", "大輔", "ナカムラ", "ダイスケ", 5);
        assertEquals(0, run("ssmix2", "import", tree.root().toString(), "--data", s.dataDir().toString()).code());
        Patient before = search(s, Patient.class, patientQuery(pid)).get(0);
        String subject = "patient=Patient/" + before.getIdPart();
        // the old system sends a correction later: a new file (new timestamp) for the same order, segments ended by
        // CRLF, and a moved patient's new address
        TestTree later = new TestTree(tmp.resolve("later"));
        later.writeBytes(pid, "20240105", "OML-11", "300000101", "1", String.join("\r\n", List.of(
                TestTree.msh("OUL^R22^OUL_R22", "CORR1"), TestTree.pid(pid), "SPM|1|||023^血清^JHSD0002",
                "OBR|1|300000101||B001^生化学検査^99XYZ|||20240105083000",
                "OBX|1|NM|3D010000001926101^グルコース^JC10||101|mg/dL^mg/dL^ISO+|70-109|N|||C|||20240105083000"))
                .getBytes(TestTree.JIS));
        later.adt00(pid, "中村", "大輔", "ナカムラ", "ダイスケ", "19800106", "M", "大阪府大阪市北区梅田１丁目");
        Run r = run("ssmix2", "import", later.root().toString(), "--data", s.dataDir().toString());
        assertEquals(0, r.code(), r.out());
        assertTrue(summary(r).contains("2 files: 2 imported"), r.out());
        List<Patient> after = search(s, Patient.class, patientQuery(pid));
        assertEquals(1, after.size(), "the same patient, not a second one");
        assertEquals(before.getIdPart(), after.get(0).getIdPart());
        assertEquals("2", after.get(0).getMeta().getVersionId());
        assertEquals("大阪府大阪市北区梅田１丁目", after.get(0).getAddressFirstRep().getText());
        List<Observation> obs = search(s, Observation.class, subject);
        assertEquals(6, obs.size(), "the corrected result is the same resource");
        Observation glucose = obs.stream().filter(o -> o.getIdentifierFirstRep().getValue()
                .equals("300000101-3D010000001926101")).findFirst().orElseThrow();
        assertEquals("2", glucose.getMeta().getVersionId());
        assertEquals(101, glucose.getValueQuantity().getValue().intValue());
        assertEquals(Observation.ObservationStatus.CORRECTED, glucose.getStatus());

        // a second patient with the same 患者ID (entered by hand meanwhile): the import does not guess which
        HttpResponse<String> twin = s.post("/Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\""
                + ToFhir.PATIENT_ID_SYSTEM + "\",\"value\":\"" + pid + "\"}]}");
        assertEquals(201, twin.statusCode(), twin.body());
        TestTree third = new TestTree(tmp.resolve("third"));
        third.omp02(pid, "20240301", "2000000199");
        Run dup = run("ssmix2", "import", third.root().toString(), "--data", s.dataDir().toString());
        assertEquals(1, dup.code(), dup.out());
        assertRefused(dup.lines("拒否 / refused"), "OMP-02_2000000199", "PID-3", "several patients in Mamori");
    }

    @Test
    void usageErrorsAreOneLineAndExitTwo() {
        for (String[] argv : List.of(new String[]{"ssmix2"}, new String[]{"ssmix2", "import"},
                new String[]{"ssmix2", "merge", "x"},
                new String[]{"ssmix2", "import", "target/no-such-tree", "--data", "target/none"},
                new String[]{"ssmix2", "import", ".", "--data", "target/none", "--max-file-bytes", "-3"})) {
            Run r = run(argv);
            assertEquals(2, r.code(), String.join(" ", argv) + ": " + r.err());
            assertTrue(r.err().lines().findFirst().orElse("").startsWith("mamori ssmix2"), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
        }
    }

    @Test
    void exportedTreeImportsIntoAFreshMamoriAsTheSameResources(@TempDir Path tmp) throws Exception {
        TestTree tree = new TestTree(tmp.resolve("in"));
        tree.history("2400000001", "佐藤", "健一", "サトウ", "ケンイチ", 3);
        tree.history("2400000002", "渡辺", "美咲", "ワタナベ", "ミサキ", 4);
        Path out = tmp.resolve("out");
        List<String> before;
        try (TestServer s = TestServer.start(List.of())) {
            Run in = run("ssmix2", "import", tree.root().toString(), "--data", s.dataDir().toString());
            assertEquals(0, in.code(), in.out() + in.err());
            before = meaningful(s, List.of("2400000001", "2400000002"));
            Run ex = run("ssmix2", "export", out.toString(), "--data", s.dataDir().toString());
            assertEquals(0, ex.code(), ex.out() + ex.err());
            assertTrue(summary(ex).contains("14 files: 14 exported, 0 refused (28 resources, 2 patients)"), ex.out());
            assertEquals(14, ex.lines("出力 / exported").size(), ex.out());
            // whose records left: one entry per patient naming the patient, and one for the run
            Patient exported = search(s, Patient.class, patientQuery("2400000001")).get(0);
            assertEquals(List.of("patient", "patient", "run"), trail(s, "ssmix2.export").stream()
                    .map(e -> e.contains("\"patient\":[\"") ? "patient" : "run").sorted().toList());
            assertTrue(trail(s, "ssmix2.export").stream().anyMatch(e -> e.contains(exported.getIdPart())
                    && e.contains("\"files\":\"7\"")), trail(s, "ssmix2.export").toString());
            Run again = run("ssmix2", "export", out.toString(), "--data", s.dataDir().toString());
            assertEquals(2, again.code(), "export never writes into a folder that is not empty: " + again.err());
        }
        // the exported files: layout, names, ISO-2022-JP with the JIS X 0208 escape, no 8-bit byte
        List<Path> files;
        try (Stream<Path> w = Files.walk(out)) {
            files = w.filter(Files::isRegularFile).toList();
        }
        assertEquals(14, files.size());
        for (Path f : files) {
            String rel = out.relativize(f).toString();
            assertTrue(rel.matches("240/00\\d/240000000\\d/(-|\\d{8})/(ADT-00|ADT-61|OMP-01|OMP-02|OML-11)/"
                    + "240000000\\d_(-|\\d{8})_[A-Z]{3}-\\d{2}_[0-9A-Za-z-]+_\\d{17}_-_1"), rel);
            byte[] b = Files.readAllBytes(f);
            for (byte x : b) {
                assertTrue((x & 0x80) == 0, rel);
            }
            String text = new String(b, TestTree.JIS);
            assertTrue(text.startsWith("MSH|^~\\&|"), rel);
            assertTrue(text.contains("|~ISO IR87||ISO 2022-1994"), text);
        }
        String adt = new String(Files.readAllBytes(files.stream().filter(f -> f.toString().contains("2400000001_-_ADT-00"))
                .findFirst().orElseThrow()), TestTree.JIS);
        assertTrue(adt.contains("佐藤^健一^^^^^L^I~サトウ^ケンイチ^^^^^L^P"), adt);
        try (TestServer fresh = TestServer.start(List.of())) {
            Run in = run("ssmix2", "import", out.toString(), "--data", fresh.dataDir().toString());
            assertEquals(0, in.code(), in.out() + in.err());
            assertTrue(summary(in).contains("14 files: 14 imported"), in.out());
            List<String> after = meaningful(fresh, List.of("2400000001", "2400000002"));
            assertEquals(before.size(), after.size());
            for (int i = 0; i < before.size(); i++) {
                assertEquals(before.get(i), after.get(i));
            }
        }
    }

    /** Every resource of the patients as JSON without meta (versions, times, source tags): ids are derived, so equal. */
    static List<String> meaningful(TestServer s, List<String> patientIds) {
        TreeSet<String> out = new TreeSet<>();
        for (String pid : patientIds) {
            Patient p = search(s, Patient.class, patientQuery(pid)).get(0);
            List<Resource> all = new ArrayList<>();
            all.add(p);
            String subject = "patient=Patient/" + p.getIdPart();
            all.addAll(search(s, AllergyIntolerance.class, subject));
            all.addAll(search(s, MedicationRequest.class, subject));
            all.addAll(search(s, Observation.class, subject));
            for (Resource r : all) {
                r.setMeta(null);
                r.setId(r.getIdElement().toUnqualifiedVersionless());
                out.add(Fhir.json(r));
            }
        }
        assertEquals(2 + 4 + 10 + 12, out.size(), out.stream().collect(Collectors.joining("\n")));
        return new ArrayList<>(out);
    }
}
