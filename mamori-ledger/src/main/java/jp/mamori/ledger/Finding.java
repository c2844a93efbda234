package jp.mamori.ledger;

/**
 * One thing the verifier found, with where it is.
 *
 * @param line the line of {@code entries.jsonl} (1-based), or -1 when the finding is not about one line
 * @param seq the entry's sequence number (leaf index), or -1
 * @param message what was found, Japanese first, then English
 */
public record Finding(Kind kind, long line, long seq, String message) {
    /** Whether a finding means tampering (or an unusable trail) or only needs attention. */
    public enum Severity { FAIL, WARN }

    /** What kind of finding; the name is printed as the finding's first word. */
    public enum Kind {
        /** An entry was changed: the next entry's {@code prev} does not match its hash. */
        EDITED(Severity.FAIL, "改ざん"),
        /** Entries are missing: the sequence jumps. */
        DELETED(Severity.FAIL, "削除"),
        /** An entry that is not part of the chain sits between two linked entries. */
        INSERTED(Severity.FAIL, "挿入"),
        /** An entry appears later than its place in the sequence. */
        REORDERED(Severity.FAIL, "順序入替"),
        /** A sequence number appears twice. */
        DUPLICATE(Severity.FAIL, "重複"),
        /** The entries do not lead to a signed checkpoint's root: something in the range changed. */
        ROOT_MISMATCH(Severity.FAIL, "ルート不一致"),
        /** A signed checkpoint covers more entries than the export holds. */
        TRUNCATED(Severity.FAIL, "末尾欠落"),
        /** A checkpoint's signature by the verifier key does not verify. */
        BAD_SIGNATURE(Severity.FAIL, "署名不正"),
        /** A checkpoint carries no signature by the verifier key. */
        UNKNOWN_KEY(Severity.FAIL, "鍵不明"),
        /** A checkpoint is for another log. */
        WRONG_ORIGIN(Severity.FAIL, "別ログ"),
        /** Two signed checkpoints disagree (same size, different roots): the log was forked. */
        INCONSISTENT_CHECKPOINTS(Severity.FAIL, "チェックポイント矛盾"),
        /** The archive start does not lead to a signed checkpoint. */
        START_MISMATCH(Severity.FAIL, "開始点不一致"),
        /** An entry or checkpoint that cannot be read. */
        MALFORMED(Severity.FAIL, "形式不正"),
        /** Nothing is signed, so nothing can be proven. */
        NO_CHECKPOINT(Severity.FAIL, "チェックポイントなし"),
        /** Entries after the last signed checkpoint: not yet proven. */
        NOT_COVERED(Severity.WARN, "未署名"),
        /** Checkpoints out of order in the file, or older than the archive start. */
        CHECKPOINT_ORDER(Severity.WARN, "順序"),
        /** The verifier key came from the export itself, which proves nothing about who signed. */
        KEY_FROM_EXPORT(Severity.WARN, "鍵の出所");

        private final Severity severity;
        private final String japanese;

        Kind(Severity severity, String japanese) {
            this.severity = severity;
            this.japanese = japanese;
        }

        public Severity severity() {
            return severity;
        }

        public String japanese() {
            return japanese;
        }
    }

    public boolean fails() {
        return kind.severity == Severity.FAIL;
    }

    /** One line for the report: {@code FAIL EDITED 改ざん line 501 seq 500: message}. */
    public String text() {
        StringBuilder b = new StringBuilder();
        b.append(kind.severity).append(' ').append(kind).append(' ').append(kind.japanese);
        if (line >= 0) {
            b.append(" line ").append(line);
        }
        if (seq >= 0) {
            b.append(" seq ").append(seq);
        }
        return b.append(": ").append(message).toString();
    }

    @Override
    public String toString() {
        return text();
    }
}
