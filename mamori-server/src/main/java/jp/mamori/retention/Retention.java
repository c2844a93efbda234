package jp.mamori.retention;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.ResourceRef;
import jp.mamori.db.DataAccessException;
import jp.mamori.db.Database;
import jp.mamori.db.Tx;
import jp.mamori.records.RecordDisposal;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Retention periods per kind of record, legal holds, and the two-administrator disposal workflow (issue 16; STORE-6,
 * STORE-8, DISPOSAL-1, DISPOSAL-5, DISPOSAL-7, DISPOSAL-8; ADR 0011).
 * <ul>
 *   <li>Rules are data ({@code retention_rule}); a period shorter than the law's is refused (STORE-6: 医師法§33-2
 *       fines the loss of a 診療録 within 5 years), a longer one is fine; every change is an audit entry.</li>
 *   <li>Candidates are whole patients past retention, not under a legal hold and not referenced from outside
 *       ({@link RecordDisposal}), read a page at a time.</li>
 *   <li>A batch freezes each resource's version count and newest chain hash. Two distinct administrators approve it
 *       (the proposer may be one of them: two people see every disposal, and a clinic with two administrators can
 *       dispose at all; one person never can); the second approval executes it through records' removal function on
 *       an owner connection, with the signed disposal entry staged in the same transaction. A resource that changed
 *       meanwhile makes the batch stale: nothing is removed and the batch is closed as refused.</li>
 * </ul>
 */
public final class Retention {
    /** At most this many patients in one batch (DISPOSAL-1: a batch a person can review). */
    public static final int MAX_PATIENTS = 50;
    /** At most this many resources in one batch, and in one patient's compartment. */
    public static final int MAX_RESOURCES = 2000;
    /** At most this many legal holds (they are passed to every candidate query). */
    public static final int MAX_HOLDS = 5000;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Database db;
    private final AuditRecorder audit;
    private final AuditReports reports;
    private final Clock clock;

    /**
     * @param db      the database: the runtime pool for everything but the removal, its owner login for that
     * @param reports the trail's reports, for {@link #verify}
     * @param clock   "now" for retention (tests move it forward years)
     */
    public Retention(Database db, AuditRecorder audit, AuditReports reports, Clock clock) {
        this.db = db;
        this.audit = audit;
        this.reports = reports;
        this.clock = clock;
    }

    public Clock clock() {
        return clock;
    }

    // ------------------------------------------------------------------ rules

    /** A kind of record and its period. */
    public record Rule(String kind, String nameJa, String nameEn, List<String> types, int years, int lawYears,
                       String basisJa, String basisEn, String changedBy, Instant changedAt) {
    }

    public List<Rule> rules() {
        return Tx.read(db.dataSource(), Retention::rules);
    }

