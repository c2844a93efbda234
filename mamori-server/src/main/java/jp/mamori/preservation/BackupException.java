package jp.mamori.preservation;

/**
 * A backup, shipment, restore, key, recovery key or manifest that cannot be used, with one line for the person who
 * runs it, Japanese first and then English ("日本語 / English"), naming which part and what is wrong. It never carries
 * key material and is not a stack trace.
 */
public final class BackupException extends RuntimeException {
    public BackupException(String message) {
        super(message);
    }

    public BackupException(String message, Throwable cause) {
        super(message, cause);
    }
}
