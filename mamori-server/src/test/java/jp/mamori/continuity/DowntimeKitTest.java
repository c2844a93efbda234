package jp.mamori.continuity;

import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.config.ServerConfig;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.apache.pdfbox.Loader;
import org.apache.pdfbox.pdmodel.PDDocument;
import org.apache.pdfbox.pdmodel.encryption.InvalidPasswordException;
import org.apache.pdfbox.text.PDFTextStripper;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The downtime kit (issue 18 §3; BACKUP-12): per ward, an AES-256 encrypted PDF that opens with the ward's password
 * alone and holds each patient's name, 患者ID, allergy and current medication; without the password it does not
 * open; generations are pruned; one audit entry names the patients and files; a ward without a password gets no
 * file and counts as a deviation; a hostile ward name cannot leave the folder.
 */
class DowntimeKitTest {
    private static final Caller WRITER = Caller.system("test-kit");
    private static final ZoneId JST = ZoneId.of("Asia/Tokyo");
    private static TestServer server;
    private static Path dir;
    private static final String WARD = "東3病棟-" + UUID.randomUUID().toString().substring(0, 4);
    private static final String PASSWORD = "ward-leader-secret-東3";
    private static final List<String> patientIds = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        dir = TestData.newFolder("downtime-kit-");
        server = TestServer.start(List.of("--downtime-dir", dir.toString()));
        patientIds.add(inpatient("山田", "花子", "ヤマダ", "ハナコ", "KIT-0001", WARD, "ペニシリン", "ワーファリン錠1mg 1日1回"));
        patientIds.add(inpatient("鈴木", "一郎", "スズキ", "イチロウ", "KIT-0002", WARD, "卵", "アムロジピン錠5mg 1日1回"));
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static String inpatient(String family, String given, String familyKana, String givenKana, String pid,
                                    String ward, String allergen, String drug) {
        return KitPatients.inpatient(server.server().records(), family, given, familyKana, givenKana, pid, ward,
                allergen, drug);
    }

    private static DowntimeKit kit(Clock clock, int generations) {
        var s = server.server();
        return new DowntimeKit(s.database().dataSource(), s.records(), new jp.mamori.records.EncounterCare(),
                s.audit().recorder(), DowntimeKit.sealer(s.config().dataDir()),
                new ServerConfig.DowntimeOptions(60, dir, generations), JST, clock, "テスト病院");
    }

