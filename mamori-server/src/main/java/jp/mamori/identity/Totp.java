package jp.mamori.identity;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.time.Instant;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Time-based one-time passwords (RFC 6238 on RFC 4226 HOTP), as shown by authenticator apps: HMAC-SHA1 of the
 * 30-second time step, six digits.
 *
 * <p>Replay: a code is accepted only for a step later than the last one used by that account. The caller stores
 * the step {@link #verify} returns and passes it back next time, in the same transaction that reads it, so that one
 * code cannot sign in twice, not even in two requests at once. Attempts must also be rate-limited by the caller:
 * with {@link #WINDOW} = 1 an attacker guesses one of three codes in a million per attempt.
 *
 * <p>The shared secret is as sensitive as a password and must be kept sealed ({@link SecretSealer}).
 */
public final class Totp {
    public static final int DIGITS = 6;
    public static final int PERIOD_SECONDS = 30;
    /** Steps accepted either side of the current one, for clock drift and slow typing. */
    public static final int WINDOW = 1;
    /** 160 bits, the HMAC-SHA1 output size that RFC 4226 recommends. */
    public static final int SECRET_BYTES = 20;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<String> ALGORITHMS = Set.of("HmacSHA1", "HmacSHA256", "HmacSHA512");
    private static final int[] POWERS = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000};
    private static final char[] BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".toCharArray();

    private Totp() {
    }

    /** A new random shared secret of {@value #SECRET_BYTES} bytes. */
    public static byte[] newSecret() {
        byte[] secret = new byte[SECRET_BYTES];
        RANDOM.nextBytes(secret);
        return secret;
    }

    /** The time step that {@code t} falls in: whole periods since the Unix epoch (T0 = 0). */
    public static long step(Instant t) {
        return Math.floorDiv(t.getEpochSecond(), PERIOD_SECONDS);
    }

    /** The six-digit HMAC-SHA1 code for {@code step}, with leading zeros. */
    public static String code(byte[] secret, long step) {
        return code(secret, step, "HmacSHA1", DIGITS);
    }

    /**
     * The code for {@code step} with another HMAC ({@code HmacSHA1}, {@code HmacSHA256} or {@code HmacSHA512}) and
     * 6 to 8 digits, as in the RFC 6238 test vectors. Authenticator apps mostly support only the default.
     */
    public static String code(byte[] secret, long step, String algorithm, int digits) {
        if (secret == null || secret.length == 0) {
            throw new IllegalArgumentException("A TOTP secret is required");
        }
        if (!ALGORITHMS.contains(algorithm)) {
            throw new IllegalArgumentException("Unsupported TOTP algorithm " + algorithm);
        }
        if (digits < 6 || digits > 8) {
            throw new IllegalArgumentException("TOTP codes have 6 to 8 digits");
        }
        byte[] mac;
        try {
            Mac hmac = Mac.getInstance(algorithm);
            hmac.init(new SecretKeySpec(secret, algorithm));
            mac = hmac.doFinal(ByteBuffer.allocate(Long.BYTES).putLong(step).array());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC is not available: " + algorithm, e);
        }
        // RFC 4226 §5.3 dynamic truncation: the low four bits of the last byte pick where 31 bits are read.
        int offset = mac[mac.length - 1] & 0x0f;
        int binary = ((mac[offset] & 0x7f) << 24) | ((mac[offset + 1] & 0xff) << 16)
                | ((mac[offset + 2] & 0xff) << 8) | (mac[offset + 3] & 0xff);
        String text = Integer.toString(binary % POWERS[digits]);
        return "0".repeat(digits - text.length()) + text;
    }

    /**
     * Checks a code entered at {@code now}. It is accepted if it is the code of a step from now − {@link #WINDOW} to
     * now + {@link #WINDOW} that is strictly later than {@code lastUsedStep}; the matched step is returned, and the
     * caller must store it as the new last used step. Spaces (half- or full-width) in the entry are ignored and
     * full-width digits count as digits; anything else that is not a digit, or a wrong number of digits, is refused.
     *
     * @param lastUsedStep the step of the last code accepted for this secret, or {@link Long#MIN_VALUE} if none
     */
    public static OptionalLong verify(byte[] secret, String code, Instant now, long lastUsedStep) {
        if (secret == null || secret.length == 0) {
            throw new IllegalArgumentException("A TOTP secret is required");
        }
        String entered = clean(code);
        if (entered == null) {
            return OptionalLong.empty();
        }
        byte[] enteredBytes = entered.getBytes(StandardCharsets.US_ASCII);
        long current = step(now);
        long matched = Long.MIN_VALUE;
        boolean found = false;
        // Every candidate is computed and compared, so the time taken does not tell which one matched.
        for (long s = current - WINDOW; s <= current + WINDOW; s++) {
            boolean same = MessageDigest.isEqual(enteredBytes, code(secret, s).getBytes(StandardCharsets.US_ASCII));
            if (same && s > lastUsedStep && !found) {
                matched = s;
                found = true;
            }
        }
        return found ? OptionalLong.of(matched) : OptionalLong.empty();
    }

    /** The entered code as exactly {@value #DIGITS} ASCII digits, or null. */
    private static String clean(String code) {
        if (code == null || code.length() > 64) {
            return null;
        }
        String folded = Normalizer.normalize(code, Normalizer.Form.NFKC);
        StringBuilder digits = new StringBuilder(DIGITS);
        for (int i = 0; i < folded.length(); i++) {
            char c = folded.charAt(i);
            if (c >= '0' && c <= '9') {
                digits.append(c);
            } else if (c != ' ' && c != '\t') {
                return null;
            }
        }
        return digits.length() == DIGITS ? digits.toString() : null;
    }

    /** RFC 4648 base32 (upper case, A–Z and 2–7) without padding, as authenticator apps expect secrets. */
    public static String base32(byte[] data) {
        StringBuilder out = new StringBuilder((data.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(BASE32[(buffer >>> (bits - 5)) & 0x1f]);
                bits -= 5;
            }
        }
        if (bits > 0) {
            out.append(BASE32[(buffer << (5 - bits)) & 0x1f]);
        }
        return out.toString();
    }

    /**
     * The Key Uri Format link an authenticator app reads from a QR code:
     * {@code otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30}, with the
     * issuer and account percent-encoded as UTF-8 (so a Japanese hospital name is fine). Neither may contain a colon,
     * which separates them in the label.
     */
    public static String otpauthUri(String issuer, String accountName, byte[] secret) {
        if (issuer == null || issuer.isBlank() || issuer.contains(":")) {
            throw new IllegalArgumentException("The issuer must be non-blank and contain no colon");
        }
        if (accountName == null || accountName.isBlank() || accountName.contains(":")) {
            throw new IllegalArgumentException("The account name must be non-blank and contain no colon");
        }
        String i = percent(issuer.strip());
        return "otpauth://totp/" + i + ":" + percent(accountName.strip()) + "?secret=" + base32(secret)
                + "&issuer=" + i + "&algorithm=SHA1&digits=" + DIGITS + "&period=" + PERIOD_SECONDS;
    }

    /** RFC 3986 percent-encoding of UTF-8: every byte except unreserved characters; a space becomes %20, not +. */
    static String percent(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
                    || c == '_' || c == '~') {
                out.append((char) c);
            } else {
                out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
            }
        }
        return out.toString();
    }
}
