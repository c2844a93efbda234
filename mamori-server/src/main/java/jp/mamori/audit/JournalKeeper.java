package jp.mamori.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.SecurityNotifier;
import jp.mamori.ledger.JournalFile;
import jp.mamori.ledger.NoteSigner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The local audit journals of one process (issue 18 §2, ADR 0013 "Journal"): opens the journal the writer appends to
 * while degraded, and merges every journal in the folder into the main trail when the database can be written again.
 * Writer thread only ({@link AuditTrail} runs both on it, so journaled and later entries keep their order).
 *
 * <p><b>Merge.</b> One journal is merged in one database transaction that holds the trail's head lock: its entries in
 * their order, each decoded into the record it was made from and stored again with the trail's next seq and prev (so
 * its time, actor, patients and every other member stay as they were; when nothing else was appended meanwhile the
 * bytes are identical to the journal's), then one {@code journal.merged} entry naming the file, its length, the
 * journal's id and head hash. The file is then renamed {@code .merged} and kept. A crash before the commit merges
 * nothing; a crash after it leaves a journal whose {@code journal.merged} entry exists, which the next attempt finds
 * (under the same lock) and only renames: no entry is lost or stored twice.
 *
 * <p><b>A journal that does not verify</b> (edited, reordered, signed by another key, an entry that does not decode
 * canonically) is not merged at all: it is renamed {@code .rejected} and kept as evidence, an {@code audit.integrity}
 * entry naming it and its first problem is stored, and a security notice goes out. Leaving degraded mode is not
 * vetoed for it: a hospital must not stay read-only because a file was damaged. Entries after the last complete group
 * (a crash while a group was written) were never acknowledged and are dropped; the merge entry says how many lines.
 */
final class JournalKeeper {
    private static final Logger log = LoggerFactory.getLogger(JournalKeeper.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Stores records under the head lock held by the connection's transaction (the trail's writer). */
    interface Store {
        List<AuditTrail.Appended> store(Connection c, List<AuditRecord> records) throws SQLException;
    }

    /** What {@link Audit#journal()} shows. */
    record State(boolean journaling, String file, long entries, String head, List<String> unmerged) {
    }

    /** Tests only: fails a merge at a named point (afterChunk, beforeCommit, beforeRename) by throwing. */
    static volatile java.util.function.Consumer<String> faults = point -> { };

    private final Path folder;
    private final String host;
    private final NoteSigner signer;
    private volatile SecurityNotifier notifier;
    private final int chunk;
    /** Written by the writer thread only; read by {@link #state}. */
    private volatile AuditJournal current;

    JournalKeeper(Path folder, String host, NoteSigner signer, SecurityNotifier notifier, int chunk) {
        this.folder = folder;
        this.host = host;
        this.signer = signer;
        this.notifier = notifier;
        this.chunk = chunk;
    }

    Path folder() {
        return folder;
    }

    /** Where a journal that does not verify is reported (tests listen here). */
    void notifying(SecurityNotifier n) {
        this.notifier = n;
    }

    /**
     * Appends a group to the current journal, opening one first (continuing from {@code trailSize}/{@code trailHead},
     * or from the journal it replaces).
     */
    List<AuditTrail.Appended> append(List<AuditRecord> records, HeadSource head) throws IOException {
        if (current == null || current.broken()) {
            long size;
            byte[] leaf;
            if (current != null) {
                size = current.nextSeq();
                leaf = current.head();
                current.close();
            } else {
                long[] s = new long[1];
                leaf = head.head(s);
                size = s[0];
            }
            current = AuditJournal.create(folder, host, size, leaf, signer, Instant.now());
            log.warn("audit: journaling locally to {} (the database cannot be written)", current.file());
        }
        return current.append(records);
    }

    /** Where a new journal continues the trail: fills size[0] (-1: unknown) and returns the last leaf hash. */
    interface HeadSource {
        byte[] head(long[] size);
    }

    /** Closes the journal being written (a merge follows, or the process stops). */
    void closeCurrent() {
        if (current != null) {
            current.close();
            current = null;
        }
    }

    State state(boolean journaling) {
        AuditJournal j = current;
        List<String> waiting = unmergedFiles().stream().map(p -> p.getFileName().toString()).toList();
        return new State(journaling, j == null ? null : j.file().getFileName().toString(), j == null ? 0 : j.entries(),
                j == null || j.head() == null ? null : Base64.getEncoder().encodeToString(j.head()), waiting);
    }

