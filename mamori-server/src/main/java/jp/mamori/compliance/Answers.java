package jp.mamori.compliance;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * People's answers to checklist items (issue 20; GOV-16 the periodic self-check, GOV-28 … GOV-40): はい, いいえ, 一部 or
 * 該当なし with the date checked, for いいえ a target date within the version's fiscal year, the reviewer (the person
 * signed in) and a note. Every answer is kept (an append-only table) and is an audit entry written in the same
 * transaction. A new version of a framework shows the newest answer of an earlier version for an item with the same
 * id or the id it {@code replaces}, marked as carried over, until someone answers it anew.
 */
public final class Answers {
    public static final int MAX_NOTE = 2000;

    /** The four answers, as stored. */
    public enum Answer {
        YES("yes", "はい", "Yes"), NO("no", "いいえ", "No"), PARTIAL("partial", "一部", "Partly"),
        NA("na", "該当なし", "Not applicable");

        public final String code;
        public final String ja;
        public final String en;

        Answer(String code, String ja, String en) {
            this.code = code;
            this.ja = ja;
            this.en = en;
        }

        public static Optional<Answer> of(String code) {
            for (Answer a : values()) {
                if (a.code.equals(code)) {
                    return Optional.of(a);
                }
            }
            return Optional.empty();
        }
    }

    /** One answer as recorded. */
    public record Entry(long id, String framework, String version, String item, Answer answer, LocalDate checked,
                        LocalDate target, String note, String reviewerName, Instant at) {
    }

    /** An item's answer in force: its own, or carried over from {@code fromVersion} (null when its own). */
    public record Current(Entry entry, String fromVersion) {
        public boolean carried() {
            return fromVersion != null;
        }
    }

    private final DataSource db;
    private final AuditRecorder audit;
    private final Frameworks frameworks;
    private final Clock clock;
    private final ZoneId zone;

    public Answers(DataSource db, AuditRecorder audit, Frameworks frameworks, Clock clock, ZoneId zone) {
        this.db = db;
        this.audit = audit;
        this.frameworks = frameworks;
        this.clock = clock;
        this.zone = zone;
    }

    /** The first and last day of a fiscal year (April to March). */
    public static LocalDate fiscalStart(int fy) {
        return LocalDate.of(fy, 4, 1);
    }

    public static LocalDate fiscalEnd(int fy) {
        return LocalDate.of(fy + 1, 3, 31);
    }

