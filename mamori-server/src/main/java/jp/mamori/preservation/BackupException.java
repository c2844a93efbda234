package jp.mamori.preservation;

/**
 * A backup key, recovery key or manifest that cannot be used. The message is one line for a person, Japanese first
 * and then English ("日本語 / English"), naming what is wrong; it never carries key material.
 */
public final class BackupException extends RuntimeException {
    BackupException(String message) {
        super(message);
    }

    BackupException(String message, Throwable cause) {
        super(message, cause);
    }
}
