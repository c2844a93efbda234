package jp.mamori.maintenance;

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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Vendor notices (issue 19; VULN-2, VULN-3): a vendor pushes a notice of a vulnerability or an end of support that
 * affects a component of the system, with the concrete workaround and the patch schedule (VULN-3, プッシュ型); the
 * institution acknowledges it and tracks it to closure (VULN-2: the vendor reports at the right time and countermeasures
 * are implemented). A notice is numbered within its year in Japan time (2026-1, 2026-2, …). What the vendor said is
 * never changed; its status is a history of steps, each a row (V30, append-only at the database) and an audit entry
 * written in the same transaction: posted → acknowledged (once) → in progress (a plan; later plans are further rows) →
 * closed (once, with how and the date). Steps may be skipped forward (a notice can be closed as not affected once
 * acknowledged) but never before acknowledgement: the institution must have seen it.
 *
 * <p>A critical or high notice nobody has acknowledged within {@link #ACKNOWLEDGE_WITHIN} is a deviation
 * ({@link #deviations(Instant)}): an unacknowledged high-severity notice means the push reached nobody.
 *
 * <p>Who may post, acknowledge and close is decided once, at the pages' access rule; this class records who did.
 */
public final class VendorNotices {
    /** A critical or high notice not acknowledged within this is a deviation (issue 19; VULN-3). */
    public static final Duration ACKNOWLEDGE_WITHIN = Duration.ofHours(24);
    public static final int MAX_SHORT = 200;
    public static final int MAX_ID = 300;
    public static final int MAX_LONG = 4000;

    private static final DateTimeFormatter SLASHED = DateTimeFormatter.ofPattern("uuuu/M/d");

    public enum Kind {
        VULNERABILITY("vulnerability", "脆弱性", "Vulnerability"),
        END_OF_SUPPORT("end_of_support", "サポート終了", "End of support"),
        OTHER("other", "その他", "Other");

        public final String code;
        public final String ja;
        public final String en;

        Kind(String code, String ja, String en) {
            this.code = code;
            this.ja = ja;
            this.en = en;
        }

        public String label(boolean english) {
            return english ? en : ja;
        }

        public static Optional<Kind> of(String s) {
            for (Kind k : values()) {
                if (k.code.equals(s) || k.ja.equals(s)) {
                    return Optional.of(k);
                }
            }
            return Optional.empty();
        }
    }

    /** In order of urgency; critical and high are the ones whose lack of acknowledgement is a deviation. */
    public enum Severity {
        CRITICAL("critical", "緊急", "Critical"),
        HIGH("high", "重要", "High"),
        MEDIUM("medium", "警告", "Medium"),
        LOW("low", "注意", "Low");

        public final String code;
        public final String ja;
        public final String en;

        Severity(String code, String ja, String en) {
            this.code = code;
            this.ja = ja;
            this.en = en;
        }

        public String label(boolean english) {
            return english ? en : ja;
        }

        public boolean urgent() {
            return this == CRITICAL || this == HIGH;
        }

        public static Optional<Severity> of(String s) {
            for (Severity v : values()) {
                if (v.code.equals(s) || v.ja.equals(s)) {
                    return Optional.of(v);
                }
            }
            return Optional.empty();
        }
    }

    public enum Status {
        POSTED("posted", "未確認", "Not acknowledged"),
        ACKNOWLEDGED("acknowledged", "確認済", "Acknowledged"),
        IN_PROGRESS("in_progress", "対応中", "In progress"),
        CLOSED("closed", "完了", "Closed");

        public final String code;
        public final String ja;
        public final String en;

        Status(String code, String ja, String en) {
            this.code = code;
            this.ja = ja;
            this.en = en;
        }

        public String label(boolean english) {
            return english ? en : ja;
        }

        static Status of(String code) {
            for (Status s : values()) {
                if (s.code.equals(code)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown notice step " + code);
        }
    }

    public enum Closure {
        PATCHED("patched", "修正を適用", "Patched"),
        WORKAROUND("workaround", "回避策を実施", "Workaround in place"),
        NOT_AFFECTED("not_affected", "影響なし", "Not affected");

        public final String code;
        public final String ja;
        public final String en;

        Closure(String code, String ja, String en) {
            this.code = code;
            this.ja = ja;
            this.en = en;
        }

        public String label(boolean english) {
            return english ? en : ja;
        }

        public static Optional<Closure> of(String s) {
            for (Closure c : values()) {
                if (c.code.equals(s)) {
                    return Optional.of(c);
                }
            }
            return Optional.empty();
        }
    }

    /** What is typed on the post form, as typed (checked by {@link #post}). */
    public record Draft(String vendor, String kind, String component, String componentId, String severity,
                        String summary, String workaround, String patchOn, String references) {
    }

    /** A notice as posted, with its current status (its newest step). */
    public record Notice(long id, int year, int number, String vendor, Kind kind, String component,
                         String componentId, Severity severity, String summary, String workaround, LocalDate patchOn,
                         String references, String postedBy, String postedByName, boolean postedByVendor, Instant postedAt,
                         Status status, Instant acknowledgedAt) {
        /** The notice's number as people say it: 2026-3. */
        public String label() {
            return year + "-" + number;
        }

        public boolean open() {
            return status != Status.CLOSED;
        }

        /** Whether this notice is a deviation at {@code now}: critical or high, unacknowledged after 24 h. */
        public boolean overdue(Instant now) {
            return status == Status.POSTED && severity.urgent() && !postedAt.plus(ACKNOWLEDGE_WITHIN).isAfter(now);
        }
    }

    /** One step of a notice's history. */
    public record Step(Status status, String note, Closure closure, LocalDate closedOn, String byName, Instant at) {
    }

    /** The counts the administrator's home and a probe read. */
    public record Waiting(long unacknowledged, long overdue, long open) {
    }

    private final DataSource db;
    private final AuditRecorder audit;
    private final Clock clock;
    private final ZoneId zone;

    public VendorNotices(DataSource db, AuditRecorder audit, Clock clock, ZoneId zone) {
        this.db = db;
        this.audit = audit;
        this.clock = clock;
        this.zone = zone;
    }

    public LocalDate today() {
        return LocalDate.now(clock.withZone(zone));
    }

    // ---- reads -------------------------------------------------------------------------------------------------

    private static final String SELECT = "SELECT n.notice_id, n.year, n.number, n.vendor_name, n.kind, n.component,"
            + " n.component_id, n.severity, n.summary, n.workaround, n.patch_on, n.refs, n.posted_by_name,"
            + " n.by_vendor, n.posted_at,"
            + " (SELECT s.step FROM maintenance_notice_step s WHERE s.notice_id = n.notice_id ORDER BY s.seq DESC"
            + " LIMIT 1),"
            + " (SELECT s.at FROM maintenance_notice_step s WHERE s.notice_id = n.notice_id AND s.step = 'acknowledged')"
            + ", n.posted_by FROM maintenance_notice n";

    private static Notice notice(ResultSet rs) throws SQLException {
        Date patch = rs.getDate(11);
        Timestamp ack = rs.getTimestamp(17);
        String step = rs.getString(16);
        return new Notice(rs.getLong(1), rs.getInt(2), rs.getInt(3), rs.getString(4),
                Kind.of(rs.getString(5)).orElse(Kind.OTHER), rs.getString(6), rs.getString(7),
                Severity.of(rs.getString(8)).orElse(Severity.CRITICAL), rs.getString(9), rs.getString(10),
                patch == null ? null : patch.toLocalDate(), rs.getString(12), rs.getString(18), rs.getString(13),
                rs.getBoolean(14), rs.getTimestamp(15).toInstant(),
                step == null ? Status.POSTED : Status.of(step), ack == null ? null : ack.toInstant());
    }

    private static final Comparator<Notice> ORDER = (a, b) -> {
        if (a.open() != b.open()) {
            return a.open() ? -1 : 1;
        }
        if (a.open()) {
            int s = Integer.compare(a.severity().ordinal(), b.severity().ordinal());
            return s != 0 ? s : Long.compare(a.id(), b.id());
        }
        return Long.compare(b.id(), a.id());
    };

    /** Every notice: open ones first (most severe, then oldest), closed ones after (newest first). */
    public List<Notice> all() {
        List<Notice> out = Tx.read(db, c -> {
            List<Notice> list = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(SELECT + " ORDER BY n.notice_id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    list.add(notice(rs));
                }
            }
            return list;
        });
        out.sort(ORDER);
        return out;
    }

    /** A notice by its number (2026-3). */
    public Optional<Notice> find(int year, int number) {
        return Tx.read(db, c -> find(c, year, number));
    }

    private static Optional<Notice> find(Connection c, int year, int number) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT + " WHERE n.year = ? AND n.number = ?")) {
            ps.setInt(1, year);
            ps.setInt(2, number);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(notice(rs)) : Optional.empty();
            }
        }
    }

    /** A notice's steps, oldest first. */
    public List<Step> history(Notice n) {
        return Tx.read(db, c -> {
            List<Step> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT step, note, closure, closed_on, by_name, at FROM"
                    + " maintenance_notice_step WHERE notice_id = ? ORDER BY seq")) {
                ps.setLong(1, n.id());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Date d = rs.getDate(4);
                        out.add(new Step(Status.of(rs.getString(1)), rs.getString(2),
                                Closure.of(rs.getString(3)).orElse(null), d == null ? null : d.toLocalDate(),
                                rs.getString(5), rs.getTimestamp(6).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    /** How many notices nobody has acknowledged, how many of them are deviations at {@code now}, how many are open. */
    public Waiting waiting(Instant now) {
        List<Notice> all = all();
        return new Waiting(all.stream().filter(n -> n.status() == Status.POSTED).count(),
                all.stream().filter(n -> n.overdue(now)).count(), all.stream().filter(Notice::open).count());
    }

    /**
     * One line per critical or high notice not acknowledged within {@link #ACKNOWLEDGE_WITHIN} at {@code now}
     * ("日本語 / English"), for the compliance probes and the deviations the lead lists (issue 19: "an unacknowledged
     * high-severity notice is a deviation"). Empty when none.
     */
    public List<String> deviations(Instant now) {
        List<String> out = new ArrayList<>();
        for (Notice n : all()) {
            if (n.overdue(now)) {
                long hours = Duration.between(n.postedAt(), now).toHours();
                out.add("事業者からの通知 " + n.label() + "（" + n.severity().ja + "、" + clip(n.vendor(), 40) + "、"
                        + clip(n.component(), 40) + "）が " + hours + " 時間確認されていません / vendor notice "
                        + n.label() + " (" + n.severity().en.toLowerCase(Locale.ROOT) + ") not acknowledged for "
                        + hours + " hours");
            }
        }
        return out;
    }

    private static String clip(String s, int max) {
        return s.length() > max ? s.substring(0, max) + "…" : s;
    }

    // ---- writes ------------------------------------------------------------------------------------------------

    /**
     * Posts a notice as typed.
     *
     * @param byVendor whether a vendor's own account posts it (otherwise an administrator enters it for them)
     * @throws NoticeException one line for the person: which field and what is wrong; nothing is written
     */
    public Notice post(Actor by, boolean byVendor, Draft d) {
        String vendor = text(d.vendor(), false, MAX_SHORT, "事業者名", "the vendor", true);
        Kind kind = Kind.of(blank(d.kind())).orElseThrow(() -> new NoticeException(
                "種類を選んでください / choose the kind"));
        String component = text(d.component(), false, MAX_SHORT, "対象の構成要素", "the component", true);
        String componentId = text(d.componentId(), false, MAX_ID, "purl または CPE", "the purl or CPE", false);
        if (componentId != null && !componentId.matches("(pkg:|cpe:)\\S+")) {
            throw new NoticeException("purl または CPE は pkg: か cpe: で始まる空白のない文字列です / a purl starts with"
                    + " pkg: and a CPE with cpe:, without spaces");
        }
        Severity severity = Severity.of(blank(d.severity())).orElseThrow(() -> new NoticeException(
                "重要度を選んでください / choose the severity"));
        String summary = text(d.summary(), true, MAX_LONG, "内容", "the summary", true);
        String workaround = text(d.workaround(), true, MAX_LONG, "回避策", "the workaround", false);
        LocalDate patchOn = date(d.patchOn(), "修正の予定日", "the patch date", false);
        String refs = text(d.references(), true, MAX_LONG, "参考情報", "the references", false);
        String name = name(by);
        Notice posted = Tx.inTransaction(db, c -> {
            Instant now = clock.instant();
            int year = now.atZone(zone).getYear();
            try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
                lock.setString(1, "mamori.maintenance.notice.number");
                lock.execute();
            }
            int number;
            try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(number), 0) + 1 FROM"
                    + " maintenance_notice WHERE year = ?")) {
                ps.setInt(1, year);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    number = rs.getInt(1);
                }
            }
            long id;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO maintenance_notice (year, number, vendor_name,"
                    + " kind, component, component_id, severity, summary, workaround, patch_on, refs, posted_by,"
                    + " posted_by_name, by_vendor, posted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    + " RETURNING notice_id")) {
                ps.setInt(1, year);
                ps.setInt(2, number);
                ps.setString(3, vendor);
                ps.setString(4, kind.code);
                ps.setString(5, component);
                ps.setString(6, componentId);
                ps.setString(7, severity.code);
                ps.setString(8, summary);
                ps.setString(9, workaround);
                ps.setDate(10, patchOn == null ? null : Date.valueOf(patchOn));
                ps.setString(11, refs);
                ps.setString(12, clipTo(by.principal(), 200));
                ps.setString(13, name);
                ps.setBoolean(14, byVendor);
                ps.setTimestamp(15, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            insertStep(c, id, Status.POSTED, null, null, null, by, name, now);
            audit.stage(c, AuditEvent.by(by, AuditAction.MAINTENANCE_NOTICE_POST)
                    .detail("notice", year + "-" + number).detail("kind", kind.code)
                    .detail("severity", severity.code).detail("vendor", clipTo(vendor, 100))
                    .detail("by_vendor", Boolean.toString(byVendor)).build());
            return find(c, year, number).orElseThrow();
        });
        audit.drainSoon();
        return posted;
    }

    /**
     * The institution has seen the notice (VULN-2).
     *
     * @throws NoticeException when it is already acknowledged or closed
     */
    public Notice acknowledge(Actor by, int year, int number, String note) {
        String why = text(note, true, MAX_LONG, "メモ", "the note", false);
        return step(by, year, number, (c, n, now) -> {
            if (n.status() != Status.POSTED) {
                throw new NoticeException("この通知はすでに確認済みです / this notice is already acknowledged");
            }
            insertStep(c, n.id(), Status.ACKNOWLEDGED, why, null, null, by, name(by), now);
            audit.stage(c, AuditEvent.by(by, AuditAction.MAINTENANCE_NOTICE_ACKNOWLEDGE).detail("notice", n.label())
                    .detail("severity", n.severity().code)
                    .detail("hours_after_post", Long.toString(Duration.between(n.postedAt(), now).toHours())).build());
        });
    }

    /**
     * Records how the institution will deal with the notice (in progress); a later plan is a further step.
     *
     * @throws NoticeException before acknowledgement, after closure, or without a plan
     */
    public Notice plan(Actor by, int year, int number, String plan) {
        String text = text(plan, true, MAX_LONG, "対応計画", "the plan", true);
        return step(by, year, number, (c, n, now) -> {
            requireAcknowledged(n);
            insertStep(c, n.id(), Status.IN_PROGRESS, text, null, null, by, name(by), now);
            audit.stage(c, AuditEvent.by(by, AuditAction.MAINTENANCE_NOTICE_PLAN).detail("notice", n.label())
                    .detail("length", Integer.toString(text.length())).build());
        });
    }

    /**
     * Closes the notice: how (patched, workaround in place, not affected) and on which date (not in the future).
     *
     * @throws NoticeException before acknowledgement, when already closed, or without how or the date
     */
    public Notice close(Actor by, int year, int number, String how, String on, String note) {
        Closure closure = Closure.of(blank(how)).orElseThrow(() -> new NoticeException(
                "どのように完了したかを選んでください / choose how the notice was closed"));
        LocalDate date = date(on, "完了日", "the closing date", true);
        if (date.isAfter(today())) {
            throw new NoticeException("完了日に未来の日付は指定できません / the closing date cannot be in the future");
        }
        String why = text(note, true, MAX_LONG, "メモ", "the note", false);
        return step(by, year, number, (c, n, now) -> {
            requireAcknowledged(n);
            insertStep(c, n.id(), Status.CLOSED, why, closure, date, by, name(by), now);
            audit.stage(c, AuditEvent.by(by, AuditAction.MAINTENANCE_NOTICE_CLOSE).detail("notice", n.label())
                    .detail("closure", closure.code).detail("closed_on", date.toString()).build());
        });
    }

    private static void requireAcknowledged(Notice n) {
        if (n.status() == Status.POSTED) {
            throw new NoticeException("先に通知を確認済みにしてください / acknowledge the notice first");
        }
        if (n.status() == Status.CLOSED) {
            throw new NoticeException("この通知は完了しています / this notice is closed");
        }
    }

    @FunctionalInterface
    private interface StepWork {
        void run(Connection c, Notice n, Instant now) throws SQLException;
    }

    private Notice step(Actor by, int year, int number, StepWork work) {
        Notice done = Tx.inTransaction(db, c -> {
            Notice n = findForUpdate(c, year, number);
            work.run(c, n, clock.instant());
            return find(c, year, number).orElseThrow();
        });
        audit.drainSoon();
        return done;
    }

    /** The notice, with one writer per notice at a time: two people acknowledging at once, one is refused. */
    private static Notice findForUpdate(Connection c, int year, int number) throws SQLException {
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            lock.setString(1, "mamori.maintenance.notice." + year + "-" + number);
            lock.execute();
        }
        return find(c, year, number).orElseThrow(() -> new NoticeException("その通知はありません / no such notice"));
    }

    private static void insertStep(Connection c, long id, Status status, String note, Closure closure,
                                   LocalDate closedOn, Actor by, String name, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO maintenance_notice_step (notice_id, step, note,"
                + " closure, closed_on, by_who, by_name, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            ps.setLong(1, id);
            ps.setString(2, status.code);
            ps.setString(3, note);
            ps.setString(4, closure == null ? null : closure.code);
            ps.setDate(5, closedOn == null ? null : Date.valueOf(closedOn));
            ps.setString(6, clipTo(by.principal(), 200));
            ps.setString(7, name);
            ps.setTimestamp(8, Timestamp.from(at));
            ps.executeUpdate();
        }
    }

    // ---- checking what was typed -------------------------------------------------------------------------------

    private static String name(Actor by) {
        String n = by.display() == null || by.display().isBlank() ? by.principal() : by.display();
        return clipTo(n, 200);
    }

    private static String clipTo(String s, int max) {
        return s.length() > max ? s.substring(0, max) : s;
    }

    private static String blank(String s) {
        return s == null ? "" : s.strip();
    }

    /** Trimmed, control characters taken out (line breaks kept in long texts); null when empty and optional. */
    static String text(String typed, boolean lines, int max, String ja, String en, boolean required) {
        String v = typed == null ? "" : typed.replace("\r\n", "\n").replace('\r', '\n');
        v = v.replaceAll("[\\p{Cntrl}&&[^\\n\\t]]", "");
        if (!lines) {
            v = v.replace('\n', ' ').replace('\t', ' ');
        }
        v = v.strip();
        if (v.isEmpty()) {
            if (required) {
                throw new NoticeException(ja + "を入力してください / enter " + en);
            }
            return null;
        }
        if (v.length() > max) {
            throw new NoticeException(ja + "は " + max + " 文字までです / " + en + " is at most " + max + " characters");
        }
        return v;
    }

    static LocalDate date(String typed, String ja, String en, boolean required) {
        String n = Normalizer.normalize(blank(typed), Normalizer.Form.NFKC);
        if (n.isEmpty()) {
            if (required) {
                throw new NoticeException(ja + "を入力してください / enter " + en);
            }
            return null;
        }
        LocalDate d;
        try {
            d = n.contains("/") ? LocalDate.parse(n, SLASHED) : LocalDate.parse(n);
        } catch (DateTimeParseException e) {
            throw new NoticeException(ja + "は 2026-04-01 の形で入力してください / give " + en + " as 2026-04-01");
        }
        if (d.getYear() < 2000 || d.getYear() > 2200) {
            throw new NoticeException(ja + "の年が正しくありません / " + en + ": the year is out of range");
        }
        return d;
    }

    /** The labels of the choices, for forms: code → label. */
    public static Map<String, String> labels(Enum<?>[] values, boolean english) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Enum<?> e : values) {
            switch (e) {
                case Kind k -> out.put(k.code, k.label(english));
                case Severity s -> out.put(s.code, s.label(english));
                case Closure c -> out.put(c.code, c.label(english));
                default -> out.put(e.name(), e.name());
            }
        }
        return out;
    }
}
