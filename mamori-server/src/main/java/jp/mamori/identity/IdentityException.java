package jp.mamori.identity;

/**
 * A refusal in identity handling that the person at the screen may see. The message MUST say what to do,
 * Japanese first then English ("日本語 / English"), and MUST NOT carry internal details.
 */
public class IdentityException extends RuntimeException {
    public IdentityException(String message) {
        super(message);
    }
}