    /**
     * Records an answer, as typed in the form.
     *
     * @throws ComplianceException with one line for the person when something is missing or wrong
     */
    public Entry answer(Actor by, Framework fw, String itemId, String answer, String checked, String target,
                        String note) {
        Framework.Item item = fw.item(itemId == null ? "" : itemId).orElseThrow(() -> new ComplianceException(
                "項目がありません / no such item"));
        Answer a = Answer.of(answer == null ? "" : answer).orElseThrow(() -> new ComplianceException(
                "回答（はい・いいえ・一部・該当なし）を選んでください / choose an answer"));
        LocalDate today = LocalDate.now(clock.withZone(zone));
        LocalDate checkedOn = date(checked, "確認日", "the date checked");
        if (checkedOn == null) {
            throw new ComplianceException("確認日を入力してください / enter the date checked");
        }
        if (checkedOn.isAfter(today) || checkedOn.isBefore(LocalDate.of(2000, 1, 1))) {
            throw new ComplianceException("確認日は今日までの日付です / the date checked cannot be in the future");
        }
        LocalDate targetOn = date(target, "対応予定日", "the target date");
        if (a == Answer.NO && targetOn == null) {
            throw new ComplianceException("いいえの場合は対応予定日（" + fw.fiscalYearJa() + "内）を入力してください / a No needs"
                    + " a target date within fiscal year " + fw.fiscalYear());
        }
        if (a == Answer.YES || a == Answer.NA) {
            targetOn = null;
        }
        if (targetOn != null && (targetOn.isBefore(fiscalStart(fw.fiscalYear()))
                || targetOn.isAfter(fiscalEnd(fw.fiscalYear())))) {
            throw new ComplianceException("対応予定日は" + fw.fiscalYearJa() + "内（" + fiscalStart(fw.fiscalYear()) + "〜"
                    + fiscalEnd(fw.fiscalYear()) + "）の日付です / the target date must lie within fiscal year "
                    + fw.fiscalYear());
        }
        if (targetOn != null && targetOn.isBefore(checkedOn)) {
            throw new ComplianceException("対応予定日は確認日より後の日付です / the target date must not be before the date"
                    + " checked");
        }
        String n = note == null ? null : note.replaceAll("[\\p{Cntrl}&&[^\\n\\t]]", "").replace("\r", "").strip();
        if (n != null && n.length() > MAX_NOTE) {
            throw new ComplianceException("備考は " + MAX_NOTE + " 文字までです / the note is at most " + MAX_NOTE
                    + " characters");
        }
        String finalNote = n == null || n.isEmpty() ? null : n;
        LocalDate finalTarget = targetOn;
        Instant now = clock.instant();
        String reviewerName = by.display() == null ? by.principal() : by.display();
        Optional<Current> before = current(fw).entrySet().stream().filter(e -> e.getKey().equals(item.id()))
                .map(Map.Entry::getValue).findFirst();
        long id = Tx.inTransaction(db, c -> {
            long newId;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO compliance_answer (framework, version, item,"
                    + " answer, checked_on, target_on, note, reviewer, reviewer_name, recorded_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING answer_id")) {
                ps.setString(1, fw.id());
                ps.setString(2, fw.version());
                ps.setString(3, item.id());
                ps.setString(4, a.code);
                ps.setDate(5, Date.valueOf(checkedOn));
                ps.setDate(6, finalTarget == null ? null : Date.valueOf(finalTarget));
                ps.setString(7, finalNote);
                ps.setString(8, by.principal());
                ps.setString(9, reviewerName.length() > 200 ? reviewerName.substring(0, 200) : reviewerName);
                ps.setTimestamp(10, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    newId = rs.getLong(1);
                }
            }
            AuditEvent.Builder e = AuditEvent.by(by, AuditAction.COMPLIANCE_ANSWER).detail("framework", fw.id())
                    .detail("version", fw.version()).detail("item", item.id()).detail("number", item.number())
                    .detail("answer", a.code).detail("checked", checkedOn.toString());
            if (finalTarget != null) {
                e.detail("target", finalTarget.toString());
            }
            before.ifPresent(b -> e.detail("before", b.entry().answer().code
                    + (b.carried() ? " (carried over from " + b.fromVersion() + ")" : "")));
            audit.stage(c, e.build());
            return newId;
        });
        audit.drainSoon();
        return new Entry(id, fw.id(), fw.version(), item.id(), a, checkedOn, finalTarget, finalNote, reviewerName,
                now);
    }

    /** A date as the forms send it (2026-04-01), or null when blank; anything else refused in both languages. */
    static LocalDate date(String s, String ja, String en) {
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            return LocalDate.parse(s.strip());
        } catch (DateTimeParseException e) {
            throw new ComplianceException(ja + "は 2026-04-01 の形で入力してください / give " + en + " as 2026-04-01");
        }
    }

    /** The answers in force for every answered item of {@code fw}, by item id, carried over where items map. */
    public Map<String, Current> current(Framework fw) {
        Map<String, Current> out = new HashMap<>();
        for (Entry e : newest(fw.id(), fw.version())) {
            out.put(e.item(), new Current(e, null));
        }
        List<Framework> earlier = frameworks.earlier(fw.id(), fw.version());
        if (out.size() < fw.items().size() && !earlier.isEmpty()) {
            for (Framework old : earlier) {
                Map<String, Entry> olds = new HashMap<>();
                for (Entry e : newest(old.id(), old.version())) {
                    olds.put(e.item(), e);
                }
                for (Framework.Item it : fw.items()) {
                    if (out.containsKey(it.id())) {
                        continue;
                    }
                    Entry e = olds.get(it.id());
                    if (e == null && it.replaces() != null) {
                        e = olds.get(it.replaces());
                    }
                    if (e != null) {
                        out.put(it.id(), new Current(e, old.version()));
                    }
                }
            }
        }
        return out;
    }

    /** The newest answer of each item of a framework version. */
    private List<Entry> newest(String framework, String version) {
        return Tx.read(db, c -> {
            List<Entry> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON (item) " + COLUMNS
                    + " FROM compliance_answer WHERE framework = ? AND version = ? ORDER BY item, answer_id DESC")) {
                ps.setString(1, framework);
                ps.setString(2, version);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(entry(rs));
                    }
                }
            }
            return out;
        });
    }

    /** Every answer given to an item, newest first (at most 200). */
    public List<Entry> history(Framework fw, String itemId) {
        return Tx.read(db, c -> {
            List<Entry> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM compliance_answer"
                    + " WHERE framework = ? AND version = ? AND item = ? ORDER BY answer_id DESC LIMIT 200")) {
                ps.setString(1, fw.id());
                ps.setString(2, fw.version());
                ps.setString(3, itemId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(entry(rs));
                    }
                }
            }
            return out;
        });
    }

    private static final String COLUMNS = "answer_id, framework, version, item, answer, checked_on, target_on, note,"
            + " reviewer_name, recorded_at";

    private static Entry entry(ResultSet rs) throws SQLException {
        Date target = rs.getDate(7);
        return new Entry(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                Answer.of(rs.getString(5)).orElseThrow(), rs.getDate(6).toLocalDate(),
                target == null ? null : target.toLocalDate(), rs.getString(8), rs.getString(9),
                rs.getTimestamp(10).toInstant());
    }
}
