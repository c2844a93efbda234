package jp.mamori.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.db.Tx;
import jp.mamori.kernel.Hashes;
import jp.mamori.ledger.CompactRange;
import jp.mamori.ledger.SignedCheckpoint;
import jp.mamori.ledger.VerifierKey;
import jp.mamori.records.RecordDisposal;
import jp.mamori.records.RecordService;

import javax.sql.DataSource;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The record store checked against the signed audit trail (STORE-1, AUDIT-3; issue 17). Every write's entry names
 * each version it wrote with its content and chain hashes ({@link WriteEntries}); the versions stored before that
 * were named once by {@link #anchor} entries. {@link #check} then holds every stored version against the trail:
 * <ul>
 *   <li>a version the trail does not name, or names with other hashes, is reported with the resource, version and
 *       both hashes, so a body (or author, time, reason) rewritten behind the server's back with every hash
 *       recomputed is caught, as long as the trail is whole;</li>
 *   <li>and the trail is whole: every entry that names versions hashes to its stored leaf hash, and the leaf hashes
 *       give the root of the newest signed checkpoint, whose signature verifies with the server's key. Entries after
 *       that checkpoint, and those still in the outbox, are counted as not yet signed.</li>
 * </ul>
 * A version in the trail but no longer in the store is reported unless the record was disposed of (its tombstone
 * counts its versions and keeps the last chain hash, which must be the trail's).
 *
 * <p>Memory: the trail's hashes of every version are held while the store is read (about 300 bytes a version; 343,200
 * versions need a 512 MB heap, docs/performance.md).
 */
public final class RecordTrail {
    /** Versions named per anchor entry: an entry stays a few hundred kilobytes at most. */
    static final int ANCHOR_LINES = 1000;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] HASHES_KEY = "\"hashes\":".getBytes(java.nio.charset.StandardCharsets.UTF_8);

    private RecordTrail() {
    }

    /**
     * One problem. {@code type} is null for a problem of the trail itself (then {@code id} says which entry).
     *
     * @param trail  what the trail says (hashes, or "-")
     * @param stored what the store holds (hashes, or "-")
     */
    public record Finding(String type, String id, int version, String problem, String trail, String stored) {
    }

    /**
     * What was checked: the versions in the store, the versions the trail names, the entries read, the size of the
     * newest signed checkpoint they were held against (0: none), and the entries not yet under it.
     */
    public record Result(long versions, long trailVersions, long entries, long checkpointSize, long unsigned,
                         long findings) {
    }

    // ---------------------------------------------------------------- anchoring what was stored before

    /**
     * Names every version stored before writes named theirs, once: when no {@code records.anchor} entry exists yet,
     * stages anchor entries for all stored versions ({@link #ANCHOR_LINES} per entry), in one transaction, so that they
     * are all in the trail or none are. Safe to call at every start and from several servers at once (an advisory
     * lock). Returns the versions anchored, or -1 when it was done before.
     */
    public static long anchor(DataSource ds, AuditRecorder recorder) {
        long n = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
                ps.setString(1, "mamori.records.anchor");
                ps.execute();
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT count(*) FROM (SELECT 1 FROM audit_entry"
                    + " WHERE action = ? LIMIT 1) e) + (SELECT count(*) FROM audit_outbox WHERE action = ?)")) {
                ps.setString(1, AuditAction.RECORDS_ANCHOR.code);
                ps.setString(2, AuditAction.RECORDS_ANCHOR.code);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        return -1L;
                    }
                }
            }
            // A version committed meanwhile by a server already writing hashes has its own entry too: the same hashes.
            List<String> lines = new ArrayList<>(ANCHOR_LINES);
            long[] count = {0};
            int[] part = {0};
            RecordService.forEachVersionHashes(c, v -> {
                lines.add(VersionLine.line(ResourceRef.version(v.type(), v.id(), v.version()),
                        v.content() == null ? null : Hashes.hex(v.content()), Hashes.hex(v.chain()), null));
                count[0]++;
                if (lines.size() == ANCHOR_LINES) {
                    stageAnchor(c, recorder, ++part[0], count[0], lines);
                }
            });
            if (!lines.isEmpty() || part[0] == 0) {
                stageAnchor(c, recorder, ++part[0], count[0], lines);
            }
            return count[0];
        });
        if (n >= 0) {
            recorder.drainSoon();
        }
        return n;
    }

    /** Stages one anchor entry naming {@code lines} (then cleared): its part number and the versions so far. */
    private static void stageAnchor(Connection c, AuditRecorder recorder, int part, long through, List<String> lines)
            throws SQLException {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("part", Integer.toString(part));
        d.put("anchored", Long.toString(through));
        if (!lines.isEmpty()) {
            d.put(WriteEntries.HASHES, String.join("\n", lines));
        }
        recorder.stage(c, AuditEvent.system("records-anchor", AuditAction.RECORDS_ANCHOR, Outcome.SUCCESS, d).build());
        lines.clear();
    }

    // ---------------------------------------------------------------- the check

    /** What the trail says of one version: its hashes and the entry (-1: still in the outbox). */
    private record Named(byte[] content, byte[] chain, byte[] prev, long seq) {
        String hashes() {
            return RecordTrail.hashes(content, chain);
        }

        String where() {
            return seq < 0 ? "the outbox" : "entry " + seq;
        }
    }

    /**
     * Checks every stored version against the trail, and the trail's entries that name versions against the newest
     * signed checkpoint (verified with {@code key}), all in one snapshot (repeatable read), so that a server writing
     * meanwhile causes no false report. Each problem goes to {@code report}.
     */
    public static Result check(DataSource ds, VerifierKey key, Consumer<Finding> report) {
        return Tx.snapshot(ds, c -> checkIn(c, key, report));
    }

    private static Result checkIn(Connection c, VerifierKey key, Consumer<Finding> out) throws SQLException {
        long[] findings = {0};
        Consumer<Finding> report = f -> {
            findings[0]++;
            out.accept(f);
        };
        Map<String, Named> named = new HashMap<>();
        // 1. the newest signed checkpoint, and the trail against it
        TrailLedger.Stored cp = TrailLedger.latest(c);
        long size = 0;
        byte[] root = null;
        if (cp != null) {
            SignedCheckpoint sc = cp.signed();
            if (sc.verify(key) != SignedCheckpoint.Status.VERIFIED || sc.checkpoint().size() != cp.size()
                    || !Arrays.equals(sc.checkpoint().root(), cp.root())) {
                report.accept(new Finding(null, "checkpoint " + cp.size(), 0,
                        "the newest checkpoint's signature does not verify with the server's key", "-", "-"));
            } else {
                size = cp.size();
                root = cp.root();
            }
        }
        CompactRange range = new CompactRange();
        long entries = 0;
        long unsigned = 0;
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, leaf_hash,"
                + " CASE WHEN position(? IN entry) > 0 THEN entry END FROM audit_log ORDER BY seq")) {
            ps.setBytes(1, HASHES_KEY);
            // a write's entry names each of its versions (a demo chunk's, hundreds of KB): read a few rows at a time
            ps.setFetchSize(200);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long seq = rs.getLong(1);
                    if (seq != entries) {
                        report.accept(new Finding(null, "entry " + entries, 0, "audit trail entries are missing",
                                "entry " + entries, "entry " + seq));
                        root = null; // the root cannot be compared any more
                    }
                    entries = seq + 1;
                    byte[] leaf = rs.getBytes(2);
                    byte[] entry = rs.getBytes(3);
                    if (seq < size) {
                        range.append(leaf);
                        if (range.size() == size && root != null && !Arrays.equals(range.root(), root)) {
                            report.accept(new Finding(null, "checkpoint " + size, 0, "the audit trail does not give"
                                    + " the root of its newest signed checkpoint: entries were changed",
                                    Hashes.hex(root), Hashes.hex(range.root())));
                        }
                    } else {
                        unsigned++;
                    }
                    if (entry != null) {
                        byte[] rehashed = EntryCodec.leafHash(entry);
                        if (!Arrays.equals(rehashed, leaf)) {
                            report.accept(new Finding(null, "entry " + seq, 0, "an audit entry naming versions was"
                                    + " changed after it was stored", Hashes.hex(leaf), Hashes.hex(rehashed)));
                        }
                        collect(versionsOf(entry), seq, named, report);
                    }
                }
            }
        }
        if (cp != null && root != null && entries < size) {
            report.accept(new Finding(null, "checkpoint " + size, 0, "the audit trail is shorter than its newest"
                    + " signed checkpoint", Long.toString(size), Long.toString(entries)));
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT detail ->> ? FROM audit_outbox"
                + " WHERE detail ->> ? IS NOT NULL ORDER BY outbox_id")) {
            ps.setString(1, WriteEntries.HASHES);
            ps.setString(2, WriteEntries.HASHES);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    unsigned++;
                    collect(rs.getString(1), -1, named, report);
                }
            }
        }
        long trailVersions = named.size();
        // 2. every stored version against what the trail says of it
        long[] versions = {0};
        String[] resource = {null};
        byte[][] previous = {null};
        RecordService.forEachVersionHashes(c, v -> {
            versions[0]++;
            String res = v.type() + "/" + v.id();
            if (!res.equals(resource[0])) {
                resource[0] = res;
                previous[0] = new byte[32];
            }
            Named n = named.remove(res + "/_history/" + v.version());
            if (n == null) {
                report.accept(new Finding(v.type(), v.id(), v.version(), "not in the audit trail", "-",
                        hashes(v.content(), v.chain())));
            } else if (!Arrays.equals(n.chain(), v.chain()) || !Arrays.equals(n.content(), v.content())) {
                report.accept(new Finding(v.type(), v.id(), v.version(), "differs from the audit trail ("
                        + n.where() + ")", n.hashes(), hashes(v.content(), v.chain())));
            } else if (n.prev() != null && !Arrays.equals(n.prev(), previous[0])) {
                report.accept(new Finding(v.type(), v.id(), v.version(), "follows another version than the audit"
                        + " trail's (" + n.where() + ")", "prev " + Hashes.hex(n.prev()),
                        "prev " + Hashes.hex(previous[0])));
            }
            previous[0] = v.chain();
        });
        // 3. what the trail names and the store no longer holds: only a disposed record's versions
        if (!named.isEmpty()) {
            Map<String, RecordDisposal.Tombstone> tombstones = new HashMap<>();
            RecordDisposal.forEachTombstone(c, t -> {
                if (named.containsKey(t.type() + "/" + t.id() + "/_history/1")
                        || named.containsKey(t.type() + "/" + t.id() + "/_history/" + t.versions())) {
                    tombstones.put(t.type() + "/" + t.id(), t);
                }
            });
            named.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
                ResourceRef ref = ResourceRef.parse(e.getKey());
                int version = Integer.parseInt(ref.version());
                RecordDisposal.Tombstone t = tombstones.get(ref.type() + "/" + ref.id());
                Named n = e.getValue();
                if (t != null && version < t.versions()) {
                    return;
                }
                if (t != null && version == t.versions()) {
                    if (!Arrays.equals(t.lastChain(), n.chain())) {
                        report.accept(new Finding(ref.type(), ref.id(), version, "was disposed of with another"
                                + " last version than the audit trail's (" + n.where() + ")", n.hashes(),
                                "chain " + Hashes.hex(t.lastChain())));
                    }
                    return;
                }
                report.accept(new Finding(ref.type(), ref.id(), version, "is in the audit trail (" + n.where()
                        + ") but not in the store", n.hashes(), "-"));
            });
        }
        return new Result(versions[0], trailVersions, entries, size, unsigned, findings[0]);
    }

    /** A version's hashes as a finding shows them (built only when one is reported). */
    private static String hashes(byte[] content, byte[] chain) {
        return "sha256 " + (content == null ? "-" : Hashes.hex(content)) + " chain " + Hashes.hex(chain);
    }

    /** The {@code hashes} detail of an entry's canonical bytes, or null. */
    private static String versionsOf(byte[] entry) {
        try {
            JsonNode d = JSON.readTree(entry).path("detail").path(WriteEntries.HASHES);
            return d.isTextual() ? d.asText() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static void collect(String versions, long seq, Map<String, Named> named, Consumer<Finding> report) {
        if (versions == null) {
            return;
        }
        HexFormat hex = HexFormat.of();
        for (VersionLine l : VersionLine.parseAll(versions)) {
            if (l == null) {
                report.accept(new Finding(null, seq < 0 ? "outbox" : "entry " + seq, 0,
                        "an audit entry names a version in a form this server does not write", "-", "-"));
                continue;
            }
            Named n = new Named(l.sha256() == null ? null : hex.parseHex(l.sha256()), hex.parseHex(l.chain()),
                    l.prev() == null ? null : hex.parseHex(l.prev()), seq);
            Named before = named.putIfAbsent(l.ref().code(), n);
            if (before != null && (!Arrays.equals(before.chain(), n.chain())
                    || !Arrays.equals(before.content(), n.content()))) {
                report.accept(new Finding(l.ref().type(), l.ref().id(), Integer.parseInt(l.ref().version()),
                        "is named twice in the audit trail with different hashes (" + before.where() + ", "
                                + n.where() + ")", before.hashes(), n.hashes()));
            }
        }
    }
}
