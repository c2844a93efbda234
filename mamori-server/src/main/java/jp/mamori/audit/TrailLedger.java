package jp.mamori.audit;

import jp.mamori.ledger.ArchiveStart;
import jp.mamori.ledger.CompactRange;
import jp.mamori.ledger.ConsistencyProof;
import jp.mamori.ledger.ExportWriter;
import jp.mamori.ledger.InclusionProof;
import jp.mamori.ledger.Merkle;
import jp.mamori.ledger.NoteSigner;
import jp.mamori.ledger.Proofs;
import jp.mamori.ledger.SignedCheckpoint;
import jp.mamori.ledger.SubtreeHashes;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The trail's Merkle tree as stored in the database (AUDIT-3): leaf hashes in {@code audit_entry}, perfect-subtree
 * hashes every 8 levels in {@code audit_subtree}, signed checkpoints with their frontier in
 * {@code audit_checkpoint}. Builds inclusion and consistency proofs and exports in the ledger format, all with the
 * {@code mamori-ledger} library; every method works on the caller's connection and transaction.
 */
public final class TrailLedger {
    /** Levels at which subtree hashes are stored: every 8th (blocks of 256, 65,536, ... leaves). */
    static final int BAND = 8;

    private TrailLedger() {
    }

    /** A stored checkpoint. {@code frontier} is the compact range at {@code size}. */
    public record Stored(long size, byte[] root, Instant signedAt, String note, List<byte[]> frontier,
                         String tsaStatus, byte[] tsaToken, String tsaError, String anchorStatus, String anchorError) {
        public SignedCheckpoint signed() {
            return SignedCheckpoint.parse(note);
        }
    }

    /** A subtree hash to store. */
    record Row(int level, long idx, byte[] hash) {
    }

    // ------------------------------------------------------------------ reading

    private static final String CP_COLUMNS = "size, root, signed_at, note, frontier, tsa_status, tsa_token, tsa_error,"
            + " anchor_status, anchor_error";

    private static Stored stored(ResultSet rs) throws SQLException {
        byte[] f = rs.getBytes(5);
        List<byte[]> frontier = new ArrayList<>();
        for (int i = 0; i + 32 <= f.length; i += 32) {
            frontier.add(java.util.Arrays.copyOfRange(f, i, i + 32));
        }
        return new Stored(rs.getLong(1), rs.getBytes(2), rs.getTimestamp(3).toInstant(), rs.getString(4), frontier,
                rs.getString(6), rs.getBytes(7), rs.getString(8), rs.getString(9), rs.getString(10));
    }

