package jp.mamori.compliance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.Normalizer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The registers (台帳) of the compliance console (issue 20, "Registers"; GOV-29 devices, GOV-32 vendors and contracts,
 * GOV-28 appointments, GOV-30 / INC-6 the contact chart and the BCP, HR-6 training, GOV-15 risks, INC-3 … INC-5
 * incidents): one engine for every {@link RegisterKind}. A row is numbered within its register; every change is a new
 * version (append-only table, V25), the newest is the row; retiring is a version too, never a DELETE. Each version is an
 * audit entry ({@code compliance.register}) written in the same transaction, naming which fields changed but never
 * their values (a contact's phone number stays out of the trail). CSV import is all-or-nothing: one bad row refuses
 * the whole file with its line and reason, and nothing is written.
 */
public final class Registers {
    /** The largest CSV file taken and the most rows (GOV-29: a large hospital's device ledger fits many times). */
    public static final int MAX_CSV_BYTES = 2 * 1024 * 1024;
    public static final int MAX_CSV_ROWS = 5000;
    public static final int MAX_REASON = 1000;
    /** The CSV's column of the row number, and of the review date. */
    public static final String ID_HEADER = "台帳番号";
    public static final String REVIEW_HEADER = "次回見直し日";
    /** A row's default review: a year after it is saved. */
    static final int REVIEW_MONTHS = 12;
    /** An open incident without an update for longer than this turns its probe red (INC-4, INC-5). */
    public static final Duration INCIDENT_STALE = Duration.ofDays(30);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter SLASHED = DateTimeFormatter.ofPattern("uuuu/M/d");

    /** A row as it stands in one version. */
    public record Row(RegisterKind kind, int entry, int version, Map<String, String> fields, LocalDate review,
                      boolean retired, String authorName, Instant at, String reason) {
        public String get(String key) {
            return fields.getOrDefault(key, "");
        }

        public boolean overdue(LocalDate today) {
            return review.isBefore(today);
        }
    }

    /** One version in a row's history, with which fields it changed from the version before. */
    public record Change(Row row, List<String> changed) {
    }

    /** What an import did. */
    public record Imported(int added, int changed, int unchanged) {
    }

    private final DataSource db;
    private final AuditRecorder audit;
    private final Clock clock;
    private final ZoneId zone;
    private final List<Runnable> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Runs {@code r} after each change that was written (e.g. re-evaluating the probes, so that an item's colour
     * follows the register at once); a failing listener is logged and never undoes the change.
     */
    public Registers onChange(Runnable r) {
        listeners.add(r);
        return this;
    }

    private void changed() {
        for (Runnable r : listeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                org.slf4j.LoggerFactory.getLogger(Registers.class).warn("registers: change listener failed: {}",
                        e.toString());
            }
        }
    }

    public Registers(DataSource db, AuditRecorder audit, Clock clock, ZoneId zone) {
        this.db = db;
        this.audit = audit;
        this.clock = clock;
        this.zone = zone;
    }

    /** Every register, in the console's order (the inspection pack reads them here). */
    public List<RegisterKind> kinds() {
        return RegisterKind.ALL;
    }

    public LocalDate today() {
        return LocalDate.now(clock.withZone(zone));
    }

    // ---- reads -------------------------------------------------------------------------------------------------

    private static final String COLUMNS = "entry, version, fields::text, review_on, retired, author_name, at, reason";

    private static Row row(RegisterKind kind, ResultSet rs) throws SQLException {
        Map<String, String> f;
        try {
            f = JSON.readValue(rs.getString(3), new TypeReference<LinkedHashMap<String, String>>() {
            });
        } catch (JsonProcessingException e) {
            throw new SQLException("a register row's fields are not a JSON object of strings", e);
        }
        return new Row(kind, rs.getInt(1), rs.getInt(2), Map.copyOf(f), rs.getDate(4).toLocalDate(), rs.getBoolean(5),
                rs.getString(6), rs.getTimestamp(7).toInstant(), rs.getString(8));
    }

    /** The current rows of a register that are not retired, by number. */
    public List<Row> current(RegisterKind kind) {
        return Tx.read(db, c -> newest(c, kind)).stream().filter(r -> !r.retired()).toList();
    }

    private static List<Row> newest(Connection c, RegisterKind kind) throws SQLException {
        List<Row> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON (entry) " + COLUMNS
                + " FROM compliance_register_version WHERE register = ? ORDER BY entry, version DESC")) {
            ps.setString(1, kind.key());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(kind, rs));
                }
            }
        }
        return out;
    }

    /** A row's newest version, retired or not. */
    public Optional<Row> row(RegisterKind kind, int entry) {
        return Tx.read(db, c -> newest(c, kind, entry));
    }

    private static Optional<Row> newest(Connection c, RegisterKind kind, int entry) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM compliance_register_version"
                + " WHERE register = ? AND entry = ? ORDER BY version DESC LIMIT 1")) {
            ps.setString(1, kind.key());
            ps.setInt(2, entry);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(kind, rs)) : Optional.empty();
            }
        }
    }

    /** Every version of a row, newest first, each with the fields it changed. */
    public List<Change> history(RegisterKind kind, int entry) {
        List<Row> versions = Tx.read(db, c -> {
            List<Row> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM compliance_register_version"
                    + " WHERE register = ? AND entry = ? ORDER BY version")) {
                ps.setString(1, kind.key());
                ps.setInt(2, entry);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(row(kind, rs));
                    }
                }
            }
            return out;
        });
        List<Change> out = new ArrayList<>();
        Row before = null;
        for (Row r : versions) {
            out.add(0, new Change(r, changed(kind, before, r.fields(), r.review(), r.retired())));
            before = r;
        }
        return out;
    }

    /** How many current rows are past their review date. */
    public int overdue(RegisterKind kind) {
        LocalDate today = today();
        return (int) current(kind).stream().filter(r -> r.overdue(today)).count();
    }

    /**
     * The current rows as a person reads them, for the inspection pack: 台帳番号, each column's Japanese label → its
     * display value (choices and はい/いいえ in words), and 次回見直し日; in column order.
     */
    /**
     * Every register as the inspection pack prints it ({@link PackSection}; issue 20, "the registers the checklist asks
     * about"): Japanese title and headings, the current rows in words, and a note when reviews are overdue.
     */
    public List<PackSection> packSections() {
        List<PackSection> out = new ArrayList<>();
        for (RegisterKind kind : kinds()) {
            List<String> columns = header(kind);
            List<List<String>> rows = new ArrayList<>();
            for (Map<String, String> m : labelled(kind)) {
                rows.add(columns.stream().map(c -> m.getOrDefault(c, "")).toList());
            }
            int late = overdue(kind);
            out.add(new PackSection(kind.titleJa(), columns, rows, late > 0 ? "見直し期限を過ぎた行 " + late + " 件 / " + late + " row(s) past their review date" : null));
        }
        return out;
    }

    public List<Map<String, String>> labelled(RegisterKind kind) {
        List<Map<String, String>> out = new ArrayList<>();
        for (Row r : current(kind)) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put(ID_HEADER, Integer.toString(r.entry()));
            for (RegisterKind.Column col : kind.columns()) {
                m.put(col.labelJa(), col.display(r.get(col.key()), false));
            }
            m.put(REVIEW_HEADER, r.review().toString());
            out.add(m);
        }
        return out;
    }

    // ---- validation --------------------------------------------------------------------------------------------

    /**
     * The fields as stored, from what was typed: trimmed, control characters taken out, dates as 2026-04-01 (2026/4/1
     * too), choices as their codes (the Japanese label is taken too), はい/いいえ as yes/no; empty cells left out.
     *
     * @throws ComplianceException one line for the person: the column and what is wrong
     */
    public static Map<String, String> validate(RegisterKind kind, Map<String, String> typed) {
        Map<String, String> out = new TreeMap<>();
        for (RegisterKind.Column col : kind.columns()) {
            String raw = typed.get(col.key());
            String v = raw == null ? "" : clean(raw, col.type() == RegisterKind.Type.LONGTEXT);
            if (v.isEmpty()) {
                if (col.required()) {
                    throw new ComplianceException(col.labelJa() + "を入力してください / enter " + col.labelEn());
                }
                continue;
            }
            out.put(col.key(), value(col, v));
        }
        String problem;
        try {
            problem = kind.rule().apply(out);
        } catch (RuntimeException e) {
            problem = "入力を確かめてください / check the entry";
        }
        if (problem != null) {
            throw new ComplianceException(problem);
        }
        return out;
    }

    private static String clean(String s, boolean lines) {
        String v = s.replace("\r\n", "\n").replace('\r', '\n');
        v = v.replaceAll("[\\p{Cntrl}&&[^\\n\\t]]", "");
        if (!lines) {
            v = v.replace('\n', ' ').replace('\t', ' ');
        }
        return v.strip();
    }

    private static String value(RegisterKind.Column col, String v) {
        String ja = col.labelJa();
        String en = col.labelEn();
        return switch (col.type()) {
            case TEXT -> {
                if (v.length() > RegisterKind.MAX_TEXT) {
                    throw new ComplianceException(ja + "は " + RegisterKind.MAX_TEXT + " 文字までです / " + en
                            + " is at most " + RegisterKind.MAX_TEXT + " characters");
                }
                yield v;
            }
            case LONGTEXT -> {
                if (v.length() > RegisterKind.MAX_LONGTEXT) {
                    throw new ComplianceException(ja + "は " + RegisterKind.MAX_LONGTEXT + " 文字までです / " + en
                            + " is at most " + RegisterKind.MAX_LONGTEXT + " characters");
                }
                yield v;
            }
            case DATE -> date(v, ja, en).toString();
            case NUMBER -> {
                String n = Normalizer.normalize(v, Normalizer.Form.NFKC).replace(",", "");
                if (!n.matches("[0-9]{1,7}")) {
                    throw new ComplianceException(ja + "は 0 以上の整数で入力してください / give " + en
                            + " as a whole number");
                }
                yield Integer.toString(Integer.parseInt(n));
            }
            case YESNO -> switch (Normalizer.normalize(v, Normalizer.Form.NFKC).toLowerCase(java.util.Locale.ROOT)) {
                case "yes", "はい", "有", "あり", "○", "〇", "true", "1" -> "yes";
                case "no", "いいえ", "無", "なし", "×", "false", "0" -> "no";
                default -> throw new ComplianceException(ja + "は「はい」か「いいえ」です / " + en + " is yes or no");
            };
            case CHOICE -> {
                if (col.choices().containsKey(v)) {
                    yield v;
                }
                for (Map.Entry<String, String> e : col.choices().entrySet()) {
                    if (e.getValue().equals(v)) {
                        yield e.getKey();
                    }
                }
                throw new ComplianceException(ja + "は次のどれかです: " + String.join("・", col.choices().values())
                        + " / " + en + " is one of the listed choices");
            }
        };
    }

    static LocalDate date(String v, String ja, String en) {
        String n = Normalizer.normalize(v, Normalizer.Form.NFKC).strip();
        LocalDate d;
        try {
            d = n.contains("/") ? LocalDate.parse(n, SLASHED) : LocalDate.parse(n);
        } catch (DateTimeParseException e) {
            throw new ComplianceException(ja + "は 2026-04-01 の形で入力してください / give " + en + " as 2026-04-01");
        }
        if (d.getYear() < 1900 || d.getYear() > 2200) {
            throw new ComplianceException(ja + "の年が正しくありません / " + en + ": the year is out of range");
        }
        return d;
    }

    private LocalDate review(String typed, Row before) {
        if (typed == null || typed.isBlank()) {
            return before != null ? before.review() : today().plusMonths(REVIEW_MONTHS);
        }
        LocalDate d = date(typed, REVIEW_HEADER, "the next review");
        return d;
    }

    private static String reason(String typed, boolean required) {
        String r = typed == null ? "" : clean(typed, true);
        if (required && r.isEmpty()) {
            throw new ComplianceException("理由を入力してください / enter the reason");
        }
        if (r.length() > MAX_REASON) {
            throw new ComplianceException("理由は " + MAX_REASON + " 文字までです / the reason is at most " + MAX_REASON
                    + " characters");
        }
        return r.isEmpty() ? null : r;
    }

    private static List<String> changed(RegisterKind kind, Row before, Map<String, String> fields, LocalDate review,
                                        boolean retired) {
        List<String> out = new ArrayList<>();
        for (RegisterKind.Column col : kind.columns()) {
            String was = before == null ? "" : before.get(col.key());
            if (!was.equals(fields.getOrDefault(col.key(), ""))) {
                out.add(col.key());
            }
        }
        if (before != null && !before.review().equals(review)) {
            out.add("review");
        }
        if (retired && (before == null || !before.retired())) {
            out.add("retired");
        }
        return out;
    }

    // ---- writes ------------------------------------------------------------------------------------------------

    /**
     * Adds a row ({@code entry} null) or a new version of one, as typed in the form.
     *
     * @param expectedVersion the version the person edited (a change made meanwhile by someone else is refused)
     * @throws ComplianceException one line for the person
     */
    public Row save(Actor by, RegisterKind kind, Integer entry, Integer expectedVersion, Map<String, String> typed,
                    String review, String reason) {
        Map<String, String> fields = validate(kind, typed);
        String why = reason(reason, false);
        Row saved = Tx.inTransaction(db, c -> {
            lock(c, kind);
            Row before = null;
            int number;
            if (entry == null) {
                number = next(c, kind);
            } else {
                before = newest(c, kind, entry).orElseThrow(() -> new ComplianceException(
                        "その行はありません / no such row"));
                if (before.retired()) {
                    throw new ComplianceException("廃止した行は変更できません / a retired row cannot be changed");
                }
                if (expectedVersion == null || before.version() != expectedVersion) {
                    throw new ComplianceException("この行は他の人が先に変更しました。最新の内容を確かめてから保存してください"
                            + " / someone changed this row meanwhile: check the newest version, then save");
                }
                number = entry;
            }
            LocalDate rev = review(review, before);
            List<String> changed = changed(kind, before, fields, rev, false);
            if (before != null && changed.isEmpty()) {
                return before;
            }
            return insert(c, by, kind, number, before == null ? 1 : before.version() + 1, fields, rev, false, why,
                    changed, "form");
        });
        audit.drainSoon();
        changed();
        return saved;
    }

    /** Retires a row: a last version marked retired, with the reason (required). */
    public Row retire(Actor by, RegisterKind kind, int entry, Integer expectedVersion, String reason) {
        String why = reason(reason, true);
        Row done = Tx.inTransaction(db, c -> {
            lock(c, kind);
            Row before = newest(c, kind, entry).orElseThrow(() -> new ComplianceException(
                    "その行はありません / no such row"));
            if (before.retired()) {
                throw new ComplianceException("この行はすでに廃止されています / this row is already retired");
            }
            if (expectedVersion == null || before.version() != expectedVersion) {
                throw new ComplianceException("この行は他の人が先に変更しました。最新の内容を確かめてください / someone changed"
                        + " this row meanwhile: check the newest version");
            }
            return insert(c, by, kind, entry, before.version() + 1, before.fields(), before.review(), true, why,
                    List.of("retired"), "form");
        });
        audit.drainSoon();
        changed();
        return done;
    }

    /** One writer per register at a time: numbers and versions stay dense and a stale edit is seen. */
    private static void lock(Connection c, RegisterKind kind) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            ps.setString(1, "mamori.compliance.register." + kind.key());
            ps.execute();
        }
    }

    private static int next(Connection c, RegisterKind kind) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(entry), 0) + 1 FROM"
                + " compliance_register_version WHERE register = ?")) {
            ps.setString(1, kind.key());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private Row insert(Connection c, Actor by, RegisterKind kind, int entry, int version, Map<String, String> fields,
                       LocalDate review, boolean retired, String reason, List<String> changed, String source)
            throws SQLException {
        Instant now = clock.instant();
        String name = by.name(200);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO compliance_register_version (register, entry,"
                + " version, fields, review_on, retired, author, author_name, at, reason)"
                + " VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, kind.key());
            ps.setInt(2, entry);
            ps.setInt(3, version);
            try {
                ps.setString(4, JSON.writeValueAsString(new TreeMap<>(fields)));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
            ps.setDate(5, Date.valueOf(review));
            ps.setBoolean(6, retired);
            ps.setString(7, by.principal());
            ps.setString(8, name);
            ps.setTimestamp(9, Timestamp.from(now));
            ps.setString(10, reason);
            ps.executeUpdate();
        }
        audit.stage(c, AuditEvent.by(by, AuditAction.COMPLIANCE_REGISTER).detail("register", kind.key())
                .detail("entry", Integer.toString(entry)).detail("version", Integer.toString(version))
                .detail("changed", String.join(",", changed)).detail("source", source)
                .detail("retired", Boolean.toString(retired)).build());
        return new Row(kind, entry, version, Map.copyOf(fields), review, retired, name, now, reason);
    }

    // ---- CSV ---------------------------------------------------------------------------------------------------

    /** The header of a register's CSV: 台帳番号, the Japanese column labels, 次回見直し日. */
    public static List<String> header(RegisterKind kind) {
        List<String> h = new ArrayList<>();
        h.add(ID_HEADER);
        h.addAll(kind.labels(false));
        h.add(REVIEW_HEADER);
        return h;
    }

    /** Every current row as CSV (UTF-8 with BOM, Japanese headers, choices in words, cells neutralised). */
    public byte[] exportCsv(RegisterKind kind) {
        List<List<String>> records = new ArrayList<>();
        records.add(header(kind));
        for (Row r : current(kind)) {
            List<String> rec = new ArrayList<>();
            rec.add(Integer.toString(r.entry()));
            for (RegisterKind.Column col : kind.columns()) {
                rec.add(col.display(r.get(col.key()), false));
            }
            rec.add(r.review().toString());
            records.add(rec);
        }
        return RegisterCsv.write(records);
    }

    /**
     * Imports a CSV: a row with a 台帳番号 updates that row (a new version when something changed), a row without one
     * is added. All or nothing: the first bad row refuses the whole file with its line and reason and nothing is
     * written. Every version written is an audit entry like a form's.
     *
     * @throws ComplianceException "3 行目: … / line 3: …"
     */
    public Imported importCsv(Actor by, RegisterKind kind, byte[] csv) {
        if (csv.length > MAX_CSV_BYTES) {
            throw new ComplianceException("ファイルが大きすぎます（" + MAX_CSV_BYTES / (1024 * 1024) + " MiB まで） / the"
                    + " file is larger than " + MAX_CSV_BYTES / (1024 * 1024) + " MiB");
        }
        List<RegisterCsv.Record> records = RegisterCsv.read(csv);
        if (records.isEmpty()) {
            throw new ComplianceException("ファイルが空です / the file is empty");
        }
        if (records.size() - 1 > MAX_CSV_ROWS) {
            throw new ComplianceException("行が多すぎます（" + MAX_CSV_ROWS + " 行まで） / more than " + MAX_CSV_ROWS
                    + " rows");
        }
        // the header: each label once, every label known; the required columns present
        RegisterCsv.Record head = records.get(0);
        Map<Integer, String> keyAt = new HashMap<>();
        int idAt = -1;
        int reviewAt = -1;
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < head.cells().size(); i++) {
            String label = head.cells().get(i).strip();
            if (!seen.add(label)) {
                throw new ComplianceException("1 行目: 見出し「" + label + "」が二つあります / line 1: the heading appears"
                        + " twice");
            }
            if (label.equals(ID_HEADER)) {
                idAt = i;
                continue;
            }
            if (label.equals(REVIEW_HEADER)) {
                reviewAt = i;
                continue;
            }
            Optional<RegisterKind.Column> col = kind.columns().stream().filter(c -> c.labelJa().equals(label)
                    || c.labelEn().equals(label)).findFirst();
            if (col.isEmpty()) {
                throw new ComplianceException("1 行目: 見出し「" + clip(label) + "」はこの台帳にありません / line 1: unknown"
                        + " heading");
            }
            keyAt.put(i, col.get().key());
        }
        for (RegisterKind.Column col : kind.columns()) {
            if (col.required() && !keyAt.containsValue(col.key())) {
                throw new ComplianceException("1 行目: 見出し「" + col.labelJa() + "」がありません / line 1: the column "
                        + col.labelEn() + " is missing");
            }
        }
        int idCol = idAt;
        int reviewCol = reviewAt;
        Imported result = Tx.inTransaction(db, c -> {
            lock(c, kind);
            Map<Integer, Row> existing = new HashMap<>();
            for (Row r : newest(c, kind)) {
                existing.put(r.entry(), r);
            }
            int nextNumber = next(c, kind);
            Set<Integer> touched = new HashSet<>();
            record Planned(Integer entry, Map<String, String> fields, LocalDate review, Row before, int line) {
            }
            List<Planned> plan = new ArrayList<>();
            for (RegisterCsv.Record rec : records.subList(1, records.size())) {
                int line = rec.line();
                try {
                    if (rec.cells().size() > head.cells().size()) {
                        throw new ComplianceException("列が見出しより多くあります / more cells than headings");
                    }
                    Map<String, String> typed = new HashMap<>();
                    for (Map.Entry<Integer, String> e : keyAt.entrySet()) {
                        typed.put(e.getValue(), e.getKey() < rec.cells().size() ? rec.cells().get(e.getKey()) : "");
                    }
                    Row before = null;
                    String id = idCol >= 0 && idCol < rec.cells().size() ? rec.cells().get(idCol).strip() : "";
                    if (!id.isEmpty()) {
                        String n = Normalizer.normalize(id, Normalizer.Form.NFKC);
                        if (!n.matches("[0-9]{1,9}")) {
                            throw new ComplianceException(ID_HEADER + "は数字です / the row number is a number");
                        }
                        int number = Integer.parseInt(n);
                        before = existing.get(number);
                        if (before == null) {
                            throw new ComplianceException(ID_HEADER + " " + number + " の行はありません（新しい行は"
                                    + ID_HEADER + "を空けてください） / no row " + number + " (leave it empty for a new row)");
                        }
                        if (before.retired()) {
                            throw new ComplianceException(ID_HEADER + " " + number + " の行は廃止されています / row "
                                    + number + " is retired");
                        }
                        if (!touched.add(number)) {
                            throw new ComplianceException(ID_HEADER + " " + number + " が二度あります / row " + number
                                    + " appears twice");
                        }
                        // a column the file leaves out keeps its value
                        for (RegisterKind.Column col : kind.columns()) {
                            if (!keyAt.containsValue(col.key())) {
                                typed.put(col.key(), before.get(col.key()));
                            }
                        }
                    }
                    Map<String, String> fields = validate(kind, typed);
                    String rev = reviewCol >= 0 && reviewCol < rec.cells().size() ? rec.cells().get(reviewCol) : "";
                    plan.add(new Planned(before == null ? null : before.entry(), fields, review(rev, before), before,
                            line));
                } catch (ComplianceException e) {
                    throw new ComplianceException(line + " 行目: " + e.getMessage().replace(" / ", " / line " + line
                            + ": "));
                }
            }
            int added = 0;
            int changedRows = 0;
            int unchanged = 0;
            for (Planned p : plan) {
                List<String> changed = changed(kind, p.before(), p.fields(), p.review(), false);
                if (p.before() == null) {
                    insert(c, by, kind, nextNumber++, 1, p.fields(), p.review(), false, "CSV", changed, "csv");
                    added++;
                } else if (changed.isEmpty()) {
                    unchanged++;
                } else {
                    insert(c, by, kind, p.entry(), p.before().version() + 1, p.fields(), p.review(), false, "CSV",
                            changed, "csv");
                    changedRows++;
                }
            }
            return new Imported(added, changedRows, unchanged);
        });
        audit.drainSoon();
        changed();
        return result;
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    // ---- evidence ----------------------------------------------------------------------------------------------

    /** The register's console page, the probes' detail link. */
    public static String path(RegisterKind kind) {
        return "/console/compliance/register?r=" + kind.key();
    }

    /**
     * One probe per register (issue 20, "Evidence"): what an inspector asks of each, judged from its current rows.
     * An empty register says what to enter (FAIL where the checklist requires the register, for incidents a PASS:
     * none recorded); reviews past their date turn a register amber (the risk register red: GOV-15 reviews
     * continuously). The lead registers these in {@code MamoriServer.probes(...)}.
     */
    public List<Probe> probes() {
        return List.of(
                probe(RegisterKind.APPOINTMENTS, Set.of("GOV-28"), this::appointments),
                probe(RegisterKind.CONTACTS, Set.of("GOV-30", "INC-6"), this::contacts),
                probe(RegisterKind.DEVICES, Set.of("GOV-29", "MAINT-16", "SUPPLY-7"), this::devices),
                probe(RegisterKind.VENDORS, Set.of("GOV-31", "GOV-32", "GOV-37", "SUPPLY-6"), this::vendors),
                probe(RegisterKind.BCP, Set.of("GOV-30"), this::bcp),
                probe(RegisterKind.TRAINING, Set.of("HR-2", "HR-6"), this::training),
                probe(RegisterKind.RISKS, Set.of("GOV-15"), this::risks),
                probe(RegisterKind.INCIDENTS, Set.of("INC-4", "INC-5"), this::incidents));
    }

    /** The judgement of one register's rows: status and summary, before overdue reviews are counted. */
    private record Verdict(Evidence.Status status, String summary) {
    }

    @FunctionalInterface
    private interface Judge {
        Verdict judge(List<Row> rows, LocalDate today, Instant now);
    }

    private Probe probe(RegisterKind kind, Set<String> requirements, Judge judge) {
        String id = "registers." + kind.key();
        return StandardProbes.of(id, requirements, now -> {
            List<Row> rows;
            try {
                rows = current(kind);
            } catch (RuntimeException e) {
                return new Evidence(id, Evidence.Status.UNKNOWN, kind.titleJa() + "を読めません / cannot read the "
                        + kind.titleEn(), path(kind), now);
            }
            LocalDate today = now.atZone(zone).toLocalDate();
            Verdict v;
            try {
                v = judge.judge(rows, today, now);
            } catch (RuntimeException e) { // a row the kind no longer reads: say so rather than guess
                return new Evidence(id, Evidence.Status.UNKNOWN, kind.titleJa() + "の行を判定できません / cannot judge"
                        + " the rows of the " + kind.titleEn(), path(kind), now);
            }
            long overdue = rows.stream().filter(r -> r.overdue(today)).count();
            Evidence.Status s = v.status();
            String summary = v.summary();
            if (overdue > 0 && !rows.isEmpty()) {
                s = Evidence.worse(s, kind == RegisterKind.RISKS ? Evidence.Status.FAIL : Evidence.Status.PARTIAL);
                summary = summary + "（見直し期限切れ " + overdue + " 件 / " + overdue + " reviews overdue）";
            }
            return new Evidence(id, s, summary, path(kind), now);
        });
    }

    /**
     * An empty register is UNKNOWN (確認できず, amber), not FAIL: the system cannot tell whether the paper exists, and a
     * FAIL would raise an alert for every fresh installation; the item shows what to enter instead.
     */
    private static Verdict empty(RegisterKind kind, String whatJa, String whatEn) {
        return new Verdict(Evidence.Status.UNKNOWN, kind.titleJa() + "に記録がありません。" + whatJa + "を入力してください / the "
                + kind.titleEn().toLowerCase(java.util.Locale.ROOT) + " is empty: enter " + whatEn);
    }

    private static boolean inForce(Row r, LocalDate today) {
        String since = r.get("since");
        String until = r.get("until");
        return (since.isEmpty() || !LocalDate.parse(since).isAfter(today))
                && (until.isEmpty() || !LocalDate.parse(until).isBefore(today));
    }

    private Verdict appointments(List<Row> rows, LocalDate today, Instant now) {
        if (rows.isEmpty()) {
            return empty(RegisterKind.APPOINTMENTS, "医療情報システム安全管理責任者と企画管理者の任命",
                    "who is appointed security manager and planning manager");
        }
        RegisterKind.Column role = RegisterKind.APPOINTMENTS.column("role").orElseThrow();
        List<String> missing = new ArrayList<>();
        for (String r : List.of("security_manager", "planning_manager")) {
            if (rows.stream().noneMatch(x -> r.equals(x.get("role")) && inForce(x, today))) {
                missing.add(role.choices().get(r));
            }
        }
        if (!missing.isEmpty()) {
            return new Verdict(Evidence.Status.FAIL, String.join("・", missing) + "が現在任命されていません / not appointed"
                    + " now: " + missing.size() + " of the two roles");
        }
        return new Verdict(Evidence.Status.PASS, "医療情報システム安全管理責任者と企画管理者が任命されています（任命 " + rows.size()
                + " 件） / security manager and planning manager appointed (" + rows.size() + " appointments)");
    }

    private Verdict contacts(List<Row> rows, LocalDate today, Instant now) {
        if (rows.isEmpty()) {
            return empty(RegisterKind.CONTACTS, "院内、事業者、警察、厚生労働省・都道府県の連絡先",
                    "the internal, vendor, police and MHLW or prefecture contacts");
        }
        RegisterKind.Column cat = RegisterKind.CONTACTS.column("category").orElseThrow();
        Set<String> have = new HashSet<>();
        rows.forEach(r -> have.add(r.get("category")));
        List<String> missing = new ArrayList<>();
        if (!have.contains("vendor")) {
            missing.add(cat.choices().get("vendor"));
        }
        if (!have.contains("police")) {
            missing.add(cat.choices().get("police"));
        }
        if (!have.contains("mhlw") && !have.contains("prefecture")) {
            missing.add("厚生労働省または都道府県");
        }
        if (!missing.isEmpty()) {
            return new Verdict(Evidence.Status.FAIL, "連絡体制図に " + String.join("・", missing) + " の連絡先がありません"
                    + " / the chart lacks " + missing.size() + " kind(s) of outside contact");
        }
        return new Verdict(Evidence.Status.PASS, "連絡先 " + rows.size() + " 件（事業者・警察・行政を含む） / " + rows.size()
                + " contacts, vendors, police and authorities included");
    }

    private Verdict devices(List<Row> rows, LocalDate today, Instant now) {
        if (rows.isEmpty()) {
            return empty(RegisterKind.DEVICES, "サーバ・端末・ネットワーク機器", "the servers, terminals and network"
                    + " devices");
        }
        List<String> pastEos = new ArrayList<>();
        List<String> noVendor = new ArrayList<>();
        for (Row r : rows) {
            if ("disposed".equals(r.get("state"))) {
                continue;
            }
            String eos = r.get("end_of_support");
            if (!eos.isEmpty() && LocalDate.parse(eos).isBefore(today) && r.get("eos_exception").isEmpty()) {
                pastEos.add(r.get("name"));
            }
            if ("yes".equals(r.get("remote")) && r.get("vendor").isEmpty()) {
                noVendor.add(r.get("name"));
            }
        }
        if (!pastEos.isEmpty() || !noVendor.isEmpty()) {
            List<String> parts = new ArrayList<>();
            if (!pastEos.isEmpty()) {
                parts.add("サポート終了後で理由の記録がない機器 " + pastEos.size() + " 台（" + names(pastEos) + "）");
            }
            if (!noVendor.isEmpty()) {
                parts.add("保守事業者のないリモート保守機器 " + noVendor.size() + " 台（" + names(noVendor) + "）");
            }
            return new Verdict(Evidence.Status.FAIL, String.join("、", parts) + " / " + pastEos.size()
                    + " past end of support without a recorded exception, " + noVendor.size()
                    + " under remote maintenance without a vendor");
        }
        long remote = rows.stream().filter(r -> "yes".equals(r.get("remote"))).count();
        return new Verdict(Evidence.Status.PASS, "機器 " + rows.size() + " 件（リモート保守 " + remote + " 件、保守事業者を記録済み）"
                + " / " + rows.size() + " devices, " + remote + " under remote maintenance with their vendor");
    }

    private Verdict vendors(List<Row> rows, LocalDate today, Instant now) {
        if (rows.isEmpty()) {
            return empty(RegisterKind.VENDORS, "事業者と契約（契約終了日・SLA・開示書の受領）",
                    "the vendors and their contracts");
        }
        List<String> bad = new ArrayList<>();
        List<String> noEnd = new ArrayList<>();
        for (Row r : rows) {
            String end = r.get("contract_end");
            boolean ended = !end.isEmpty() && LocalDate.parse(end).isBefore(today);
            boolean disclosed = "yes".equals(r.get("sds")) || "yes".equals(r.get("mds"));
            if (ended || !"yes".equals(r.get("sla")) || !disclosed || "pending".equals(r.get("consent"))) {
                bad.add(r.get("name"));
            } else if (end.isEmpty()) {
                noEnd.add(r.get("name"));
            }
        }
        if (!bad.isEmpty()) {
            return new Verdict(Evidence.Status.FAIL, "契約切れ・SLA 未締結・開示書未受領・再委託未同意の事業者 " + bad.size()
                    + " 件（" + names(bad) + "） / " + bad.size() + " vendors with an ended contract, no SLA, no"
                    + " disclosure or subcontracting without consent");
        }
        if (!noEnd.isEmpty()) {
            return new Verdict(Evidence.Status.PARTIAL, "契約終了日が未入力の事業者 " + noEnd.size() + " 件（" + names(noEnd)
                    + "） / " + noEnd.size() + " vendors without a contract end");
        }
        return new Verdict(Evidence.Status.PASS, "事業者 " + rows.size() + " 件、契約・SLA・開示書はすべて有効 / "
                + rows.size() + " vendors, contracts in force with SLA and disclosure");
    }

    private Verdict bcp(List<Row> rows, LocalDate today, Instant now) {
        if (rows.stream().noneMatch(r -> "plan".equals(r.get("type")))) {
            return empty(RegisterKind.BCP, "サイバー攻撃を想定したBCPの文書", "the cyber-attack BCP document");
        }
        boolean drilled = rows.stream().anyMatch(r -> "drill".equals(r.get("type"))
                && !LocalDate.parse(r.get("date")).isBefore(today.minusMonths(12)));
        if (!drilled) {
            return new Verdict(Evidence.Status.PARTIAL, "BCP はありますが、直近12か月に訓練の記録がありません / a BCP, but no"
                    + " drill in the last 12 months");
        }
        return new Verdict(Evidence.Status.PASS, "BCP と直近12か月の訓練の記録があります / a BCP and a drill in the last 12"
                + " months");
    }

    private Verdict training(List<Row> rows, LocalDate today, Instant now) {
        if (rows.isEmpty()) {
            return empty(RegisterKind.TRAINING, "実施した教育・訓練", "the training held");
        }
        Optional<LocalDate> last = rows.stream().map(r -> LocalDate.parse(r.get("date"))).max(LocalDate::compareTo);
        if (last.isEmpty() || last.get().isBefore(today.minusMonths(12))) {
            return new Verdict(Evidence.Status.FAIL, "直近12か月に教育・訓練の記録がありません（最後は " + last.map(
                    LocalDate::toString).orElse("なし") + "） / no training in the last 12 months");
        }
        return new Verdict(Evidence.Status.PASS, "直近の教育・訓練 " + last.get() + " / latest training on " + last.get());
    }

    private Verdict risks(List<Row> rows, LocalDate today, Instant now) {
        if (rows.isEmpty()) {
            return empty(RegisterKind.RISKS, "リスクと対応", "the risks and their treatment");
        }
        return new Verdict(Evidence.Status.PASS, "リスク " + rows.size() + " 件 / " + rows.size() + " risks");
    }

    private Verdict incidents(List<Row> rows, LocalDate today, Instant now) {
        List<Row> open = rows.stream().filter(r -> !"closed".equals(r.get("status"))).toList();
        List<String> stale = open.stream().filter(r -> r.at().isBefore(now.minus(INCIDENT_STALE)))
                .map(r -> r.get("title")).toList();
        if (!stale.isEmpty()) {
            return new Verdict(Evidence.Status.FAIL, INCIDENT_STALE.toDays() + " 日以上更新のない対応中のインシデント "
                    + stale.size() + " 件（" + names(stale) + "） / " + stale.size() + " open incidents without an update"
                    + " for " + INCIDENT_STALE.toDays() + " days");
        }
        if (rows.isEmpty()) {
            return new Verdict(Evidence.Status.PASS, "記録されたインシデントはありません（起きたときはインシデント台帳に記録します）"
                    + " / no incident recorded");
        }
        return new Verdict(Evidence.Status.PASS, "インシデント " + rows.size() + " 件（対応中 " + open.size() + " 件、いずれも "
                + INCIDENT_STALE.toDays() + " 日以内に更新） / " + rows.size() + " incidents, " + open.size()
                + " open, all updated within " + INCIDENT_STALE.toDays() + " days");
    }

    private static String names(List<String> names) {
        List<String> shown = names.stream().limit(StandardProbes.NAMES).map(n -> n.length() > 30
                ? n.substring(0, 30) + "…" : n).toList();
        return String.join("、", shown) + (names.size() > shown.size() ? " ほか " + (names.size() - shown.size())
                + " 件" : "");
    }
}
