package jp.mamori.compliance;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.db.Tx;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The review marks of the executive dashboard (issue 20, "what changed since the last review"; GOV-2 evaluation and
 * review, GOV-7, GOV-5): an administrator records that the state was reviewed (見直しを記録), with an optional note; the
 * next review sees what changed since. Marks are only ever added (V27) and each is an audit entry written in the same
 * transaction. It also reads what changed since a time: answers given and probe status changes.
 */
public final class Reviews {
    public static final int MAX_NOTE = 2000;
    /** At most this many changes of each kind are listed. */
    public static final int MAX_CHANGES = 100;

    public record Mark(long id, String reviewerName, String note, Instant at) {
    }

    /** An answer given since: which item, what, by whom, when. */
    public record AnswerChange(String framework, String version, String item, Answers.Answer answer,
                               String reviewerName, Instant at) {
    }

    private final DataSource db;
    private final AuditRecorder audit;
    private final Clock clock;

    public Reviews(DataSource db, AuditRecorder audit, Clock clock) {
        this.db = db;
        this.audit = audit;
        this.clock = clock;
    }

    /** Records a review mark now. */
    public Mark record(Actor by, String note) {
        String n = note == null ? null : note.replaceAll("[\\p{Cntrl}&&[^\\n\\t]]", "").replace("\r", "").strip();
        if (n != null && n.length() > MAX_NOTE) {
            throw new ComplianceException("メモは " + MAX_NOTE + " 文字までです / the note is at most " + MAX_NOTE
                    + " characters");
        }
        String finalNote = n == null || n.isEmpty() ? null : n;
        String reviewerName = by.name(200);
        Instant now = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
        long id = Tx.inTransaction(db, c -> {
            long newId;
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO compliance_review (reviewer, reviewer_name,"
                    + " note, recorded_at) VALUES (?, ?, ?, ?) RETURNING review_id")) {
                ps.setString(1, by.principal());
                ps.setString(2, reviewerName);
                ps.setString(3, finalNote);
                ps.setTimestamp(4, Timestamp.from(now));
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    newId = rs.getLong(1);
                }
            }
            audit.stage(c, AuditEvent.by(by, AuditAction.COMPLIANCE_REVIEW).detail("review", Long.toString(newId))
                    .detail("noteLength", Integer.toString(finalNote == null ? 0 : finalNote.length())).build());
            return newId;
        });
        audit.drainSoon();
        return new Mark(id, reviewerName, finalNote, now);
    }

    /** The newest review mark, if any. */
    public Optional<Mark> last() {
        return Tx.read(db, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT review_id, reviewer_name, note, recorded_at FROM"
                    + " compliance_review ORDER BY review_id DESC LIMIT 1");
                 ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Mark(rs.getLong(1), rs.getString(2), rs.getString(3),
                        rs.getTimestamp(4).toInstant())) : Optional.<Mark>empty();
            }
        });
    }

    /** Answers recorded after {@code since} (null: any), newest first, at most {@link #MAX_CHANGES}. */
    public List<AnswerChange> answersSince(Instant since) {
        return Tx.read(db, c -> {
            List<AnswerChange> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT framework, version, item, answer, reviewer_name,"
                    + " recorded_at FROM compliance_answer WHERE recorded_at > ? ORDER BY answer_id DESC LIMIT ?")) {
                ps.setTimestamp(1, Timestamp.from(since == null ? Instant.EPOCH : since));
                ps.setInt(2, MAX_CHANGES);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new AnswerChange(rs.getString(1), rs.getString(2), rs.getString(3),
                                Answers.Answer.of(rs.getString(4)).orElseThrow(), rs.getString(5),
                                rs.getTimestamp(6).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    /** Probe status changes stored after {@code since} (null: any), newest first, at most {@link #MAX_CHANGES}. */
    public List<Probes.Change> probeChangesSince(Instant since) {
        return Tx.read(db, c -> {
            List<Probes.Change> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, probe_id, status, summary, at FROM"
                    + " compliance_probe_change WHERE at > ? ORDER BY seq DESC LIMIT ?")) {
                ps.setTimestamp(1, Timestamp.from(since == null ? Instant.EPOCH : since));
                ps.setInt(2, MAX_CHANGES);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Probes.Change(rs.getLong(1), rs.getString(2),
                                Evidence.Status.valueOf(rs.getString(3)), rs.getString(4),
                                rs.getTimestamp(5).toInstant()));
                    }
                }
            }
            return out;
        });
    }
}
