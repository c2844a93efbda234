package jp.mamori.audit;

import jp.mamori.access.SecurityNotifier;
import jp.mamori.db.Availability;
import jp.mamori.ledger.JournalFile;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18 §2 (DEGRADED-1, DEGRADED-4, AUDIT-1, ADR 0013 "Journal"): in degraded read-only mode every read is audited
 * into a local journal before it is answered, even though the database really refuses writes; leaving merges the
 * journal into the main trail in its order with the original bytes, followed by {@code journal.merged}, and the
 * merged trail verifies and is covered by the next checkpoint. A tampered journal is not merged and raises a
 * finding; a merge that fails half-way neither loses nor duplicates; a process that starts degraded journals its
 * start entry; one that starts normal merges what an earlier run left.
 */
class AuditJournalTest {
    private static TestServer server;
    private static String patient;
    private static final List<SecurityNotifier.Notice> notices = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() {
        server = TestServer.start(List.of("--audit-checkpoint-seconds", "3600"));
        server.server().audit().trail().journalKeeper().notifying(notices::add);
        patient = AuditTrailTest.create(server, AuditTrailTest.patientJson("縮退" + UUID.randomUUID().toString()
                .substring(0, 6)));
        AuditTrailTest.drained(server);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void writable() throws Exception {
        JournalKeeper.faults = p -> { };
        readOnly(false);
        availability().leaveDegraded("test ends");
    }

    private static Availability availability() {
        return server.server().database().availability();
    }

    /**
     * Makes the database really refuse (or take again) writes, for every session including the pool's open ones:
     * {@code ALTER SYSTEM} and a configuration reload, as a hot standby would refuse them.
     */
    static void readOnly(boolean on) throws Exception {
        try (Connection c = server.superuserConnection(); Statement st = c.createStatement()) {
            st.execute("SET default_transaction_read_only = off");
            st.execute(on ? "ALTER SYSTEM SET default_transaction_read_only = on"
                    : "ALTER SYSTEM RESET default_transaction_read_only");
            st.execute("SELECT pg_reload_conf()");
        }
        // the sessions take the new setting when they next wait for a command: wait until a pooled one has it
        for (int i = 0; i < 100; i++) {
            try (Connection c = server.server().database().dataSource().getConnection();
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT current_setting('default_transaction_read_only')")) {
                rs.next();
                if (rs.getString(1).equals(on ? "on" : "off")) {
                    return;
                }
            }
            Thread.sleep(20);
        }
    }

    private static Path folder() {
        return AuditJournal.folder(server.dataDir());
    }

    private static List<Path> files(String suffix) throws Exception {
        if (!Files.isDirectory(folder())) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(folder())) {
            return s.filter(p -> p.toString().endsWith(suffix)).sorted().toList();
        }
    }

