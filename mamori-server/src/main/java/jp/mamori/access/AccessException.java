package jp.mamori.access;

/** A change to the access model that is refused; the message is for the administrator, in 日本語 / English. */
public final class AccessException extends RuntimeException {
    public AccessException(String message) {
        super(message);
    }
}