    private static List<Rule> rules(Connection c) throws SQLException {
        List<Rule> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT kind, name_ja, name_en, types, years, law_years,"
                + " basis_ja, basis_en, changed_by, changed_at FROM retention_rule ORDER BY position");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Timestamp at = rs.getTimestamp(10);
                out.add(new Rule(rs.getString(1), rs.getString(2), rs.getString(3),
                        List.of((String[]) rs.getArray(4).getArray()), rs.getInt(5), rs.getInt(6), rs.getString(7),
                        rs.getString(8), rs.getString(9), at == null ? null : at.toInstant()));
            }
        }
        return out;
    }

    /** The rules as the candidate query takes them. */
    static RecordDisposal.Periods periods(List<Rule> rules) {
        Map<String, Integer> byType = new HashMap<>();
        int other = 5;
        for (Rule r : rules) {
            if (r.kind().equals("other")) {
                other = r.years();
            }
            for (String t : r.types()) {
                byType.put(t, r.years());
            }
        }
        return new RecordDisposal.Periods(byType, other);
    }

    /**
     * Sets the period of {@code kind} to {@code years}.
     *
     * @throws RetentionException for an unknown kind, or fewer years than the law's (or than 1), or more than 100
     */
    public Rule setYears(Actor by, String kind, int years) {
        Rule before = rules().stream().filter(r -> r.kind().equals(kind)).findFirst().orElseThrow(() ->
                new RetentionException("その種類の記録はありません / no such kind of record"));
        int floor = Math.max(1, before.lawYears());
        if (years < floor) {
            throw new RetentionException(before.nameJa() + "の保存期間は法定の " + floor + " 年より短くできません / the period of "
                    + before.nameEn() + " cannot be shorter than the statutory " + floor + " years");
        }
        if (years > 100) {
            throw new RetentionException("保存期間は 100 年までです / a period is at most 100 years");
        }
        Tx.inTransaction(db.dataSource(), c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE retention_rule SET years = ?, changed_by = ?,"
                    + " changed_at = ? WHERE kind = ?")) {
                ps.setInt(1, years);
                ps.setString(2, by.display() == null ? by.principal() : by.display());
                ps.setTimestamp(3, Timestamp.from(clock.instant()));
                ps.setString(4, kind);
                ps.executeUpdate();
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.RETENTION_RULE).detail("kind", kind)
                    .detail("before", Integer.toString(before.years())).detail("after", Integer.toString(years))
                    .detail("lawYears", Integer.toString(before.lawYears())).build());
            return null;
        });
        audit.drainSoon();
        return rules().stream().filter(r -> r.kind().equals(kind)).findFirst().orElseThrow();
    }

    // ------------------------------------------------------------------ legal holds

    /** A patient whose records are kept whatever the dates say (litigation, an inquiry). */
    public record Hold(String patientId, String reason, String heldBy, Instant heldAt) {
    }

    public List<Hold> holds() {
        return Tx.read(db.dataSource(), c -> {
            List<Hold> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT patient_id, reason, held_by, held_at FROM legal_hold"
                    + " ORDER BY held_at DESC, patient_id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Hold(rs.getString(1), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant()));
                }
            }
            return out;
        });
    }

    /** The names of these patients (family given) where the record store has them. */
    public Map<String, String> patientNames(java.util.Collection<String> patientIds) {
        return Tx.read(db.dataSource(), c -> RecordDisposal.names(c, patientIds));
    }

    private static List<String> heldIds(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT patient_id FROM legal_hold LIMIT " + MAX_HOLDS);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    public void hold(Actor by, String patientId, String reason) {
        String id = patientId(patientId);
        String why = reason(reason);
        Tx.inTransaction(db.dataSource(), c -> {
            try (PreparedStatement count = c.prepareStatement("SELECT count(*) FROM legal_hold");
                 ResultSet rs = count.executeQuery()) {
                rs.next();
                if (rs.getLong(1) >= MAX_HOLDS) {
                    throw new RetentionException("法的保存は " + MAX_HOLDS + " 件までです / at most " + MAX_HOLDS
                            + " legal holds");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO legal_hold (patient_id, reason, held_by,"
                    + " held_at) VALUES (?, ?, ?, ?) ON CONFLICT (patient_id) DO UPDATE SET reason = EXCLUDED.reason")) {
                ps.setString(1, id);
                ps.setString(2, why);
                ps.setString(3, by.display() == null ? by.principal() : by.display());
                ps.setTimestamp(4, Timestamp.from(clock.instant()));
                ps.executeUpdate();
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.RETENTION_HOLD).patient(PatientRef.of(id))
                    .detail("hold", "set").detail("reason", why).build());
            return null;
        });
        audit.drainSoon();
    }

    public void release(Actor by, String patientId) {
        String id = patientId(patientId);
        Tx.inTransaction(db.dataSource(), c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM legal_hold WHERE patient_id = ?")) {
                ps.setString(1, id);
                if (ps.executeUpdate() == 0) {
                    throw new RetentionException("この患者には法的保存が設定されていません / this patient has no legal hold");
                }
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.RETENTION_HOLD).patient(PatientRef.of(id))
                    .detail("hold", "released").build());
            return null;
        });
        audit.drainSoon();
    }

    // ------------------------------------------------------------------ candidates

    /**
     * A candidate with the open batch it is already in, if any.
     *
     * @param openBatch the open batch that holds this patient, or 0
     */
    public record Candidate(RecordDisposal.Candidate facts, long openBatch) {
    }

    /** A page of candidates and the cursor of the next (null at the end). */
    public record Page(List<Candidate> candidates, String next) {
    }

    /** Up to {@code limit} (at most 200) candidates after {@code after} (null: from the start), in patient id order. */
    public Page candidates(String after, int limit) {
        int n = Math.max(1, Math.min(limit, 200));
        if (after != null && !ID.matcher(after).matches()) {
            throw new RetentionException("続きの位置が正しくありません / the page cursor is not valid");
        }
        return Tx.read(db.dataSource(), c -> {
            List<RecordDisposal.Candidate> found = RecordDisposal.candidates(c, periods(rules(c)), heldIds(c),
                    clock.instant(), after, n + 1);
            String next = null;
            if (found.size() > n) {
                found = found.subList(0, n);
                next = found.get(n - 1).patientId();
            }
            Map<String, Long> open = openBatches(c, found.stream().map(RecordDisposal.Candidate::patientId).toList());
            List<Candidate> out = new ArrayList<>();
            for (RecordDisposal.Candidate f : found) {
                out.add(new Candidate(f, open.getOrDefault(f.patientId(), 0L)));
            }
            return new Page(out, next);
        });
    }

    private static Map<String, Long> openBatches(Connection c, List<String> patients) throws SQLException {
        Map<String, Long> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT i.patient_id, b.batch_id FROM disposal_item i"
                + " JOIN disposal_batch b ON b.batch_id = i.batch_id AND b.status = 'proposed'"
                + " WHERE i.patient_id = ANY(?) AND i.res_type = 'Patient'")) {
            ps.setArray(1, c.createArrayOf("text", patients.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), rs.getLong(2));
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ batches

    /** One resource of a batch. */
    public record Item(String patientId, String patientName, String type, String id, int versions, String lastChain,
                       Instant lastEntry) {
    }

    /** An approval. */
    public record Approval(String approver, String name, Instant at) {
    }

    /**
     * A batch.
     *
     * @param status proposed, rejected or executed
     */
    public record Batch(long id, String status, String reason, String proposedBy, String proposedName,
                        Instant proposedAt, String closedBy, String closedName, Instant closedAt, String closeReason,
                        List<Approval> approvals, List<Item> items, String rules) {
        public boolean open() {
            return status.equals("proposed");
        }

        /** The patients of the batch, in order. */
        public List<String> patients() {
            return items.stream().map(Item::patientId).distinct().toList();
        }

        public boolean approvedBy(String principal) {
            return approvals.stream().anyMatch(a -> a.approver().equals(principal));
        }
    }

    /**
     * Proposes a batch of whole patients past retention. Each patient is checked again here (the list comes from a
     * person's form); the frozen list is what the approvers see and what the removal compares with.
     *
     * @throws RetentionException with one line for a person: too many or no patients, a malformed id, a patient who
     *                            is not (or no longer) a candidate, or already in an open batch
     */
    public Batch propose(Actor by, List<String> patientIds, String reason) {
        if (patientIds == null || patientIds.isEmpty()) {
            throw new RetentionException("廃棄する患者を選んでください / choose at least one patient");
        }
        if (patientIds.size() > MAX_PATIENTS) {
            throw new RetentionException("1 回の廃棄は " + MAX_PATIENTS + " 人までです（" + patientIds.size()
                    + " 人が指定されました） / at most " + MAX_PATIENTS + " patients per batch (" + patientIds.size()
                    + " given)");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (String p : patientIds) {
            ids.add(patientId(p));
        }
        String why = reason(reason);
        long id = Tx.inTransaction(db.dataSource(), c -> {
            List<Rule> rules = rules(c);
            RecordDisposal.Periods periods = periods(rules);
            List<String> held = heldIds(c);
            Instant now = clock.instant();
            Map<String, Long> open = openBatches(c, List.copyOf(ids));
            List<Item> items = new ArrayList<>();
            for (String p : ids) {
                if (open.containsKey(p)) {
                    throw new RetentionException("患者 " + p + " はすでに廃棄バッチ " + open.get(p) + " に含まれています / patient "
                            + p + " is already in open batch " + open.get(p));
                }
                RecordDisposal.Candidate cand = RecordDisposal.candidate(c, periods, held, now, p).orElseThrow(() ->
                        new RetentionException("患者 " + p + " は廃棄の対象ではありません（保存期間内、法的保存中、他の記録から参照されている、"
                                + "または存在しない） / patient " + p + " is not a disposal candidate (within retention,"
                                + " under a legal hold, referenced by other records, or unknown)"));
                List<RecordDisposal.Item> comp = RecordDisposal.compartment(c, p, MAX_RESOURCES).orElseThrow(() ->
                        new RetentionException("患者 " + p + " の記録が多すぎます（" + MAX_RESOURCES + " 件まで） / patient "
                                + p + " has more than " + MAX_RESOURCES + " records"));
                for (RecordDisposal.Item it : comp) {
                    items.add(new Item(p, cand.name(), it.type(), it.id(), it.versions(), hex(it.lastChain()),
                            it.lastEntry()));
                }
                if (items.size() > MAX_RESOURCES) {
                    throw new RetentionException("1 回の廃棄は " + MAX_RESOURCES + " 件の記録までです / at most "
                            + MAX_RESOURCES + " records per batch");
                }
            }
            long batch;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO disposal_batch (reason, proposed_by,"
                    + " proposed_name, proposed_at, rules) VALUES (?, ?, ?, ?, ?) RETURNING batch_id")) {
                ps.setString(1, why);
                ps.setString(2, by.principal());
                ps.setString(3, name(by));
                ps.setTimestamp(4, Timestamp.from(now));
                ps.setString(5, rulesJson(rules));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    batch = rs.getLong(1);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO disposal_item (batch_id, position, patient_id,"
                    + " patient_name, res_type, res_id, versions, last_chain, last_entry)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                int pos = 0;
                for (Item it : items) {
                    ps.setLong(1, batch);
                    ps.setInt(2, pos++);
                    ps.setString(3, it.patientId());
                    ps.setString(4, it.patientName());
                    ps.setString(5, it.type());
                    ps.setString(6, it.id());
                    ps.setInt(7, it.versions());
                    ps.setBytes(8, HexFormat.of().parseHex(it.lastChain()));
                    ps.setTimestamp(9, Timestamp.from(it.lastEntry()));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.DISPOSAL_PROPOSE)
                    .patients(ids.stream().map(PatientRef::of).toList())
                    .detail("batch", Long.toString(batch)).detail("reason", why)
                    .detail("resources", Integer.toString(items.size()))
                    .detail("items", itemLines(items)).build());
            return batch;
        });
        audit.drainSoon();
        return batch(id).orElseThrow();
    }

    /**
     * Approves the batch as {@code by}. The second distinct approval executes it at once (on the database owner's
     * connection); the returned batch says how it ended.
     *
     * @throws RetentionException when the batch is not open, {@code by} approved it already, or it is stale
     */
    public Batch approve(Actor by, long batchId) {
        Batch b = batch(batchId).orElseThrow(() -> new RetentionException("その廃棄バッチはありません / no such batch"));
        if (!b.open()) {
            throw new RetentionException("廃棄バッチ " + batchId + " はすでに閉じています / batch " + batchId + " is closed");
        }
        if (b.approvals().stream().map(Approval::approver).distinct().count() >= 2) {
            // Approved twice, but the removal did not happen (the database failed meanwhile): any administrator
            // may run it again; the function checks the approvals and the frozen list as before.
            execute(by, batchId);
            return batch(batchId).orElseThrow();
        }
        if (b.approvedBy(by.principal())) {
            throw new RetentionException("同じ管理者が二度承認することはできません。別の管理者の承認が必要です / the same administrator"
                    + " cannot approve twice; a second administrator must approve");
        }
        int approvals = Tx.inTransaction(db.dataSource(), c -> {
            try (PreparedStatement lock = c.prepareStatement("SELECT status FROM disposal_batch WHERE batch_id = ?"
                    + " FOR UPDATE")) {
                lock.setLong(1, batchId);
                try (ResultSet rs = lock.executeQuery()) {
                    if (!rs.next() || !rs.getString(1).equals("proposed")) {
                        throw new RetentionException("廃棄バッチ " + batchId + " はすでに閉じています / batch " + batchId
                                + " is closed");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO disposal_approval (batch_id, approver,"
                    + " approver_name, approved_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                ps.setLong(1, batchId);
                ps.setString(2, by.principal());
                ps.setString(3, name(by));
                ps.setTimestamp(4, Timestamp.from(clock.instant()));
                if (ps.executeUpdate() == 0) {
                    throw new RetentionException("同じ管理者が二度承認することはできません / the same administrator cannot"
                            + " approve twice");
                }
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.DISPOSAL_APPROVE).patients(b.patients().stream()
                    .map(PatientRef::of).toList()).detail("batch", Long.toString(batchId)).build());
            try (PreparedStatement ps = c.prepareStatement("SELECT count(DISTINCT approver) FROM disposal_approval"
                    + " WHERE batch_id = ?")) {
                ps.setLong(1, batchId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
        audit.drainSoon();
        if (approvals >= 2) {
            execute(by, batchId);
        }
        return batch(batchId).orElseThrow();
    }

    /** Rejects an open batch with a reason. */
    public Batch reject(Actor by, long batchId, String reason) {
        String why = reason(reason);
        close(by, batchId, why, AuditAction.DISPOSAL_REJECT, Map.of());
        return batch(batchId).orElseThrow();
    }

    private void close(Actor by, long batchId, String why, AuditAction action, Map<String, String> detail) {
        Tx.inTransaction(db.dataSource(), c -> {
            List<String> patients = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT patient_id FROM disposal_item"
                    + " WHERE batch_id = ? ORDER BY patient_id")) {
                ps.setLong(1, batchId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        patients.add(rs.getString(1));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE disposal_batch SET status = 'rejected',"
                    + " closed_by = ?, closed_name = ?, closed_at = ?, close_reason = ?"
                    + " WHERE batch_id = ? AND status = 'proposed'")) {
                ps.setString(1, by.principal());
                ps.setString(2, name(by));
                ps.setTimestamp(3, Timestamp.from(clock.instant()));
                ps.setString(4, why);
                ps.setLong(5, batchId);
                if (ps.executeUpdate() == 0) {
                    throw new RetentionException("廃棄バッチ " + batchId + " は開いていません / batch " + batchId
                            + " is not open");
                }
            }
            audit.stage(c, AuditEvent.by(by, action).outcome(detail.isEmpty() ? Outcome.SUCCESS : Outcome.REFUSED)
                    .patients(patients.stream().map(PatientRef::of).toList())
                    .detail("batch", Long.toString(batchId)).detail("reason", why).details(detail).build());
            return null;
        });
        audit.drainSoon();
    }

    /**
     * Removes the batch's records through records' removal function on an owner connection, and stages the disposal
     * entry in the same transaction (DISPOSAL-7: the evidence commits with the removal or neither does).
     */
    private void execute(Actor by, long batchId) {
        Batch b = batch(batchId).orElseThrow();
        try (Connection c = db.ownerConnection()) {
            c.setAutoCommit(false);
            try {
                List<RecordDisposal.Removed> removed = RecordDisposal.dispose(c, batchId, by.principal(), name(by));
                AuditEvent.Builder e = AuditEvent.by(by, AuditAction.DISPOSAL_EXECUTE)
                        .patients(b.patients().stream().map(PatientRef::of).toList());
                for (Item it : b.items()) {
                    e.resource(ResourceRef.version(it.type(), it.id(), it.versions()));
                }
                StringBuilder versions = new StringBuilder();
                for (RecordDisposal.Removed r : removed) {
                    versions.append(r.type()).append('/').append(r.id()).append("/_history/").append(r.version())
                            .append(' ').append(r.recordedAt()).append(" content=")
                            .append(r.content() == null ? "-" : hex(r.content())).append(" chain=")
                            .append(hex(r.chain())).append('\n');
                }
                e.detail("batch", Long.toString(batchId)).detail("reason", b.reason())
                        .detail("proposedBy", b.proposedBy() + " " + b.proposedName() + " " + b.proposedAt())
                        .detail("approvedBy", String.join("; ", b.approvals().stream().map(a -> a.approver() + " "
                                + a.name() + " " + a.at()).toList()) + "; " + by.principal() + " " + name(by))
                        .detail("resources", Integer.toString(b.items().size()))
                        .detail("versionsRemoved", Integer.toString(removed.size()))
                        .detail("items", itemLines(b.items())).detail("versions", versions.toString())
                        .detail("rules", b.rules());
                audit.stage(c, e.build());
                c.commit();
            } catch (SQLException ex) {
                c.rollback();
                if ("MD002".equals(ex.getSQLState())) {
                    String what = ex.getMessage().replaceFirst("(?s).*mamori-stale: ", "").replaceFirst("(?s)\\n.*", "");
                    close(by, batchId, "stale: " + what, AuditAction.DISPOSAL_REJECT, Map.of("stale", what));
                    throw new RetentionException("提案後に記録が変わったため、廃棄バッチ " + batchId + " は実行せずに閉じました（"
                            + what + "） / batch " + batchId + " was closed without removing anything: a record changed"
                            + " after it was proposed (" + what + ")");
                }
                if ("MD001".equals(ex.getSQLState())) {
                    throw new RetentionException("廃棄バッチ " + batchId + " は実行できません / batch " + batchId
                            + " cannot be executed: " + ex.getMessage().replaceFirst("(?s).*mamori-disposal: ", "")
                            .replaceFirst("(?s)\\n.*", ""));
                }
                throw ex;
            } catch (RuntimeException ex) {
                c.rollback();
                throw ex;
            }
        } catch (SQLException ex) {
            throw new DataAccessException(ex);
        }
        audit.drainSoon();
    }

    public Optional<Batch> batch(long batchId) {
        return Tx.read(db.dataSource(), c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT batch_id, status, reason, proposed_by,"
                    + " proposed_name, proposed_at, closed_by, closed_name, closed_at, close_reason, rules"
                    + " FROM disposal_batch WHERE batch_id = ?")) {
                ps.setLong(1, batchId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<Batch>empty();
                    }
                    Timestamp closed = rs.getTimestamp(9);
                    return Optional.of(new Batch(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getTimestamp(6).toInstant(), rs.getString(7), rs.getString(8),
                            closed == null ? null : closed.toInstant(), rs.getString(10), approvals(c, batchId),
                            items(c, batchId), rs.getString(11)));
                }
            }
        });
    }

    /** The newest batches (open ones first), without their items. */
    public List<Batch> batches(int limit) {
        return Tx.read(db.dataSource(), c -> {
            List<Batch> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT batch_id, status, reason, proposed_by,"
                    + " proposed_name, proposed_at, closed_by, closed_name, closed_at, close_reason, rules"
                    + " FROM disposal_batch ORDER BY status <> 'proposed', batch_id DESC LIMIT ?")) {
                ps.setInt(1, Math.max(1, Math.min(limit, 200)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Timestamp closed = rs.getTimestamp(9);
                        long id = rs.getLong(1);
                        out.add(new Batch(id, rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                                rs.getTimestamp(6).toInstant(), rs.getString(7), rs.getString(8),
                                closed == null ? null : closed.toInstant(), rs.getString(10), List.of(), List.of(),
                                rs.getString(11)));
                    }
                }
            }
            for (int i = 0; i < out.size(); i++) {
                Batch b = out.get(i);
                out.set(i, new Batch(b.id(), b.status(), b.reason(), b.proposedBy(), b.proposedName(),
                        b.proposedAt(), b.closedBy(), b.closedName(), b.closedAt(), b.closeReason(),
                        approvals(c, b.id()), List.of(), b.rules()));
            }
            return out;
        });
    }

    private static List<Approval> approvals(Connection c, long batchId) throws SQLException {
        List<Approval> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT approver, approver_name, approved_at"
                + " FROM disposal_approval WHERE batch_id = ? ORDER BY approved_at")) {
            ps.setLong(1, batchId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Approval(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant()));
                }
            }
        }
        return out;
    }

    private static List<Item> items(Connection c, long batchId) throws SQLException {
        List<Item> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT patient_id, patient_name, res_type, res_id, versions,"
                + " last_chain, last_entry FROM disposal_item WHERE batch_id = ? ORDER BY position")) {
            ps.setLong(1, batchId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Item(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getInt(5),
                            hex(rs.getBytes(6)), rs.getTimestamp(7).toInstant()));
                }
            }
        }
        return out;
    }

    /** What a disposal means for the backups (ADR 0010 §4), on every certificate (DISPOSAL-8, EXT-6). */
    static final String BACKUPS_NOTE = "廃棄日より前に取得したバックアップには、その世代が終わるまでこれらの記録が残ります（廃棄より前の時点へ復元した"
            + "ときだけ戻ります）。利用を終えるときは mamori backup destroy で全バックアップを廃棄します / backups taken before the"
            + " disposal keep these records until their generations end (only a restore to a moment before the disposal"
            + " brings them back); when the use of the system ends, mamori backup destroy destroys every backup";

    /**
     * The disposal certificate (廃棄証明, DISPOSAL-7) of an executed batch as JSON: what, whose, how many versions,
     * the last chain hash of each, who proposed and approved, when, and under which rules.
     */
    public String certificate(Actor by, long batchId) {
        Batch b = batch(batchId).orElseThrow(() -> new RetentionException("その廃棄バッチはありません / no such batch"));
        if (!b.status().equals("executed")) {
            throw new RetentionException("廃棄証明は実行済みの廃棄バッチにだけあります / a certificate exists only for an"
                    + " executed batch");
        }
        ObjectNode o = JSON.createObjectNode();
        o.put("title", "廃棄証明 / Certificate of disposal");
        o.put("batch", b.id());
        o.put("reason", b.reason());
        o.put("proposedBy", b.proposedName());
        o.put("proposedAt", b.proposedAt().toString());
        ArrayNode ap = o.putArray("approvedBy");
        for (Approval a : b.approvals()) {
            ap.addObject().put("name", a.name()).put("at", a.at().toString());
        }
        o.put("executedBy", b.closedName());
        o.put("executedAt", b.closedAt().toString());
        ArrayNode items = o.putArray("records");
        for (Item it : b.items()) {
            items.addObject().put("patient", it.patientId()).put("patientName", it.patientName())
                    .put("resource", it.type() + "/" + it.id()).put("versions", it.versions())
                    .put("lastChainSha256", it.lastChain()).put("lastEntry", it.lastEntry().toString());
        }
        o.put("backups", BACKUPS_NOTE);
        try {
            o.set("rules", JSON.readTree(b.rules()));
            String text = JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o);
            audit.append(AuditEvent.by(by, AuditAction.EXPORT).patients(b.patients().stream().map(PatientRef::of)
                    .toList()).detail("what", "disposal certificate").detail("batch", Long.toString(batchId)).build());
            return text;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ verify

    /** What {@link #verify} found. */
    public record Report(long disposals, long tombstones, long namedResources, List<String> findings) {
        public boolean ok() {
            return findings.isEmpty();
        }
    }

    /**
     * Checks tombstones and the trail against each other: every resource an executed disposal names has a tombstone
     * with the same version count and last chain hash, every tombstone belongs to such an entry, and no resource the
     * trail says was created has vanished without a tombstone (a DELETE outside the disposal path, e.g. by the
     * database superuser with the trigger disabled). What this cannot see: a record removed together with every
     * audit entry naming it, which the trail's own verifier reports as a broken chain (ADR 0011).
     */
    public Report verify(Actor by) {
        List<String> findings = new ArrayList<>();
        Consumer<String> find = f -> {
            if (findings.size() < 1000) {
                findings.add(f);
            }
        };
        Map<Long, Integer> perBatch = new HashMap<>();
        long[] disposals = {0};
        Tx.read(db.dataSource(), c -> {
            reports.forEachOf(List.of(AuditAction.DISPOSAL_EXECUTE.code), s -> {
                disposals[0]++;
                try {
                    JsonNode d = JSON.readTree(s.entry()).path("detail");
                    long batch = Long.parseLong(d.path("batch").asText("-1"));
                    Map<String, String[]> lines = new LinkedHashMap<>();
                    for (String line : d.path("items").asText("").split("\n")) {
                        String[] f = line.split(" ");
                        if (f.length >= 3) {
                            lines.put(f[0], f);
                        }
                    }
                    perBatch.merge(batch, lines.size(), Integer::sum);
                    for (Map.Entry<String, String[]> l : lines.entrySet()) {
                        String[] ti = l.getKey().split("/");
                        Optional<RecordDisposal.Tombstone> t = RecordDisposal.tombstone(c, ti[0], ti[1]);
                        if (t.isEmpty()) {
                            find.accept("audit entry " + s.seq() + " says " + l.getKey() + " was disposed of, but it has"
                                    + " no tombstone / 廃棄記録に対応する墓標がありません");
                        } else if (t.get().batch() != batch || !("versions=" + t.get().versions()).equals(l.getValue()[1])
                                || !("last=" + hex(t.get().lastChain())).equals(l.getValue()[2])) {
                            find.accept("the tombstone of " + l.getKey() + " does not match audit entry " + s.seq()
                                    + " / 墓標と廃棄記録が一致しません");
                        }
                    }
                } catch (IOException | SQLException | RuntimeException e) {
                    find.accept("audit entry " + s.seq() + " cannot be read as a disposal: " + e.getMessage());
                }
            });
            return null;
        });
        long[] tombstones = {0};
        Map<Long, Integer> seen = new HashMap<>();
        Tx.read(db.dataSource(), c -> {
            RecordDisposal.forEachTombstone(c, t -> {
                tombstones[0]++;
                seen.merge(t.batch(), 1, Integer::sum);
                if (!perBatch.containsKey(t.batch())) {
                    find.accept("the tombstone of " + t.type() + "/" + t.id() + " (batch " + t.batch() + ") has no"
                            + " disposal entry in the audit trail / 監査証跡に廃棄記録のない墓標があります");
                }
            });
            return null;
        });
        perBatch.forEach((batch, n) -> {
            if (seen.getOrDefault(batch, 0) < n) {
                find.accept("batch " + batch + ": " + n + " records in the audit trail, " + seen.getOrDefault(batch, 0)
                        + " tombstones / 廃棄記録と墓標の数が違います");
            }
        });
        long[] named = {0};
        Set<String> chunk = new LinkedHashSet<>();
        Consumer<Set<String>> flush = set -> {
            if (set.isEmpty()) {
                return;
            }
            Set<String> gone = Tx.read(db.dataSource(), c -> RecordDisposal.vanished(c, set));
            for (String g : gone) {
                find.accept(g + " is named in the audit trail but is neither stored nor disposed of (removed outside"
                        + " the disposal path) / " + g + " は監査証跡にありますが、保存も廃棄の記録もありません");
            }
            set.clear();
        };
        // Every successful write names the versions it stored in its resources, a bundle's too (ApiAudit).
        reports.forEachOf(List.of(AuditAction.CREATE.code, AuditAction.UPDATE.code, AuditAction.DELETE.code,
                AuditAction.FINALIZE.code, AuditAction.AMEND.code, AuditAction.ENTERED_IN_ERROR.code,
                AuditAction.TRANSACTION.code), s -> {
            if (!"success".equals(s.outcome())) {
                return;
            }
            for (String r : s.resources()) {
                String[] p = r.split("/");
                if (p.length >= 2) {
                    named[0]++;
                    chunk.add(p[0] + "/" + p[1]);
                    if (chunk.size() >= 1000) {
                        flush.accept(chunk);
                    }
                }
            }
        });
        flush.accept(chunk);
        Report report = new Report(disposals[0], tombstones[0], named[0], List.copyOf(findings));
        audit.append(AuditEvent.by(by, AuditAction.VERIFY_RETENTION).outcome(Outcome.of(report.ok()))
                .detail("disposals", Long.toString(report.disposals()))
                .detail("tombstones", Long.toString(report.tombstones()))
                .detail("findings", Integer.toString(report.findings().size())).build());
        return report;
    }

    /**
     * Records that {@code by} was shown these patients on a retention page ({@code what}: candidates, batch N), before
     * the page is shown (AUDIT-1: every view of patient information is an entry).
     */
    public void viewed(Actor by, String what, java.util.Collection<String> patients) {
        audit.append(AuditEvent.by(by, AuditAction.RETENTION_VIEW).patients(patients.stream().distinct()
                .map(PatientRef::of).toList()).detail("page", what).build());
    }

    // ------------------------------------------------------------------ helpers

    private static String itemLines(List<Item> items) {
        StringBuilder sb = new StringBuilder();
        for (Item it : items) {
            sb.append(it.type()).append('/').append(it.id()).append(" versions=").append(it.versions())
                    .append(" last=").append(it.lastChain()).append(" patient=").append(it.patientId()).append('\n');
        }
        return sb.toString();
    }

    private static String rulesJson(List<Rule> rules) {
        ArrayNode a = JSON.createArrayNode();
        for (Rule r : rules) {
            a.addObject().put("kind", r.kind()).put("name", r.nameJa()).put("years", r.years())
                    .put("lawYears", r.lawYears()).put("basis", r.basisJa());
        }
        return a.toString();
    }

    static String patientId(String s) {
        if (s == null || !ID.matcher(s).matches()) {
            throw new RetentionException("患者IDが正しくありません（英数字・-・. の 64 文字まで） / not a patient id (1 to 64 of"
                    + " A-Z a-z 0-9 - .)");
        }
        return s;
    }

    static String reason(String s) {
        String r = s == null ? "" : s.strip();
        if (r.isEmpty() || r.length() > 500 || r.codePoints().anyMatch(cp -> Character.isISOControl(cp) && cp != '\n')) {
            throw new RetentionException("理由を 500 文字以内で入力してください / give a reason of at most 500 characters");
        }
        return r;
    }

    private static String name(Actor a) {
        return a.display() == null ? a.principal() : a.display();
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
