package jp.mamori.maintenance;

/** A vendor notice refused: one line for the person, Japanese first ("日本語 / English"), never a stack trace. */
public final class NoticeException extends RuntimeException {
    public NoticeException(String message) {
        super(message, null, false, false);
    }
}