    /** The newest (largest) stored checkpoint, or null. */
    public static Stored latest(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT " + CP_COLUMNS + " FROM audit_checkpoint ORDER BY size DESC LIMIT 1")) {
            return rs.next() ? stored(rs) : null;
        }
    }

    /** The stored checkpoint of exactly {@code size}, or null. */
    public static Stored checkpoint(Connection c, long size) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + CP_COLUMNS + " FROM audit_checkpoint WHERE size = ?")) {
            ps.setLong(1, size);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? stored(rs) : null;
            }
        }
    }

    /** Stored checkpoints of at least {@code minSize}, smallest first. */
    public static List<Stored> checkpoints(Connection c, long minSize) throws SQLException {
        List<Stored> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + CP_COLUMNS
                + " FROM audit_checkpoint WHERE size >= ? ORDER BY size")) {
            ps.setLong(1, minSize);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(stored(rs));
                }
            }
        }
        return out;
    }

    /** The head: the number of entries the appender has committed. */
    public static long head(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT next_seq FROM audit_head")) {
            if (!rs.next()) {
                throw new SQLException("audit_head has no row");
            }
            return rs.getLong(1);
        }
    }

    /** Leaf hashes of entries [from, to), in order; fails when one is missing. */
    static List<byte[]> leaves(Connection c, long from, long to) throws SQLException {
        List<byte[]> out = new ArrayList<>((int) Math.min(to - from, 1 << 20));
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT seq, leaf_hash FROM audit_log WHERE seq >= ? AND seq < ? ORDER BY seq")) {
            ps.setFetchSize(10_000);
            ps.setLong(1, from);
            ps.setLong(2, to);
            try (ResultSet rs = ps.executeQuery()) {
                long expect = from;
                while (rs.next()) {
                    if (rs.getLong(1) != expect) {
                        throw new IllegalStateException("audit entry " + expect + " is missing");
                    }
                    out.add(rs.getBytes(2));
                    expect++;
                }
                if (expect != to) {
                    throw new IllegalStateException("audit entry " + expect + " is missing");
                }
            }
        }
        return out;
    }

    /** Stored subtree hashes at {@code level} for indexes [from, to); null where none is stored. */
    private static byte[][] rows(Connection c, int level, long from, long to) throws SQLException {
        byte[][] out = new byte[Math.toIntExact(to - from)][];
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT idx, hash FROM audit_subtree WHERE level = ? AND idx >= ? AND idx < ?")) {
            ps.setInt(1, level);
            ps.setLong(2, from);
            ps.setLong(3, to);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out[(int) (rs.getLong(1) - from)] = rs.getBytes(2);
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ subtree hashes

    /**
     * {@link SubtreeHashes} over the database: a stored row where one exists (levels 8, 16, ...), else the fold of at
     * most 255 hashes of the band below (rows, or leaf hashes below level 8). Valid for subtrees inside the tree of
     * the latest checkpoint (whose blocks the checkpointer has stored) and, with more reads, beyond it.
     */
    public static SubtreeHashes subtrees(Connection c) {
        return new SubtreeHashes() {
            @Override
            public byte[] hash(int level, long index) {
                try {
                    return hashOf(c, level, index);
                } catch (SQLException e) {
                    throw new IllegalStateException("cannot read audit hashes: " + e.getMessage(), e);
                }
            }
        };
    }

    static byte[] hashOf(Connection c, int level, long index) throws SQLException {
        if (level == 0) {
            return leaves(c, index, index + 1).get(0);
        }
        if (level % BAND == 0) {
            byte[] h = rows(c, level, index, index + 1)[0];
            if (h != null) {
                return h;
            }
        }
        int base = level % BAND == 0 ? level - BAND : level - level % BAND;
        long from = index << (level - base);
        long to = (index + 1) << (level - base);
        CompactRange r = new CompactRange();
        if (base == 0) {
            for (byte[] leaf : leaves(c, from, to)) {
                r.append(leaf);
            }
        } else {
            byte[][] got = rows(c, base, from, to);
            for (int i = 0; i < got.length; i++) {
                r.append(got[i] != null ? got[i] : hashOf(c, base, from + i));
            }
        }
        return r.root();
    }

    /**
     * The subtree hashes (levels 8, 16, ...) completed by appending leaves [from, from + leaves.size()); earlier
     * children come from the database (the caller has stored the rows of earlier calls in this transaction).
     */
    static List<Row> completed(Connection c, long from, List<byte[]> leaves) throws SQLException {
        long to = from + leaves.size();
        List<Row> out = new ArrayList<>();
        Map<Long, byte[]> below = new HashMap<>();
        for (int i = 0; i < leaves.size(); i++) {
            below.put(from + i, leaves.get(i));
        }
        for (int level = BAND; level < 63 && (1L << level) <= to; level += BAND) {
            int child = level - BAND;
            long first = from >> level;
            long last = to >> level;
            Map<Long, byte[]> made = new HashMap<>();
            for (long idx = first; idx < last; idx++) {
                long lo = idx << BAND;
                long hi = (idx + 1) << BAND;
                // Children before this batch are in the database: read them in one go.
                long missingTo = lo;
                while (missingTo < hi && !below.containsKey(missingTo)) {
                    missingTo++;
                }
                if (missingTo > lo) {
                    if (child == 0) {
                        List<byte[]> got = leaves(c, lo, missingTo);
                        for (int i = 0; i < got.size(); i++) {
                            below.put(lo + i, got.get(i));
                        }
                    } else {
                        byte[][] got = rows(c, child, lo, missingTo);
                        for (int i = 0; i < got.length; i++) {
                            below.put(lo + i, got[i] != null ? got[i] : hashOf(c, child, lo + i));
                        }
                    }
                }
                CompactRange r = new CompactRange();
                for (long i = lo; i < hi; i++) {
                    r.append(below.get(i));
                }
                byte[] h = r.root();
                made.put(idx, h);
                out.add(new Row(level, idx, h));
            }
            below = made;
            if (made.isEmpty()) {
                break;
            }
        }
        return out;
    }

    static void insertRows(Connection c, List<Row> rows) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO audit_subtree (level, idx, hash) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")) {
            for (Row r : rows) {
                ps.setInt(1, r.level());
                ps.setLong(2, r.idx());
                ps.setBytes(3, r.hash());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    static byte[] join(List<byte[]> hashes) {
        byte[] out = new byte[hashes.size() * Merkle.HASH_SIZE];
        for (int i = 0; i < hashes.size(); i++) {
            System.arraycopy(hashes.get(i), 0, out, i * Merkle.HASH_SIZE, Merkle.HASH_SIZE);
        }
        return out;
    }

    // ------------------------------------------------------------------ proofs

    /** The inclusion proof of entry {@code seq} against the stored checkpoint of {@code size} (null: the latest). */
    public static InclusionProof inclusion(Connection c, long seq, Long size) throws SQLException {
        Stored cp = size == null ? latest(c) : checkpoint(c, size);
        if (cp == null) {
            throw new IllegalArgumentException(size == null ? "署名済みチェックポイントがまだありません / no signed checkpoint yet"
                    : "サイズ " + size + " のチェックポイントはありません / no checkpoint of size " + size);
        }
        if (seq < 0 || seq >= cp.size()) {
            throw new IllegalArgumentException("記録 " + seq + " はサイズ " + cp.size() + " のチェックポイントに含まれません"
                    + " / entry " + seq + " is not under the checkpoint of size " + cp.size()
                    + " (a newer checkpoint follows within the checkpoint interval)");
        }
        byte[] entry;
        try (PreparedStatement ps = c.prepareStatement("SELECT entry FROM audit_log WHERE seq = ?")) {
            ps.setLong(1, seq);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalArgumentException("記録 " + seq + " がありません / entry " + seq + " is missing");
                }
                entry = rs.getBytes(1);
            }
        }
        return InclusionProof.of(seq, entry, cp.signed(), subtrees(c));
    }

    /** The consistency proof between the stored checkpoints of sizes {@code older} and {@code newer}. */
    public static ConsistencyProof consistency(Connection c, long older, long newer) throws SQLException {
        Stored a = checkpoint(c, older);
        Stored b = checkpoint(c, newer);
        if (a == null || b == null || older > newer) {
            throw new IllegalArgumentException("サイズ " + older + " と " + newer + " のチェックポイントが必要です"
                    + " / need stored checkpoints of sizes " + older + " ≤ " + newer);
        }
        return ConsistencyProof.of(a.signed(), b.signed(), subtrees(c));
    }

    // ------------------------------------------------------------------ export

    /** What an export wrote. {@code anchorOnly}: checkpoints found in the anchor folder but not in the database. */
    public record Exported(long entries, int checkpoints, int anchorOnly, long from) {
    }

    /**
     * Writes an export of entries {@code from}… (their stored bytes, in seq order) with every stored checkpoint of at
     * least that size, plus the anchor folder's checkpoints that the database lacks (a removed or rewritten
     * checkpoint then still reaches the verifier), and the verifier key. With {@code from} > 0 the export carries the
     * archive start, and a checkpoint of size {@code from} is signed for it, but only after the stored hashes are
     * shown consistent with a stored signed checkpoint. Run it in one REPEATABLE READ transaction for a snapshot.
     */
    public static Exported export(Connection c, Path dir, NoteSigner signer, long from, Anchor anchor)
            throws SQLException, IOException {
        List<SignedCheckpoint> cps = new ArrayList<>();
        Set<String> notes = new LinkedHashSet<>();
        for (Stored s : checkpoints(c, from)) {
            if (notes.add(s.note())) {
                cps.add(s.signed());
            }
        }
        int fromDb = cps.size();
        if (anchor != null) {
            for (SignedCheckpoint a : anchor.readAll()) {
                if (a.checkpoint().size() >= from && notes.add(a.encode())) {
                    cps.add(a);
                }
            }
        }
        int anchorOnly = cps.size() - fromDb;
        cps.sort(Comparator.comparingLong(s -> s.checkpoint().size()));
        ArchiveStart start = null;
        if (from > 0) {
            SubtreeHashes source = subtrees(c);
            start = ArchiveStart.of(from, source);
            Stored next = checkpoints(c, from).stream().findFirst().orElseThrow(() -> new IllegalArgumentException(
                    "記録 " + from + " 以降を含むチェックポイントがありません / no checkpoint of size ≥ " + from));
            byte[] rootFrom = start.root();
            if (!Proofs.verifyConsistency(from, next.size(), rootFrom, next.root(),
                    Proofs.consistency(from, next.size(), source))) {
                throw new IllegalStateException("保存されたハッシュが署名済みチェックポイントと一致しません / the stored hashes"
                        + " up to " + from + " do not lead to the signed checkpoint of size " + next.size()
                        + ": export from 0 and verify it");
            }
        }
        long n = 0;
        try (ExportWriter w = new ExportWriter(dir, signer, start)) {
            if (start != null) {
                w.checkpoint(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
            }
            for (SignedCheckpoint cp : cps) {
                w.writeCheckpoint(cp);
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT seq, entry FROM audit_log WHERE seq >= ? ORDER BY seq")) {
                // a write's entry names each of its versions with their hashes: a large transaction's is hundreds of
                // KB, so a few hundred rows at a time
                ps.setFetchSize(200);
                ps.setLong(1, from);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        byte[] e = rs.getBytes(2);
                        for (byte b : e) {
                            if (b == '\n') {
                                throw new IllegalStateException("記録 " + rs.getLong(1) + " に改行が含まれています（改ざん）"
                                        + " / stored entry " + rs.getLong(1) + " contains a newline: it was altered");
                            }
                        }
                        w.append(e);
                        n++;
                    }
                }
            }
        }
        return new Exported(n, cps.size() + (start != null ? 1 : 0), anchorOnly, from);
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