    private static List<byte[]> entryLines(Path journal) throws Exception {
        List<byte[]> out = new ArrayList<>();
        for (String l : Files.readAllLines(journal, StandardCharsets.UTF_8)) {
            if (l.startsWith("{\"seq\":")) {
                out.add(l.getBytes(StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    private static byte[] stored(long seq) throws Exception {
        try (Connection c = server.server().database().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT entry FROM audit_log WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getBytes(1) : null;
            }
        }
    }

    private static long head() throws Exception {
        try (Connection c = server.server().database().dataSource().getConnection()) {
            return AuditTrail.nextSeq(c);
        }
    }

    private static int verifyJournal(Path file) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
        return jp.mamori.ledger.Main.run(new String[]{"verify-journal", file.toString(), "--key",
                server.server().audit().checkpointer().signer().verifierKey().format()}, p, p);
    }

    private static void read(int times) {
        for (int i = 0; i < times; i++) {
            HttpResponse<String> r = server.get("/Patient/" + patient);
            assertEquals(200, r.statusCode(), r.body());
        }
    }

    @Test
    void readsAreJournaledDurablyAndMergedInOrderWhenThePrimaryReturns() throws Exception {
        long before = head();
        readOnly(true);
        availability().enterDegraded("test: primary lost");
        read(5);
        Audit.JournalState s = server.server().audit().journal();
        assertTrue(s.journaling());
        assertTrue(s.entries() >= 5, "every read was journaled: " + s);
        Path file = folder().resolve(s.file());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(folder())));
        String text = Files.readString(file);
        assertTrue(text.contains("Patient/" + patient), "the read's entry is on disk when its answer arrives");
        assertEquals(0, verifyJournal(file), "the journal verifies on its own with the ledger tool");
        assertEquals(before, head(), "the read-only database holds none of them");

        List<byte[]> journaled = entryLines(file);
        assertFalse(availability().leaveDegraded("test: too early"), "the database still refuses: the merge vetoes");
        assertTrue(Files.exists(file));
        readOnly(false);
        assertTrue(availability().leaveDegraded("test: primary back"));
        assertFalse(availability().degraded());
        assertFalse(server.server().audit().journal().journaling());
        assertFalse(Files.exists(file), "renamed");
        assertTrue(Files.exists(file.resolveSibling(file.getFileName() + ".merged")), "kept as evidence");

        // the journal's entries, byte for byte (same seq, prev, time, actor…), then journal.merged naming its head
        long first = JournalFile.verify(file.resolveSibling(file.getFileName() + ".merged"), null).firstSeq();
        assertEquals(before, first, "the journal continued the trail's head");
        for (int i = 0; i < journaled.size(); i++) {
            assertArrayEquals(journaled.get(i), stored(first + i), "entry " + i + " merged as journaled");
        }
        String merged = new String(stored(first + journaled.size()), StandardCharsets.UTF_8);
        assertTrue(merged.contains("\"action\":\"journal.merged\""), merged);
        assertTrue(merged.contains("\"file\":\"" + file.getFileName() + "\""), merged);
        assertTrue(merged.contains("\"head\":\"" + s.head().substring(0, 10)) || merged.contains("\"entries\":\""
                + journaled.size() + "\""), merged);
        assertTrue(merged.contains("\"entries\":\"" + journaled.size() + "\""), merged);

        // a checkpoint after the merge covers it, and the outside verifier accepts the whole trail
        read(1);
        var cp = server.server().audit().checkpointer().checkpoint();
        assertNotNull(cp);
        assertTrue(cp.size() > first + journaled.size(), "covers the merged entries");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8);
        int code = jp.mamori.cli.Main.run(List.of("audit-verify", "--data", server.dataDir().toString()), p, p,
                Map.of());
        assertEquals(0, code, out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aGroupTheDatabaseRefusesBeforeTheMonitorNoticedIsJournaledAndEntersDegradedMode() throws Exception {
        readOnly(true);
        assertFalse(availability().degraded());
        // the appender's group is refused (a read-only transaction): journaled, and the read still answered
        for (int i = 0; i < 20 && !server.server().audit().journal().journaling(); i++) {
            read(1);
        }
        for (int i = 0; i < 250 && !availability().degraded(); i++) {
            Thread.sleep(20); // the mode is entered on a thread of its own
        }
        assertTrue(availability().degraded(), "the appender entered degraded mode");
        assertTrue(server.server().audit().journal().journaling());
        readOnly(false);
        assertTrue(availability().leaveDegraded("test: primary back"));
    }

    @Test
    void aTamperedJournalIsNotMergedButKeptAndReported() throws Exception {
        long before = head();
        readOnly(true);
        availability().enterDegraded("test: primary lost");
        read(2);
        Path file = folder().resolve(server.server().audit().journal().file());
        String text = Files.readString(file);
        Files.writeString(file, text.replaceFirst("\"outcome\":\"success\"", "\"outcome\":\"refused\""));
        readOnly(false);
        assertTrue(availability().leaveDegraded("test: primary back"), "a damaged file must not keep the hospital read-only");
        assertTrue(Files.exists(file.resolveSibling(file.getFileName() + ".rejected")), "kept as evidence");
        assertEquals(before + 1, head(), "nothing merged, one finding");
        String finding = new String(stored(before), StandardCharsets.UTF_8);
        assertTrue(finding.contains("\"action\":\"audit.integrity\"") && finding.contains(file.getFileName().toString()),
                finding);
        assertTrue(notices.stream().anyMatch(n -> n.event().equals("audit.integrity")
                && n.fields().get("journal").equals(file.getFileName().toString())), notices.toString());
    }

    @Test
    void aMergeThatFailsHalfWayOrAfterItsCommitNeitherLosesNorDuplicates() throws Exception {
        long before = head();
        readOnly(true);
        availability().enterDegraded("test: primary lost");
        read(3);
        Path file = folder().resolve(server.server().audit().journal().file());
        List<byte[]> journaled = entryLines(file);
        readOnly(false);

        JournalKeeper.faults = p -> {
            if (p.equals("beforeCommit")) {
                throw new IllegalStateException("test: crash before the commit");
            }
        };
        assertFalse(availability().leaveDegraded("test"), "the failed merge keeps the process degraded");
        assertEquals(before, head(), "nothing of the journal is stored");
        assertTrue(Files.exists(file));

        JournalKeeper.faults = p -> {
            if (p.equals("beforeRename")) {
                throw new IllegalStateException("test: crash after the commit");
            }
        };
        assertFalse(availability().leaveDegraded("test"));
        long afterFirst = head();
        assertTrue(afterFirst > before + journaled.size(), "committed once");

        JournalKeeper.faults = p -> { };
        assertTrue(availability().leaveDegraded("test"));
        assertEquals(afterFirst, head(), "the journal found its journal.merged entry and was not merged again");
        for (int i = 0; i < journaled.size(); i++) {
            assertTrue(Arrays.equals(journaled.get(i), stored(before + i)), "entry " + i);
        }
        assertTrue(Files.exists(file.resolveSibling(file.getFileName() + ".merged")));

        // a copy of the merged journal, edited, put back under its name: the id of a merged journal does not make it
        // "merged before": it does not verify, so it is rejected with a finding
        String copy = Files.readString(file.resolveSibling(file.getFileName() + ".merged"));
        Files.writeString(file, copy.replaceFirst("\"outcome\":\"success\"", "\"outcome\":\"refused\""));
        long h = head();
        assertEquals(1, server.server().audit().trail().mergeJournals());
        assertEquals(h + 1, head());
        assertTrue(new String(stored(h), StandardCharsets.UTF_8).contains("\"action\":\"audit.integrity\""));
        assertTrue(Files.exists(file.resolveSibling(file.getFileName() + ".rejected")));
    }

    @Test
    void aProcessStartingDegradedJournalsItsStartAndANormalStartMergesWhatItFinds() throws Exception {
        long before = head();
        var o = server.server().config().audit();
        Audit viewer = Audit.start(server.server().database().dataSource(), o, "viewer", "test", List.of(),
                server.dataDir(), new jp.mamori.access.LogNotifier(), Availability.readOnly(Clock.systemUTC(),
                        "test: serve --read-only"));
        Path file;
        try {
            Audit.JournalState s = viewer.journal();
            assertTrue(s.journaling());
            file = folder().resolve(s.file());
            assertTrue(Files.readString(file).contains("\"action\":\"server.start\""), "the start entry is journaled");
        } finally {
            viewer.close();
        }
        assertEquals(before, head());
        assertEquals(0, verifyJournal(file));

        Audit next = Audit.start(server.server().database().dataSource(), o, "next", "test", List.of(),
                server.dataDir(), new jp.mamori.access.LogNotifier(), Availability.normal(Clock.systemUTC()));
        try {
            assertTrue(Files.exists(file.resolveSibling(file.getFileName() + ".merged")), "merged at start");
            String s0 = new String(stored(before), StandardCharsets.UTF_8);
            assertTrue(s0.contains("\"action\":\"server.start\"") && s0.contains("\"actor\":\"system:server\""), s0);
        } finally {
            next.close();
        }
        assertTrue(Instant.now().isAfter(Instant.EPOCH));
    }
}
