package jp.mamori.preservation;

import java.io.IOException;

/**
 * A sealed backup part that is refused: not a Mamori part, another part, another installation's, altered, reordered
 * or truncated. An {@link IOException} because it comes out of a stream's {@code read}; the message is one line,
 * Japanese first and then English, and always names the part (the name the caller expected) and, for the body, the
 * chunk (numbered from 1).
 */
public final class EnvelopeException extends IOException {
    private final String part;

    EnvelopeException(String part, String japanese, String english) {
        super("部品 " + part + ": " + japanese + " / part " + part + ": " + english);
        this.part = part;
    }

    /** The name of the part the caller asked to open. */
    public String part() {
        return part;
    }
}