    List<Path> unmergedFiles() {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().endsWith(AuditJournal.SUFFIX)).sorted().toList();
        } catch (IOException e) {
            log.warn("audit: the journal folder cannot be listed: {}", e.toString());
            return List.of();
        }
    }

    /**
     * Merges every journal in the folder, oldest first; returns the entries stored (for the trail's listeners).
     *
     * @throws SQLException or IOException when the database or a file failed: nothing of that journal is stored
     */
    List<AuditTrail.Appended> mergeAll(DataSource ds, Store store) throws SQLException, IOException {
        closeCurrent();
        List<AuditTrail.Appended> all = new ArrayList<>();
        for (Path p : unmergedFiles()) {
            all.addAll(merge(ds, store, p));
        }
        return all;
    }

    private List<AuditTrail.Appended> merge(DataSource ds, Store store, Path file) throws SQLException, IOException {
        JournalFile.Result r;
        try {
            r = JournalFile.verify(file, signer.verifierKey(), JournalKeeper::checkEntry);
        } catch (IOException e) {
            r = new JournalFile.Result(null, 0, 0, 0, null, 0, 0, List.of("the file cannot be read: " + e), true);
        }
        String name = file.getFileName().toString();
        long length;
        try {
            length = Files.size(file);
        } catch (IOException e) {
            length = -1;
        }
        List<AuditTrail.Appended> out = new ArrayList<>();
        String problem = r.ok() ? null : r.problems().get(0);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                long trailNext;
                byte[] trailLeaf;
                try (Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT next_seq, last_leaf FROM audit_head FOR UPDATE")) {
                    if (!rs.next()) {
                        throw new SQLException("audit_head has no row");
                    }
                    trailNext = rs.getLong(1);
                    trailLeaf = rs.getBytes(2);
                }
                if (problem == null && alreadyMerged(c, r.genesis().id(), r.head())) {
                    c.rollback();
                    log.info("audit: journal {} was merged before (its journal.merged entry exists)", name);
                    rename(file, AuditJournal.MERGED);
                    return out;
                }
                if (problem != null) {
                    Map<String, String> d = new LinkedHashMap<>();
                    d.put("journal", name);
                    d.put("bytes", Long.toString(length));
                    d.put("problem", "the audit journal does not verify and was not merged: " + problem);
                    out.addAll(store.store(c, List.of(AuditEvent.system("journal", AuditAction.AUDIT_INTEGRITY,
                            Outcome.ERROR, d).build().stored())));
                    c.commit();
                } else {
                    boolean identical = r.genesis().headKnown() && r.genesis().trailSize() == trailNext
                            && (trailNext == 0 || Arrays.equals(r.genesis().trailHead(), trailLeaf));
                    List<AuditRecord> batch = new ArrayList<>(chunk);
                    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
                        Lines lines = new Lines(in, r.validBytes());
                        lines.next(); // the genesis
                        byte[] line;
                        while ((line = lines.next()) != null) {
                            if (line.length > 7 && line[0] == '{' && line[1] == '"' && line[2] == 's') {
                                batch.add(decode(line));
                                if (batch.size() >= chunk) {
                                    out.addAll(store.store(c, batch));
                                    batch = new ArrayList<>(chunk);
                                    faults.accept("afterChunk");
                                }
                            }
                        }
                    }
                    Map<String, String> d = new LinkedHashMap<>();
                    d.put("file", name);
                    d.put("journal", r.genesis().id());
                    d.put("bytes", Long.toString(length));
                    d.put("entries", Long.toString(r.entries()));
                    d.put("head", r.head() == null ? "" : Base64.getEncoder().encodeToString(r.head()));
                    d.put("host", r.genesis().host());
                    d.put("created", r.genesis().created());
                    d.put("firstSeq", Long.toString(trailNext));
                    d.put("identical", Boolean.toString(identical));
                    d.put("droppedLines", Long.toString(r.dropped()));
                    batch.add(AuditEvent.system("journal", AuditAction.JOURNAL_MERGED, Outcome.SUCCESS, d).build()
                            .stored());
                    out.addAll(store.store(c, batch));
                    if (out.size() != r.entries() + 1) {
                        throw new IllegalStateException("the journal held " + r.entries() + " entries but "
                                + (out.size() - 1) + " were read back");
                    }
                    faults.accept("beforeCommit");
                    c.commit();
                }
            } catch (SQLException | IOException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
        if (problem != null) {
            log.error("audit: INTEGRITY PROBLEM: the journal {} does not verify and was not merged: {}", name, problem);
            try {
                rename(file, AuditJournal.REJECTED);
            } catch (IOException e) {
                // the finding is stored; a file that cannot be moved must not keep the process read-only
                log.error("audit: the rejected journal {} could not be renamed: {}", name, e.toString());
            }
            try {
                notifier.notify(new SecurityNotifier.Notice("audit.integrity", Instant.now(), null,
                        Map.of("journal", name, "problem", problem), "監査ジャーナルを検証できないため統合しませんでした"
                        + " / an audit journal does not verify and was not merged: " + name + ": " + problem));
            } catch (RuntimeException e) {
                log.warn("audit: the integrity notice could not be sent: {}", e.toString());
            }
        } else {
            log.warn("audit: journal {} merged: {} entries", name, r.entries());
            faults.accept("beforeRename");
            rename(file, AuditJournal.MERGED);
        }
        return out;
    }

    /** Whether a {@code journal.merged} entry names this journal (its id and head): it was merged before a crash. */
    private static boolean alreadyMerged(Connection c, String journalId, byte[] head) throws SQLException {
        byte[] needle = ("\"journal\":\"" + journalId + "\"").getBytes(StandardCharsets.UTF_8);
        byte[] headNeedle = ("\"head\":\"" + (head == null ? "" : Base64.getEncoder().encodeToString(head)) + "\"")
                .getBytes(StandardCharsets.UTF_8);
        try (PreparedStatement ps = c.prepareStatement("SELECT entry FROM audit_entry WHERE action = ?")) {
            ps.setString(1, AuditAction.JOURNAL_MERGED.code);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    byte[] e = rs.getBytes(1);
                    if (indexOf(e, needle) >= 0 && indexOf(e, headNeedle) >= 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void rename(Path file, String suffix) throws IOException {
        String n = file.getFileName().toString();
        Path to = file.resolveSibling(n.substring(0, n.length() - AuditJournal.SUFFIX.length()) + AuditJournal.SUFFIX
                + suffix);
        Files.move(file, to, StandardCopyOption.ATOMIC_MOVE);
        AuditJournal.forceFolder(file.getParent());
    }

    /** Whether a journal line is a canonical entry: decoded and encoded again, the same bytes. */
    static String checkEntry(long seq, byte[] line) {
        try {
            AuditRecord r = decode(line);
            JsonNode prev = JSON.readTree(line).get("prev");
            byte[] p = prev == null || prev.asText().isEmpty() ? null : Base64.getDecoder().decode(prev.asText());
            return Arrays.equals(EntryCodec.encode(seq, p, r), line) ? null : "not a canonical entry";
        } catch (IOException | RuntimeException e) {
            return "not an audit entry (" + e.getClass().getSimpleName() + ")";
        }
    }

    /** The record an entry line was encoded from ({@link EntryCodec}'s members). */
    static AuditRecord decode(byte[] line) throws IOException {
        JsonNode n = JSON.readTree(line);
        Map<String, String> detail = new LinkedHashMap<>();
        JsonNode d = n.get("detail");
        if (d != null) {
            d.fields().forEachRemaining(e -> detail.put(e.getKey(), e.getValue().asText()));
        }
        return new AuditRecord(Instant.parse(text(n, "time")), text(n, "actor"), text(n, "kind"), text(n, "display"),
                list(n, "role"), text(n, "department"), list(n, "patient"), list(n, "resource"), text(n, "action"),
                text(n, "outcome"), text(n, "purpose"), text(n, "address"), text(n, "session"),
                n.has("breakGlass") && n.get("breakGlass").asBoolean(), detail);
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static List<String> list(JsonNode n, String field) {
        JsonNode v = n.get(field);
        List<String> out = new ArrayList<>();
        if (v != null) {
            v.forEach(x -> out.add(x.asText()));
        }
        return out;
    }

    /** Lines of a file up to a byte limit (the end of its last complete group). */
    private static final class Lines {
        private final InputStream in;
        private long left;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream(1024);

        Lines(InputStream in, long limit) {
            this.in = in;
            this.left = limit;
        }

        byte[] next() throws IOException {
            buf.reset();
            while (left > 0) {
                int c = in.read();
                if (c < 0) {
                    break;
                }
                left--;
                if (c == '\n') {
                    return buf.toByteArray();
                }
                buf.write(c);
            }
            return buf.size() == 0 ? null : buf.toByteArray();
        }
    }
}
