package jp.mamori.audit;

import jp.mamori.config.ServerConfig;
import jp.mamori.db.Tx;
import jp.mamori.identity.People;
import jp.mamori.kernel.TextNormalizer;
import jp.mamori.records.PatientNames;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The reports over the trail (AUDIT-2, AUDIT-8, AUDIT-10), each a query over the indexed columns of
 * {@code audit_entry}, and the review sign-off. Viewing a report is itself audited by the caller (the console
 * page), which knows who is looking.
 */
public final class AuditReports {
    /** Hospital time, for working hours and per-day counts. */
    public static final ZoneId JST = ZoneId.of("Asia/Tokyo");
    /** Actions that read or write patient data (the rest are security and administration events). */
    static final String RECORD_ACTIONS = "('read', 'vread', 'search', 'history', 'create', 'update', 'delete',"
            + " 'finalize', 'amend', 'entered-in-error', 'transaction', 'export', 'print', 'break-glass.use')";
    private static final String COLUMNS = "seq, recorded_at, actor, actor_kind, actor_display, roles, department,"
            + " patients, action, outcome, purpose, resources, address, session_hash, break_glass";

    /** One entry as the reports show it. */
    public record Row(long seq, Instant at, String actor, String kind, String display, List<String> roles,
                      String department, List<String> patients, String action, String outcome, String purpose,
                      List<String> resources, String address, String session, boolean breakGlass) {
    }

    /** Entries of one patient in a window, and the counts per patient (AUDIT-10). */
    public record PatientCount(String patient, long accesses, long people) {
    }

    /** A person's day that stands out against their own median. */
    public record UnusualDay(String actor, String display, LocalDate day, long count, double median) {
    }

    /** An access by a staff member to a patient with the same family name. */
    public record SameName(Row entry, String patient, String familyName) {
    }

    public record Review(long id, LocalDate from, LocalDate to, String department, String findings, String reviewer,
                         Instant at) {
    }

    /** One day of the coverage dashboard: entries that day, and the reviews covering it. */
    public record CoverageDay(LocalDate day, long entries, List<Long> reviews) {
        public boolean reviewed() {
            return !reviews.isEmpty();
        }
    }

    private final DataSource ds;
    private final ServerConfig.AuditOptions options;

    public AuditReports(DataSource ds, ServerConfig.AuditOptions options) {
        this.ds = ds;
        this.options = options;
    }

    public ServerConfig.AuditOptions options() {
        return options;
    }

    /** Who accessed this patient's record, oldest first (also the disclosure printout for the patient). */
    public List<Row> patientAccess(String patient, Instant from, Instant to, int limit) {
        return rows("WHERE patients @> ARRAY[?]::text[] AND recorded_at >= ? AND recorded_at < ? ORDER BY seq LIMIT ?",
                patient, from, to, limit);
    }

    /** What one person or client did, oldest first. */
    public List<Row> actorActivity(String actor, Instant from, Instant to, int limit) {
        return rows("WHERE actor = ANY(?) AND recorded_at >= ? AND recorded_at < ? ORDER BY seq LIMIT ?",
                actorForms(actor), from, to, limit);
    }

    /**
     * The forms an actor is recorded under: a person appears as {@code account:UUID} (record access) and as
     * {@code account:LOGIN} (console administration); either form, or a bare login id, finds both.
     */
    String[] actorForms(String actor) {
        String key = actor.startsWith("account:") ? actor.substring(8) : actor;
        return Tx.read(ds, c -> People.byIdOrLogin(c, key)
                .map(p -> new String[]{"account:" + p.id(), "account:" + p.loginId()})
                .orElse(new String[]{actor}));
    }

