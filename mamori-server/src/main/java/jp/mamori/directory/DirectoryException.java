package jp.mamori.directory;

/** The directory could not be read completely: nothing is suspended on its answer. The message is "日本語 / English". */
public final class DirectoryException extends Exception {
    /** What went wrong, for the run's record and the tests. */
    public enum Kind { UNREACHABLE, TLS, NO_STARTTLS, BIND, INCOMPLETE, FAILED }

    private final Kind kind;

    public DirectoryException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