    private static List<Path> filesOf(String ward) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(DowntimeKit.safeName(ward) + "-")).sorted()
                    .toList();
        }
    }

    private static String text(byte[] pdf, String password) throws Exception {
        try (PDDocument d = Loader.loadPDF(pdf, password)) {
            assertTrue(d.isEncrypted(), "the file is encrypted");
            assertEquals(256, d.getEncryption().getLength(), "with a 256-bit key");
            return new PDFTextStripper().getText(d);
        }
    }

    @Test
    void theWardsKitOpensWithItsPasswordAndHoldsEachPatientButNotWithout() throws Exception {
        DowntimeKit kit = server.server().downtimeKit();
        kit.setPassword(WARD, PASSWORD, Actor.server("test"));
        DowntimeKit.Generation g = kit.generate(Actor.server("test"));
        DowntimeKit.File f = g.files().stream().filter(x -> x.place().equals(WARD)).findFirst().orElseThrow();
        assertTrue(f.patients().containsAll(patientIds), "both inpatients are in the ward's file: " + f);
        Path file = dir.resolve(f.name());
        assertTrue(f.name().matches(java.util.regex.Pattern.quote(WARD) + "-\\d{8}-\\d{4}\\.pdf"), f.name());
        byte[] pdf = Files.readAllBytes(file);
        String text = text(pdf, PASSWORD);
        for (String s : List.of("山田　花子", "ヤマダ　ハナコ", "KIT-0001", "ペニシリン", "ワーファリン錠1mg", "鈴木　一郎",
                "KIT-0002", "卵", "アムロジピン錠5mg", WARD, "入院中")) {
            assertTrue(text.contains(s), () -> "the kit reads " + s + ": " + text);
        }
        assertThrows(InvalidPasswordException.class, () -> Loader.loadPDF(pdf).close(), "no password: refused");
        assertThrows(InvalidPasswordException.class, () -> Loader.loadPDF(pdf, "wrong-password-123").close());
        assertFalse(new String(pdf, java.nio.charset.StandardCharsets.ISO_8859_1).contains("KIT-0001"),
                "no patient text in the clear");

        // ONE audit entry for the generation naming the patients, the file and its purpose
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT patients, purpose, action, actor, entry FROM audit_entry WHERE seq = ?")) {
            ps.setLong(1, g.auditSeq());
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                Set<Object> named = Set.of((Object[]) ((Array) rs.getArray(1)).getArray());
                assertTrue(named.containsAll(patientIds), "the entry names the patients: " + named);
                assertEquals("continuity", rs.getString(2));
                assertEquals("export", rs.getString(3));
                assertEquals("system:test", rs.getString(4));
                String entry = new String(rs.getBytes(5), java.nio.charset.StandardCharsets.UTF_8);
                assertTrue(entry.contains(f.name()) && entry.contains(patientIds.get(0)),
                        "which patients went into which file: " + entry);
                assertFalse(entry.contains(PASSWORD), "never the password");
            }
        }
        DowntimeKit.Place place = kit.places().stream().filter(p -> p.name().equals(WARD)).findFirst().orElseThrow();
        assertTrue(place.hasPassword() && !place.stale() && !place.deviation() && place.lastCount() == 2, place::toString);
        assertEquals(f.name(), place.lastFile());
        // the password is stored sealed, never in the clear
        try (Connection c = server.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT sealed_password FROM downtime_kit WHERE place = ?")) {
            ps.setString(1, WARD);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertFalse(new String(rs.getBytes(1), java.nio.charset.StandardCharsets.ISO_8859_1)
                        .contains("ward-leader"), "sealed");
            }
        }
    }

    @Test
    void generationsArePrunedToTheNewestFewAndAStaleKitIsADeviation() throws Exception {
        String ward = "西5病棟-" + UUID.randomUUID().toString().substring(0, 4);
        inpatient("佐藤", "次郎", "サトウ", "ジロウ", "KIT-0003", ward, "そば", "ロキソプロフェン錠60mg");
        AtomicReference<Instant> now = new AtomicReference<>(Instant.now());
        Clock clock = new Clock() {
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            public Clock withZone(ZoneId z) {
                return this;
            }

            public Instant instant() {
                return now.get();
            }
        };
        DowntimeKit kit = kit(clock, 2);
        kit.setPassword(ward, "another-ward-secret", Actor.server("test"));
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            names.add(kit.generate(Actor.server("test")).files().stream().filter(f -> f.place().equals(ward))
                    .findFirst().orElseThrow().name());
            now.set(now.get().plus(Duration.ofMinutes(1)));
        }
        assertEquals(4, Set.copyOf(names).size(), "one file per minute: " + names);
        List<String> kept = filesOf(ward).stream().map(p -> p.getFileName().toString()).toList();
        assertEquals(names.subList(2, 4), kept, "the newest two are kept");
        // three hours later without a new kit: stale, a deviation
        now.set(now.get().plus(Duration.ofHours(3)));
        DowntimeKit.Place p = kit.places().stream().filter(x -> x.name().equals(ward)).findFirst().orElseThrow();
        assertTrue(p.stale() && p.deviation(), p::toString);
        assertTrue(kit.deviationCount() >= 1);
    }

    @Test
    void aWardWithoutAPasswordGetsNoFileAndIsADeviation() throws Exception {
        String ward = "北2病棟-" + UUID.randomUUID().toString().substring(0, 4);
        inpatient("高橋", "三郎", "タカハシ", "サブロウ", "KIT-0004", ward, "なし", "なし");
        DowntimeKit kit = server.server().downtimeKit();
        DowntimeKit.Generation g = kit.generate(Actor.server("test"));
        assertTrue(g.withoutPassword().contains(ward), g::toString);
        assertTrue(g.files().stream().noneMatch(f -> f.place().equals(ward)));
        assertTrue(filesOf(ward).isEmpty(), "no file");
        DowntimeKit.Place p = kit.places().stream().filter(x -> x.name().equals(ward)).findFirst().orElseThrow();
        assertTrue(!p.hasPassword() && p.deviation(), p::toString);
        assertTrue(kit.deviationCount() >= 1);
        // a short password is refused with one clear message
        DowntimeKit.Refused r = assertThrows(DowntimeKit.Refused.class,
                () -> kit.setPassword(ward, "short", Actor.server("test")));
        assertTrue(r.getMessage().startsWith("パスワードは 12 文字以上") && r.getMessage().contains(" / "), r.getMessage());
    }

    @Test
    void aHostileWardNameCannotLeaveTheFolder() throws Exception {
        for (String hostile : List.of("../../escape", "..", "a/b", "C:\\x", ".hidden", "病棟\u0000x")) {
            String safe = DowntimeKit.safeName(hostile);
            assertFalse(safe.contains("/") || safe.contains("\\") || safe.startsWith(".") || safe.contains(":")
                    || safe.contains("\u0000"), safe);
            assertEquals(dir, dir.resolve(safe + "-20261207-1100.pdf").normalize().getParent(), safe);
        }
        assertEquals("東3病棟", DowntimeKit.safeName("東3病棟"), "Japanese kept");
        assertFalse(DowntimeKit.safeName("a/b").equals(DowntimeKit.safeName("a_b")), "no two wards share files");
        String hostile = "../../escape-" + UUID.randomUUID().toString().substring(0, 4);
        inpatient("伊藤", "四郎", "イトウ", "シロウ", "KIT-0005", hostile, "エビ", "ビタミン剤");
        DowntimeKit kit = server.server().downtimeKit();
        kit.setPassword(hostile, "hostile-ward-secret", Actor.server("test"));
        DowntimeKit.File f = kit.generate(Actor.server("test")).files().stream()
                .filter(x -> x.place().equals(hostile)).findFirst().orElseThrow();
        Path written = dir.resolve(f.name());
        assertTrue(Files.exists(written) && written.normalize().getParent().equals(dir), written::toString);
        try (Stream<Path> s = Files.list(dir.getParent())) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith("escape")), "nothing beside the folder");
        }
        assertTrue(text(Files.readAllBytes(written), "hostile-ward-secret").contains("KIT-0005"));
    }
}
