package jp.mamori.maintenance;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Work requests (作業申請) for vendor maintenance and their approval in advance (issue 19; MAINT-1, MAINT-2, MAINT-3,
 * ACCT-3, ACCESS-6, ACCESS-7). A request names the vendor, one or more of its staff, the systems or functions, the
 * purpose, whether patient data must be seen or taken out (and why), the time window (at most {@link #MAX_WINDOW}, not
 * in the past, inside the vendor's contract period) and the source address (inside one of the vendor's routes). It is
 * numbered per year ({@code 2026-0001}) and never changed: approvals and refusals are further rows. The institution's
 * responsible person approves; a request that sees or takes out patient data needs two distinct approvers (MAINT-2);
 * the requester never approves their own; nothing is active before approval ({@link #activeFor}). Every step, and
 * every refused request, is an audit entry.
 *
 * <p>Enforcement at login and on each request reads {@link #activeFor}; it is built in the next part of issue 19.
 */
public final class WorkOrders {
    /** The longest window one request may ask for; a longer job is several requests, each approved. */
    public static final Duration MAX_WINDOW = Duration.ofHours(12);
    static final int MAX_STAFF = 20;
    static final int MAX_REASON = 1000;

    /** Where a request stands at a moment. */
    public enum State {
        /** Filed, not yet (fully) approved, window not over. */
        WAITING,
        /** Approved, the window has not begun. */
        APPROVED,
        /** Approved, inside its window. */
        ACTIVE,
        /** Approved, the window is over. */
        ENDED,
        /** Refused by a responsible person. */
        REFUSED,
        /** Never approved and its window is over. */
        LAPSED
    }

    /** A job ended at once by a responsible person (MAINT-3): from {@code at} its window is over. */
    public record EarlyEnd(String by, String byName, Instant at, String reason) {
    }

    /** One approval or refusal. */
    public record Decision(boolean approve, UUID by, String byName, Instant at, String reason) {
    }

    /** A request as filed, with its decisions so far. */
    public record WorkOrder(long seq, String number, int vendor, List<UUID> staff, String systems, String purpose,
                            boolean patientData, boolean exportData, String dataReason, Instant start, Instant end,
                            Cidr source, int route, UUID requester, String requesterName, Instant filedAt,
                            List<Decision> decisions, EarlyEnd early, List<String> patients) {
        /** Two approvers when patient data is seen or taken out (MAINT-2), one otherwise. */
        public int approvalsNeeded() {
            return patientData || exportData ? 2 : 1;
        }

        public long approvals() {
            return decisions.stream().filter(Decision::approve).count();
        }

        public Optional<Decision> refusal() {
            return decisions.stream().filter(d -> !d.approve()).findFirst();
        }

        public boolean approved() {
            return refusal().isEmpty() && approvals() >= approvalsNeeded();
        }

        public State state(Instant now) {
            if (refusal().isPresent()) {
                return State.REFUSED;
            }
            if (!approved()) {
                return now.isBefore(end) ? State.WAITING : State.LAPSED;
            }
            Instant over = over();
            return now.isBefore(start) && now.isBefore(over) ? State.APPROVED
                    : now.isBefore(over) ? State.ACTIVE : State.ENDED;
        }

        /** When the window is over: its end, or the instant it was ended at once when that came first. */
        public Instant over() {
            return early != null && early.at().isBefore(end) ? early.at() : end;
        }

        /** The early end, if a responsible person ended the job at once. */
        public Optional<EarlyEnd> endedEarly() {
            return Optional.ofNullable(early);
        }
    }

    /** A request as typed: the window in instants, the source as written. */
    public record NewRequest(int vendor, List<UUID> staff, String systems, String purpose, boolean patientData,
                             boolean exportData, String dataReason, Instant start, Instant end, String source,
                             List<String> patients) {
        /** Without patients: the job's staff reach no patient's chart. */
        public NewRequest(int vendor, List<UUID> staff, String systems, String purpose, boolean patientData,
                          boolean exportData, String dataReason, Instant start, Instant end, String source) {
            this(vendor, staff, systems, purpose, patientData, exportData, dataReason, start, end, source, List.of());
        }
    }

    /** The most patients one work order may name. */
    public static final int MAX_PATIENTS = 20;
    private static final java.util.regex.Pattern PATIENT_ID = java.util.regex.Pattern.compile("[0-9A-Za-z-]{1,40}");

    /**
     * The 患者ID (the Patient's identifier as the institution writes it) a request names, one per line or separated by
     * spaces or commas; refused when malformed, more than {@link #MAX_PATIENTS}, or named without patient data.
     */
    public static List<String> patients(String typed) {
        if (typed == null || typed.isBlank()) {
            return List.of();
        }
        if (typed.length() > 2000) {
            throw new MaintenanceException("対象患者の指定が長すぎます / the patients field is too long");
        }
        return patients(List.of(java.text.Normalizer.normalize(typed, java.text.Normalizer.Form.NFKC)
                .split("[\\s,、]+")));
    }

    /** The patients of a request as a list: the same rules as typed, each 患者ID checked, duplicates dropped. */
    static List<String> patients(List<String> ids) {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String typed : ids) {
            String id = typed == null ? "" : java.text.Normalizer.normalize(typed, java.text.Normalizer.Form.NFKC);
            if (id.isEmpty()) {
                continue;
            }
            if (!PATIENT_ID.matcher(id).matches()) {
                throw new MaintenanceException("対象患者は患者ID（英数字）で指定してください / name the patients by their"
                        + " patient ID (letters and digits)");
            }
            out.add(id);
        }
        if (out.size() > MAX_PATIENTS) {
            throw new MaintenanceException("対象患者は" + MAX_PATIENTS + "人までです / at most " + MAX_PATIENTS
                    + " patients");
        }
        return List.copyOf(out);
    }

    /**
     * What an approved request allows one vendor account now: read by {@link MaintenanceGate} on every request of a
     * vendor's session.
     *
     * @param allowedAddresses the source block the request approved (inside one of the vendor's routes)
     * @param scope            the systems or functions the request named
     */
    public record ActiveWindow(String workOrderNo, Instant until, List<Cidr> allowedAddresses, String scope,
                               boolean patientDataApproved, boolean exportApproved, List<String> patients) {
        /** Whether a connection from {@code address} (as the server saw it) is from an approved source. */
        public boolean admits(String address) {
            return allowedAddresses.stream().anyMatch(c -> c.containsAddress(address));
        }
    }

    private final DataSource db;
    private final AuditRecorder audit;
    private final Vendors vendors;
    private final Clock clock;
    private final ZoneId zone;

    public WorkOrders(DataSource db, AuditRecorder audit, Vendors vendors, Clock clock, ZoneId zone) {
        this.db = db;
        this.audit = audit;
        this.vendors = vendors;
        this.clock = clock;
        this.zone = zone;
    }

    public Vendors vendors() {
        return vendors;
    }

    public ZoneId zone() {
        return zone;
    }

    public Instant now() {
        return clock.instant();
    }

    // ---- reads -------------------------------------------------------------------------------------------------

    private static final String SELECT = "SELECT seq, year, number, vendor, staff, systems, purpose, patient_data,"
            + " export_data, data_reason, window_start, window_end, host(source) || '/' || masklen(source), route,"
            + " requester, requester_name, filed_at, patients FROM maintenance_work_order";

    private static List<WorkOrder> load(Connection c, String where, Object... params) throws SQLException {
        Map<Long, List<Decision>> decisions = new HashMap<>();
        List<Object[]> rows = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(SELECT + " " + where + " ORDER BY seq DESC LIMIT 1000")) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Object[] r = new Object[18];
                    for (int i = 0; i < 17; i++) {
                        r[i] = i == 4 ? List.of((UUID[]) rs.getArray(5).getArray()) : rs.getObject(i + 1);
                    }
                    r[17] = List.of((String[]) rs.getArray(18).getArray());
                    rows.add(r);
                }
            }
        }
        if (rows.isEmpty()) {
            return List.of();
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT work_order, decision, by_account, by_name, at, reason"
                + " FROM maintenance_work_order_decision WHERE work_order = ANY (?) ORDER BY seq")) {
            ps.setArray(1, c.createArrayOf("bigint", rows.stream().map(r -> r[0]).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    decisions.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new Decision(
                            "approve".equals(rs.getString(2)), rs.getObject(3, UUID.class), rs.getString(4),
                            rs.getTimestamp(5).toInstant(), rs.getString(6)));
                }
            }
        }
        Map<Long, EarlyEnd> ends = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT work_order, by_who, by_name, at, reason"
                + " FROM maintenance_work_order_end WHERE work_order = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("bigint", rows.stream().map(r -> r[0]).toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ends.put(rs.getLong(1), new EarlyEnd(rs.getString(2), rs.getString(3),
                            rs.getTimestamp(4).toInstant(), rs.getString(5)));
                }
            }
        }
        List<WorkOrder> out = new ArrayList<>();
        for (Object[] r : rows) {
            long seq = (Long) r[0];
            @SuppressWarnings("unchecked")
            List<UUID> staff = (List<UUID>) r[4];
            out.add(new WorkOrder(seq, number((Integer) r[1], (Integer) r[2]), (Integer) r[3], staff, (String) r[5],
                    (String) r[6], (Boolean) r[7], (Boolean) r[8], (String) r[9], instant(r[10]), instant(r[11]),
                    Cidr.parse((String) r[12]).orElseThrow(), (Integer) r[13], (UUID) r[14], (String) r[15],
                    instant(r[16]), List.copyOf(decisions.getOrDefault(seq, List.of())), ends.get(seq),
                    castStrings(r[17])));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static List<String> castStrings(Object o) {
        return (List<String>) o;
    }

    private static Instant instant(Object o) {
        return o instanceof Timestamp t ? t.toInstant() : ((java.time.OffsetDateTime) o).toInstant();
    }

    static String number(int year, int n) {
        return year + "-" + String.format("%04d", n);
    }

    /** Every request, newest first (the latest 1000). */
    public List<WorkOrder> all() {
        return Tx.read(db, c -> load(c, ""));
    }

    /** A vendor's requests, newest first: what its staff see. */
    public List<WorkOrder> ofVendor(int vendor) {
        return Tx.read(db, c -> load(c, "WHERE vendor = ?", vendor));
    }

    /** A request by its number ({@code 2026-0001}). */
    public Optional<WorkOrder> find(String number) {
        if (number == null || !number.matches("[0-9]{4}-[0-9]{4}")) {
            return Optional.empty();
        }
        int year = Integer.parseInt(number.substring(0, 4));
        int n = Integer.parseInt(number.substring(5));
        return Tx.read(db, c -> load(c, "WHERE year = ? AND number = ?", year, n)).stream().findFirst();
    }

    /** How many requests wait for an approval now (the administrator's home; a probe may read it). */
    public long waiting() {
        Instant now = now();
        return Tx.read(db, c -> load(c, "WHERE window_end > ?", Timestamp.from(now))).stream()
                .filter(w -> w.state(now) == State.WAITING).count();
    }

    /**
     * What the account may do as maintenance at {@code now}: the approved request whose window holds {@code now} and
     * names the account among its staff; empty outside every approved window (nothing is active before approval).
     */
    public Optional<ActiveWindow> activeFor(UUID account, Instant now) {
        Timestamp t = Timestamp.from(now);
        return Tx.read(db, c -> load(c, "WHERE ? = ANY (staff) AND window_start <= ? AND window_end > ?", account, t, t))
                .stream().filter(w -> w.state(now) == State.ACTIVE).filter(w -> stillStaff(account, w.vendor()))
                .findFirst()
                .map(w -> new ActiveWindow(w.number(), w.over(), List.of(w.source()), w.systems(), w.patientData(),
                        w.exportData(), w.patientData() ? w.patients() : List.of()));
    }

    /** Whether the account is still one of the vendor's staff (a member removed after approval works no more). */
    private boolean stillStaff(UUID account, int vendor) {
        return vendors.staffOf(account).filter(e -> e.vendor() == vendor).isPresent()
                && vendors.find(Vendors.VENDOR, vendor).filter(v -> !v.retired()).isPresent();
    }

    // ---- filing ------------------------------------------------------------------------------------------------

    /**
     * Files a request. {@code requester} is the account that files it: one of the vendor's staff in the console, or
     * an administrator entering it for them.
     *
     * @throws MaintenanceException one line for the person; the refusal is also an audit entry
     */
    public WorkOrder file(Actor by, UUID requester, NewRequest n) {
        try {
            return fileChecked(by, requester, n);
        } catch (MaintenanceException e) {
            audit.append(AuditEvent.by(by, AuditAction.MAINTENANCE_REQUEST).outcome(Outcome.REFUSED)
                    .detail("vendor", Integer.toString(n.vendor())).detail("refused", e.getMessage()).build());
            throw e;
        }
    }

    private WorkOrder fileChecked(Actor by, UUID requester, NewRequest n) {
        Vendors.Entry vendor = vendors.find(Vendors.VENDOR, n.vendor()).filter(v -> !v.retired()).orElseThrow(
                () -> new MaintenanceException("その保守業者はありません / no such vendor"));
        LinkedHashSet<UUID> staff = new LinkedHashSet<>(n.staff() == null ? List.of() : n.staff());
        if (staff.isEmpty() || staff.size() > MAX_STAFF) {
            throw new MaintenanceException("作業者を1〜20人選んでください / choose 1 to 20 of the vendor's staff");
        }
        List<Vendors.Entry> theirs = vendors.current(Vendors.STAFF, n.vendor());
        for (UUID s : staff) {
            if (theirs.stream().noneMatch(e -> e.get("account").equals(s.toString()))) {
                throw new MaintenanceException("作業者はこの保守業者の登録された作業者から選んでください / the staff must be"
                        + " registered staff of this vendor");
            }
        }
        String systems = Vendors.text(n.systems(), "作業対象のシステム・機能 / systems or functions", 2000, true);
        String purpose = Vendors.text(n.purpose(), "作業目的 / purpose", 2000, true);
        String dataReason = Vendors.text(n.dataReason(), "患者データが必要な理由 / why patient data is needed", 2000,
                n.patientData() || n.exportData());
        List<String> patients = patients(n.patients() == null ? List.of() : n.patients());
        if (!patients.isEmpty() && !n.patientData()) {
            throw new MaintenanceException("対象患者を指定するときは「患者データを閲覧する」を選んでください / name patients only for"
                    + " a job that sees patient data");
        }
        if (n.start() == null || n.end() == null) {
            throw new MaintenanceException("作業時間帯の開始と終了を入力してください / enter the window's start and end");
        }
        Instant now = now();
        if (n.start().isBefore(now.truncatedTo(ChronoUnit.MINUTES))) {
            throw new MaintenanceException("作業開始が過去です。これからの時間帯を申請してください / the window starts in the"
                    + " past: ask for a window from now on");
        }
        if (!n.end().isAfter(n.start())) {
            throw new MaintenanceException("作業終了は開始より後にしてください / the window must end after it starts");
        }
        if (Duration.between(n.start(), n.end()).compareTo(MAX_WINDOW) > 0) {
            throw new MaintenanceException("作業時間帯は12時間までです。長い作業は日ごとに申請してください / a window is at"
                    + " most 12 hours: file one request per day for a longer job");
        }
        LocalDate first = n.start().atZone(zone).toLocalDate();
        LocalDate last = n.end().minusNanos(1).atZone(zone).toLocalDate();
        if (first.isBefore(vendor.contractFrom()) || last.isAfter(vendor.contractTo())) {
            throw new MaintenanceException("作業時間帯が保守契約の期間（" + vendor.contractFrom() + "〜"
                    + vendor.contractTo() + "）の外です / the window is outside the vendor's contract period");
        }
        Cidr source = Cidr.parse(n.source()).orElseThrow(() -> new MaintenanceException("接続元アドレスをIPアドレスか"
                + "CIDRで入力してください / enter the source address as an IP address or CIDR block"));
        Vendors.Entry route = vendors.current(Vendors.ROUTE, n.vendor()).stream()
                .filter(r -> r.sources().stream().anyMatch(b -> b.contains(source))).findFirst()
                .orElseThrow(() -> new MaintenanceException("接続元アドレスがこの保守業者の登録された保守経路に含まれません"
                        + " / the source address is not within any of the vendor's registered maintenance routes"));
        String filed = Tx.inTransaction(db, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
                ps.setString(1, "mamori.maintenance.work_order");
                ps.execute();
            }
            Array accounts = c.createArrayOf("uuid", staff.toArray());
            try (PreparedStatement ps = c.prepareStatement("SELECT year, number FROM maintenance_work_order w WHERE"
                    + " staff && ? AND window_start < ? AND window_end > ? AND NOT EXISTS (SELECT 1 FROM"
                    + " maintenance_work_order_decision d WHERE d.work_order = w.seq AND d.decision = 'refuse')"
                    + " AND NOT EXISTS (SELECT 1 FROM maintenance_work_order_end e WHERE e.work_order = w.seq"
                    + " AND e.at <= ?) ORDER BY seq LIMIT 1")) {
                ps.setArray(1, accounts);
                ps.setTimestamp(2, Timestamp.from(n.end()));
                ps.setTimestamp(3, Timestamp.from(n.start()));
                ps.setTimestamp(4, Timestamp.from(n.start()));
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        throw new MaintenanceException("同じ作業者の作業時間帯が作業番号 " + number(rs.getInt(1),
                                rs.getInt(2)) + " と重なっています / the window overlaps work order "
                                + number(rs.getInt(1), rs.getInt(2)) + " for the same staff member");
                    }
                }
            }
            int year = now.atZone(zone).getYear();
            int next;
            try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(number), 0) + 1 FROM"
                    + " maintenance_work_order WHERE year = ?")) {
                ps.setInt(1, year);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    next = rs.getInt(1);
                }
            }
            if (next > 9999) {
                throw new MaintenanceException("今年の作業番号が上限に達しました / this year's work order numbers are used up");
            }
            String name = by.name(200);
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO maintenance_work_order (year, number, vendor,"
                    + " staff, systems, purpose, patient_data, export_data, data_reason, window_start, window_end,"
                    + " source, route, requester, requester_name, filed_at, patients) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    + " ?, ?, ?::cidr, ?, ?, ?, ?, ?)")) {
                ps.setInt(1, year);
                ps.setInt(2, next);
                ps.setInt(3, n.vendor());
                ps.setArray(4, accounts);
                ps.setString(5, systems);
                ps.setString(6, purpose);
                ps.setBoolean(7, n.patientData());
                ps.setBoolean(8, n.exportData());
                ps.setString(9, dataReason.isEmpty() ? null : dataReason);
                ps.setTimestamp(10, Timestamp.from(n.start()));
                ps.setTimestamp(11, Timestamp.from(n.end()));
                ps.setString(12, source.toString());
                ps.setInt(13, route.entry());
                ps.setObject(14, requester);
                ps.setString(15, name);
                ps.setTimestamp(16, Timestamp.from(now));
                ps.setArray(17, c.createArrayOf("text", patients.toArray()));
                ps.executeUpdate();
            }
            String no = number(year, next);
            audit.stage(c, AuditEvent.by(by, AuditAction.MAINTENANCE_REQUEST).detail("workOrder", no)
                    .detail("vendor", Integer.toString(n.vendor())).detail("staff", Integer.toString(staff.size())).detail("patients", Integer.toString(patients.size()))
                    .detail("start", n.start().toString()).detail("end", n.end().toString())
                    .detail("source", source.toString()).detail("patientData", Boolean.toString(n.patientData()))
                    .detail("export", Boolean.toString(n.exportData())).build());
            return no;
        });
        audit.drainSoon();
        return find(filed).orElseThrow();
    }

    // ---- deciding ----------------------------------------------------------------------------------------------

    /**
     * Approves a request as one of the institution's responsible persons (the pages admit account administrators
     * only). The requester and the staff named may not approve; one person approves once.
     */
    public WorkOrder approve(Actor by, UUID approver, String number) {
        return decide(by, approver, number, true, null);
    }

    /** Refuses a request, with the reason (required). */
    public WorkOrder refuse(Actor by, UUID approver, String number, String reason) {
        String why = Vendors.text(reason, "却下の理由 / reason for refusing", MAX_REASON, true);
        return decide(by, approver, number, false, why);
    }

    /** The request, read under the work orders' lock (decisions and early ends one at a time); refused if none. */
    private static WorkOrder lockedFind(Connection c, String number) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            ps.setString(1, "mamori.maintenance.work_order");
            ps.execute();
        }
        return find(c, number).orElseThrow(() -> new MaintenanceException(
                "その作業申請はありません / no such work request"));
    }

    private WorkOrder decide(Actor by, UUID approver, String number, boolean approve, String reason) {
        AuditAction action = approve ? AuditAction.MAINTENANCE_APPROVE : AuditAction.MAINTENANCE_REFUSE;
        try {
            Tx.inTransaction(db, c -> {
                WorkOrder w = lockedFind(c, number);
                Instant now = now();
                State s = w.state(now);
                if (s == State.REFUSED) {
                    throw new MaintenanceException("この申請はすでに却下されています / this request has already been refused");
                }
                if (s == State.LAPSED || s == State.ENDED) {
                    throw new MaintenanceException("作業時間帯が終わっています / the window is over");
                }
                if (approve && w.approved()) {
                    throw new MaintenanceException("この申請はすでに承認されています / this request is already approved");
                }
                if (approver.equals(w.requester()) || w.staff().contains(approver)) {
                    throw new MaintenanceException("自分が申請した作業（または自分が作業者の作業）は承認・却下できません。"
                            + "別の責任者が判断してください / you cannot decide on a request you filed or work on:"
                            + " another responsible person must");
                }
                if (w.decisions().stream().anyMatch(d -> d.by().equals(approver))) {
                    throw new MaintenanceException("すでにこの申請を承認しています。患者データを扱う作業は別の責任者の承認が"
                            + "必要です / you have already approved this request: patient data needs a second,"
                            + " different approver");
                }
                String name = by.name(200);
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO maintenance_work_order_decision"
                        + " (work_order, decision, by_account, by_name, at, reason) VALUES (?, ?, ?, ?, ?, ?)")) {
                    ps.setLong(1, w.seq());
                    ps.setString(2, approve ? "approve" : "refuse");
                    ps.setObject(3, approver);
                    ps.setString(4, name);
                    ps.setTimestamp(5, Timestamp.from(now));
                    ps.setString(6, reason);
                    ps.executeUpdate();
                }
                long approvals = w.approvals() + (approve ? 1 : 0);
                audit.stage(c, AuditEvent.by(by, action).detail("workOrder", w.number())
                        .detail("approvals", Long.toString(approvals))
                        .detail("needed", Integer.toString(w.approvalsNeeded()))
                        .detail("approved", Boolean.toString(approve && approvals >= w.approvalsNeeded())).build());
                return null;
            });
        } catch (MaintenanceException e) {
            audit.append(AuditEvent.by(by, action).outcome(Outcome.REFUSED).detail("workOrder", String.valueOf(
                    number).substring(0, Math.min(String.valueOf(number).length(), 20)))
                    .detail("refused", e.getMessage()).build());
            throw e;
        }
        audit.drainSoon();
        return find(number).orElseThrow();
    }

    // ---- ending at once -----------------------------------------------------------------------------------------

    /**
     * Ends an approved job at once (MAINT-3 "permit and watch"; issue 19 "end it at once"): from now its window is
     * over, so {@link #activeFor} is empty for its staff and the console's gate ends their sessions on their next
     * request (the pages also end their open sessions right away). The pages admit account administrators only, with
     * a fresh second factor. Only a job that is approved and not yet over can be ended; a refused attempt is an audit
     * entry too.
     *
     * @throws MaintenanceException one line for the person
     */
    public WorkOrder endNow(Actor by, String number, String reason) {
        try {
            String why = Vendors.text(reason, "終了の理由 / reason for ending", MAX_REASON, true);
            Tx.inTransaction(db, c -> {
                WorkOrder w = lockedFind(c, number);
                Instant now = now();
                State s = w.state(now);
                if (s != State.APPROVED && s != State.ACTIVE) {
                    throw new MaintenanceException("終了できるのは承認済みで終わっていない作業だけです / only an approved"
                            + " job that is not over can be ended");
                }
                String name = by.name(200);
                String who = by.principal().length() > 200 ? by.principal().substring(0, 200) : by.principal();
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO maintenance_work_order_end (work_order,"
                        + " by_who, by_name, at, reason) VALUES (?, ?, ?, ?, ?)")) {
                    ps.setLong(1, w.seq());
                    ps.setString(2, who);
                    ps.setString(3, name);
                    ps.setTimestamp(4, Timestamp.from(now));
                    ps.setString(5, why);
                    ps.executeUpdate();
                }
                audit.stage(c, AuditEvent.by(by, AuditAction.MAINTENANCE_END).detail("workOrder", w.number())
                        .detail("state", s.name().toLowerCase(java.util.Locale.ROOT))
                        .detail("plannedEnd", w.end().toString()).detail("reasonLength",
                                Integer.toString(why.length())).build());
                return null;
            });
        } catch (MaintenanceException e) {
            audit.append(AuditEvent.by(by, AuditAction.MAINTENANCE_END).outcome(Outcome.REFUSED).detail("workOrder",
                    String.valueOf(number).substring(0, Math.min(String.valueOf(number).length(), 20)))
                    .detail("refused", e.getMessage()).build());
            throw e;
        }
        audit.drainSoon();
        return find(number).orElseThrow();
    }

    private static Optional<WorkOrder> find(Connection c, String number) throws SQLException {
        if (number == null || !number.matches("[0-9]{4}-[0-9]{4}")) {
            return Optional.empty();
        }
        return load(c, "WHERE year = ? AND number = ?", Integer.parseInt(number.substring(0, 4)),
                Integer.parseInt(number.substring(5))).stream().findFirst();
    }
}