    /**
     * The patients {@code actor} read most recently (from their own successful single-patient reads, newest first),
     * at most {@code limit}: the clinician console's recent patients. Only ids; the caller decides what is shown.
     */
    public List<String> recentPatients(String actor, int limit) {
        return Tx.read(ds, c -> {
            List<String> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT p FROM (SELECT e.seq, unnest(e.patients) AS p"
                    + " FROM audit_entry e WHERE e.actor = ? AND e.action = 'read' AND e.outcome = 'success'"
                    + " AND cardinality(e.patients) = 1 ORDER BY e.seq DESC LIMIT 500) x GROUP BY p"
                    + " ORDER BY max(x.seq) DESC LIMIT ?")) {
                ps.setString(1, actor);
                ps.setInt(2, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1));
                    }
                }
            }
            return out;
        });
    }

    /**
     * The entries made under one vendor maintenance work order (issue 19; MAINT-4, MAINT-9): every entry whose
     * {@code detail.workOrder} is {@code number}, recorded in [{@code from}, {@code to}), oldest first, at most
     * {@code limit}. The time range uses the trail's index; the work order is read from the entry itself (the hashed
     * bytes, so the report says nothing the trail does not). The request's own steps (filed, approved, refused) and the
     * report's ({@code maintenance.report*}) are left out: they are about the paperwork, not the work.
     */
    public List<Row> underWorkOrder(String number, Instant from, Instant to, int limit) {
        return rows(WORK_ORDER_WHERE + " ORDER BY seq LIMIT ?", from, to, number, limit);
    }

    /** As {@link #underWorkOrder}, newest first: the live view of a running job (MAINT-3). */
    public List<Row> latestUnderWorkOrder(String number, Instant from, Instant to, int limit) {
        return rows(WORK_ORDER_WHERE + " ORDER BY seq DESC LIMIT ?", from, to, number, limit);
    }

    /** How many entries {@link #underWorkOrder} would give without a limit. */
    public long countUnderWorkOrder(String number, Instant from, Instant to) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM audit_entry " + WORK_ORDER_WHERE)) {
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setTimestamp(2, Timestamp.from(to));
                ps.setString(3, number);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    private static final String WORK_ORDER_WHERE = "WHERE recorded_at >= ? AND recorded_at < ?"
            + " AND convert_from(entry, 'UTF8')::jsonb -> 'detail' ->> 'workOrder' = ?"
            + " AND action NOT LIKE 'maintenance.report%'"
            + " AND action NOT IN ('maintenance.request', 'maintenance.approve', 'maintenance.refuse')";

    /** Every access to patient data in the window, in time order (AUDIT-10: identifiers in time order). */
    public List<Row> window(Instant from, Instant to, int limit) {
        return rows("WHERE recorded_at >= ? AND recorded_at < ? AND cardinality(patients) > 0 AND action IN "
                + RECORD_ACTIONS + " ORDER BY seq LIMIT ?", from, to, limit);
    }

    /** How often each patient was accessed in the window, and by how many different actors, most first. */
    public List<PatientCount> countsPerPatient(Instant from, Instant to) {
        return Tx.read(ds, c -> {
            List<PatientCount> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT p, count(*), count(DISTINCT actor) FROM audit_entry,"
                    + " unnest(patients) AS p WHERE recorded_at >= ? AND recorded_at < ? AND action IN " + RECORD_ACTIONS
                    + " GROUP BY p ORDER BY count(*) DESC, p LIMIT 1000")) {
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setTimestamp(2, Timestamp.from(to));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new PatientCount(rs.getString(1), rs.getLong(2), rs.getLong(3)));
                    }
                }
            }
            return out;
        });
    }

    /** Everything done under break-glass in the window. */
    public List<Row> breakGlass(Instant from, Instant to, int limit) {
        return rows("WHERE break_glass AND recorded_at >= ? AND recorded_at < ? ORDER BY seq LIMIT ?", from, to, limit);
    }

    /**
     * What "after hours" means, the one definition for the report and its alert (ops' AccessWatch): a person's
     * access to patient data outside working hours (Japan time) or on a weekend.
     */
    private String afterHoursWhere() {
        return "WHERE recorded_at >= ? AND recorded_at < ? AND actor_kind = 'person' AND cardinality(patients) > 0"
                + " AND (extract(hour FROM recorded_at AT TIME ZONE 'Asia/Tokyo') < " + options.workStartHour()
                + " OR extract(hour FROM recorded_at AT TIME ZONE 'Asia/Tokyo') >= " + options.workEndHour()
                + " OR extract(isodow FROM recorded_at AT TIME ZONE 'Asia/Tokyo') >= 6)";
    }

    /** Accesses to patient data by people outside working hours (Japan time) or on a weekend. */
    public List<Row> afterHours(Instant from, Instant to, int limit) {
        return rows(afterHoursWhere() + " ORDER BY seq LIMIT ?", from, to, limit);
    }

    /** A person and how many of their accesses a report counted. */
    public record PersonCount(String actor, String display, long count) {
    }

    /** How many after-hours accesses ({@link #afterHours}) each person made in the window, most first. */
    public List<PersonCount> afterHoursCounts(Instant from, Instant to) {
        return Tx.read(ds, c -> {
            List<PersonCount> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT actor, max(actor_display), count(*) FROM audit_entry "
                    + afterHoursWhere() + " GROUP BY actor ORDER BY count(*) DESC, actor LIMIT 1000")) {
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setTimestamp(2, Timestamp.from(to));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new PersonCount(rs.getString(1), rs.getString(2), rs.getLong(3)));
                    }
                }
            }
            return out;
        });
    }

    /** The working hours [start, end) in Japan time that {@link #afterHours} uses. */
    public int[] workingHours() {
        return new int[]{options.workStartHour(), options.workEndHour()};
    }

    /** The factor above a person's own median daily count that makes a day unusual ({@link #unusualVolume}). */
    public double volumeFactor() {
        return options.volumeFactor();
    }

    /** People's days with more than {@code volumeFactor} times their own median daily count of record accesses. */
    public List<UnusualDay> unusualVolume(Instant from, Instant to) {
        return Tx.read(ds, c -> {
            List<UnusualDay> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("WITH d AS (SELECT actor, max(actor_display) AS display,"
                    + " (recorded_at AT TIME ZONE 'Asia/Tokyo')::date AS day, count(*) AS n FROM audit_entry"
                    + " WHERE recorded_at >= ? AND recorded_at < ? AND actor_kind = 'person' AND action IN "
                    + RECORD_ACTIONS + " GROUP BY actor, day), m AS (SELECT actor,"
                    + " percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS median FROM d GROUP BY actor)"
                    + " SELECT d.actor, d.display, d.day, d.n, m.median FROM d JOIN m USING (actor)"
                    + " WHERE d.n > ? * m.median ORDER BY d.day, d.actor")) {
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setTimestamp(2, Timestamp.from(to));
                ps.setDouble(3, options.volumeFactor());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new UnusualDay(rs.getString(1), rs.getString(2), rs.getDate(3).toLocalDate(),
                                rs.getLong(4), rs.getDouble(5)));
                    }
                }
            }
            return out;
        });
    }

    /**
     * Accesses by staff to patients who share their family name (kanji or kana, compared after the same
     * normalisation as name search): a relative's record is a classic misuse.
     */
    public List<SameName> sameFamilyName(Instant from, Instant to, int limit) {
        String where = " FROM audit_entry e CROSS JOIN unnest(e.patients) AS p WHERE e.recorded_at >= ?"
                + " AND e.recorded_at < ? AND e.actor_kind = 'person' AND e.action IN " + RECORD_ACTIONS;
        return Tx.read(ds, c -> {
            List<SameName> out = new ArrayList<>();
            // The people who accessed patients in the period, with their family names (identity's ledger), and the
            // family names of the patients they accessed (the record store's index): compared here, so that each
            // capability reads only its own tables (ADR 0009).
            Map<String, People.FamilyName> people = new HashMap<>();
            Map<String, Set<String>> patientsByName = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT e.actor, p" + where)) {
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setTimestamp(2, Timestamp.from(to));
                Map<String, Set<String>> patientsOf = new HashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String actor = rs.getString(1);
                        if (actor.startsWith("account:")) {
                            patientsOf.computeIfAbsent(actor.substring(8), k -> new HashSet<>()).add(rs.getString(2));
                        }
                    }
                }
                if (patientsOf.isEmpty()) {
                    return out;
                }
                people.putAll(People.familyNames(c, patientsOf.keySet()));
                Set<String> patients = new HashSet<>();
                people.keySet().forEach(k -> patients.addAll(patientsOf.get(k)));
                PatientNames.familyNameForms(c, patients).forEach((patient, names) -> names.forEach(n ->
                        patientsByName.computeIfAbsent(n, k -> new HashSet<>()).add(patient)));
            }
            // Per person, the patients whose family name (normalised as name search does) is theirs.
            Map<String, Set<String>> sameName = new HashMap<>();
            people.forEach((key, f) -> {
                Set<String> hit = new HashSet<>();
                for (String n : new String[]{TextNormalizer.normalize(f.kanji()), TextNormalizer.normalize(f.kana())}) {
                    hit.addAll(patientsByName.getOrDefault(n, Set.of()));
                }
                if (!hit.isEmpty()) {
                    sameName.put("account:" + key, hit);
                }
            });
            if (sameName.isEmpty()) {
                return out;
            }
            Map<Long, String[]> hits = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT e.seq, e.actor, p" + where
                    + " AND e.actor = ANY(?) ORDER BY e.seq")) {
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setTimestamp(2, Timestamp.from(to));
                ps.setArray(3, c.createArrayOf("text", sameName.keySet().toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (hits.size() < limit && rs.next()) {
                        if (sameName.get(rs.getString(2)).contains(rs.getString(3))) {
                            hits.putIfAbsent(rs.getLong(1), new String[]{rs.getString(3),
                                    people.get(rs.getString(2).substring(8)).kanji()});
                        }
                    }
                }
            }
            for (Map.Entry<Long, String[]> h : hits.entrySet()) {
                Row row = rowsIn(c, "WHERE seq = ?", List.of(h.getKey())).get(0);
                out.add(new SameName(row, h.getValue()[0], h.getValue()[1]));
            }
            return out;
        });
    }

    /**
     * An entry as the trail stored it, for a checker that reads what the trail says (retention's verify).
     *
     * @param entry the stored bytes: the JSON the checkpoints sign, detail included
     */
    public record Stored(long seq, String action, String outcome, List<String> patients, List<String> resources,
                         byte[] entry) {
    }

    /**
     * Every entry whose action is one of {@code actions}, in trail order, streamed (a cursor of 500 rows at a time):
     * never the whole trail in memory.
     */
    public void forEachOf(java.util.Collection<String> actions, java.util.function.Consumer<Stored> each) {
        Tx.read(ds, c -> {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, action, outcome, patients, resources, entry"
                    + " FROM audit_entry WHERE action = ANY(?) ORDER BY seq")) {
                ps.setArray(1, c.createArrayOf("text", actions.toArray()));
                ps.setFetchSize(500);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        each.accept(new Stored(rs.getLong(1), rs.getString(2), rs.getString(3),
                                AuditTrail.strings(rs.getArray(4)), AuditTrail.strings(rs.getArray(5)),
                                rs.getBytes(6)));
                    }
                }
            } finally {
                c.rollback();
                c.setAutoCommit(auto);
            }
            return null;
        });
    }

    /** The newest entries, newest first (the trail's status page). */
    public List<Row> latest(int limit) {
        return rows("ORDER BY seq DESC LIMIT ?", limit);
    }

    /** The size of the trail: the next leaf index. */
    public long size() {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT next_seq FROM audit_head");
                 ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0L;
            }
        });
    }

    // ---------------------------------------------------------------- review sign-off (AUDIT-2)

    /**
     * Records that {@code reviewer} reviewed the days {@code from}..{@code to} (optionally one department) with
     * these findings; the sign-off is also appended to the trail, in the same request.
     */
    public Review signOff(AuditTrail trail, LocalDate from, LocalDate to, String department, String findings,
                          String reviewer, String reviewerDisplay, String address) {
        if (from == null || to == null || to.isBefore(from)) {
            throw new IllegalArgumentException("期間が正しくありません / The period is not valid");
        }
        if (findings == null || findings.isBlank() || findings.length() > 4000) {
            throw new IllegalArgumentException("所見を入力してください（4000文字まで） / Enter the findings (up to 4000 characters)");
        }
        String dept = department == null || department.isBlank() ? null : department.strip();
        Instant now = Instant.now();
        long id = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO audit_review (period_from, period_to, department,"
                    + " findings, reviewer, reviewed_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING review_id")) {
                ps.setDate(1, Date.valueOf(from));
                ps.setDate(2, Date.valueOf(to));
                ps.setString(3, dept);
                ps.setString(4, findings.strip());
                ps.setString(5, reviewer);
                ps.setTimestamp(6, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
        Map<String, String> d = new TreeMap<>();
        d.put("review", Long.toString(id));
        d.put("from", from.toString());
        d.put("to", to.toString());
        d.put("findings", findings.strip());
        if (dept != null) {
            d.put("department", dept);
        }
        new AuditRecorder(trail).append(AuditEvent.by(Actor.person(reviewer, reviewerDisplay, List.of(), dept, address,
                null), AuditAction.AUDIT_REVIEW).purpose(Purpose.AUDIT).resource(ResourceRef.of("AuditReview",
                Long.toString(id))).details(d).at(now).build());
        return new Review(id, from, to, dept, findings.strip(), reviewer, now);
    }

    public List<Review> reviews(LocalDate from, LocalDate to) {
        return Tx.read(ds, c -> {
            List<Review> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT review_id, period_from, period_to, department,"
                    + " findings, reviewer, reviewed_at FROM audit_review WHERE period_to >= ? AND period_from <= ?"
                    + " ORDER BY period_from, review_id")) {
                ps.setDate(1, Date.valueOf(from));
                ps.setDate(2, Date.valueOf(to));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Review(rs.getLong(1), rs.getDate(2).toLocalDate(), rs.getDate(3).toLocalDate(),
                                rs.getString(4), rs.getString(5), rs.getString(6), rs.getTimestamp(7).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    /** Each day from {@code from} to {@code to}: how many entries, and which hospital-wide reviews cover it. */
    public List<CoverageDay> coverage(LocalDate from, LocalDate to) {
        List<Review> reviews = reviews(from, to);
        Map<LocalDate, Long> counts = Tx.read(ds, c -> {
            Map<LocalDate, Long> m = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT (recorded_at AT TIME ZONE 'Asia/Tokyo')::date, count(*)"
                    + " FROM audit_entry WHERE recorded_at >= ? AND recorded_at < ? GROUP BY 1")) {
                ps.setTimestamp(1, Timestamp.from(from.atStartOfDay(JST).toInstant()));
                ps.setTimestamp(2, Timestamp.from(to.plusDays(1).atStartOfDay(JST).toInstant()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        m.put(rs.getDate(1).toLocalDate(), rs.getLong(2));
                    }
                }
            }
            return m;
        });
        List<CoverageDay> out = new ArrayList<>();
        for (LocalDate d = from; !d.isAfter(to); d = d.plusDays(1)) {
            List<Long> by = new ArrayList<>();
            for (Review r : reviews) {
                if (r.department() == null && !d.isBefore(r.from()) && !d.isAfter(r.to())) {
                    by.add(r.id());
                }
            }
            out.add(new CoverageDay(d, counts.getOrDefault(d, 0L), by));
        }
        return out;
    }

    // ---------------------------------------------------------------- plumbing

    private List<Row> rows(String where, Object... args) {
        return Tx.read(ds, c -> rowsIn(c, where, List.of(args)));
    }

    private static List<Row> rowsIn(Connection c, String where, List<Object> args) throws SQLException {
        List<Row> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM audit_entry " + where)) {
            for (int i = 0; i < args.size(); i++) {
                Object a = args.get(i);
                if (a instanceof Instant t) {
                    ps.setTimestamp(i + 1, Timestamp.from(t));
                } else if (a instanceof String[] arr) {
                    ps.setArray(i + 1, c.createArrayOf("text", arr));
                } else {
                    ps.setObject(i + 1, a);
                }
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Row(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4),
                            rs.getString(5), AuditTrail.strings(rs.getArray(6)), rs.getString(7),
                            AuditTrail.strings(rs.getArray(8)), rs.getString(9), rs.getString(10), rs.getString(11),
                            AuditTrail.strings(rs.getArray(12)), rs.getString(13), rs.getString(14),
                            rs.getBoolean(15)));
                }
            }
        }
        return out;
    }
}
