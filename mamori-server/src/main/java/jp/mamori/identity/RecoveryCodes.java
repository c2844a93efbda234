package jp.mamori.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One-time recovery codes for when a second factor is lost. Each code is shown once, as {@code XXXX-XXXX-XXXX},
 * and only its hash is stored; the caller deletes a code's hash when it is used.
 *
 * <p>Alphabet: 31 characters, the digits 2–9 and the letters A–Z without I, L and O, so that nothing can be misread
 * as 0, O, 1, I or L on paper. Twelve of them give 31^12 ≈ 2^59.4, about 60 random bits.
 *
 * <p>Why a keyless hash is enough here, unlike for passwords: a password is chosen by a person and a stolen hash
 * can be checked against a list of likely passwords, which is why passwords need a slow, salted hash
 * ({@link PasswordHasher}). A recovery code is chosen uniformly at random from 2^59.4 values, so there is no likely
 * value to try first: even with the stored hashes in hand, finding one code by brute force costs on average about
 * 2^58 SHA-256 computations per stolen code, far beyond what the codes protect is worth, and online guessing is
 * limited by the caller's attempt limits long before that. The fixed prefix {@value #DOMAIN} keeps these hashes
 * apart from any other SHA-256 in the system, and lets a later format change its version.
 */
final class RecoveryCodes {
    public static final int DEFAULT_COUNT = 10;
    public static final int LENGTH = 12;
    public static final String ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    static final String DOMAIN = "mamori-recovery-v1:";
    private static final int MAX_COUNT = 100;
    private static final int MAX_ENTERED = 100;
    private static final SecureRandom RANDOM = new SecureRandom();

    private RecoveryCodes() {
    }

    /** {@code count} distinct new codes, each {@code XXXX-XXXX-XXXX}, to be shown to the user once. */
    public static List<String> generate(int count) {
        if (count < 1 || count > MAX_COUNT) {
            throw new IllegalArgumentException("count must be 1 to " + MAX_COUNT);
        }
        Set<String> codes = new LinkedHashSet<>();
        while (codes.size() < count) {
            StringBuilder sb = new StringBuilder(LENGTH + 2);
            for (int i = 0; i < LENGTH; i++) {
                if (i > 0 && i % 4 == 0) {
                    sb.append('-');
                }
                sb.append(ALPHABET.charAt(RANDOM.nextInt(ALPHABET.length())));
            }
            codes.add(sb.toString());
        }
        return new ArrayList<>(codes);
    }

    /** {@link #DEFAULT_COUNT} new codes. */
    public static List<String> generate() {
        return generate(DEFAULT_COUNT);
    }

    /**
     * A code as typed, in the form that is hashed: NFKC (so full-width letters and digits become half-width), upper
     * case, without spaces or dashes of any width, including the katakana long sound mark that a Japanese input
     * method may give for "-". Other characters are kept, so a wrong entry stays wrong.
     */
    public static String normalize(String entered) {
        String folded = Normalizer.normalize(entered, Normalizer.Form.NFKC).toUpperCase(Locale.ROOT);
        StringBuilder out = new StringBuilder(folded.length());
        folded.codePoints().filter(c -> !Character.isWhitespace(c) && !Character.isSpaceChar(c) && !isDash(c))
                .forEach(out::appendCodePoint);
        return out.toString();
    }

    private static boolean isDash(int c) {
        return c == '-' || c == 0x30FC || Character.getType(c) == Character.DASH_PUNCTUATION || c == 0x2212;
    }

    /** SHA-256 of {@value #DOMAIN} followed by the {@linkplain #normalize normalized} code, for storage. */
    public static byte[] hash(String code) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(DOMAIN.getBytes(StandardCharsets.US_ASCII));
            return sha.digest(normalize(code).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether {@code entered} is the code whose hash is {@code storedHash}; compares in constant time. */
    public static boolean matches(byte[] storedHash, String entered) {
        if (storedHash == null || entered == null || entered.length() > MAX_ENTERED) {
            return false;
        }
        return MessageDigest.isEqual(storedHash, hash(entered));
    }
}
