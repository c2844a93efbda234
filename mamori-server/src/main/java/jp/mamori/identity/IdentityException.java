package jp.mamori.identity;

/**
 * A failure in signing in or in the secrets behind it that the caller should report, not retry blindly.
 * The message is meant for people and is written "日本語 / English"; it never contains a password, code or key.
 */
public class IdentityException extends RuntimeException {
    public IdentityException(String message) {
        super(message);
    }

    public IdentityException(String message, Throwable cause) {
        super(message, cause);
    }
}
