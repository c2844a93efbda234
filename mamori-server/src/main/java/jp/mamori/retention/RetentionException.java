package jp.mamori.retention;

/** A retention or disposal request refused, with one line for a person: "日本語 / English". */
public final class RetentionException extends RuntimeException {
    public RetentionException(String message) {
        super(message);
    }
}
