package jp.mamori.preservation;

/**
 * A backup, shipment or restore that cannot be done, with one line saying which part and what is wrong
 * ("日本語 / English"): the message is meant for the person who runs it, not a stack trace.
 */
public final class BackupException extends RuntimeException {
    public BackupException(String message) {
        super(message);
    }

    public BackupException(String message, Throwable cause) {
        super(message, cause);
    }
}
