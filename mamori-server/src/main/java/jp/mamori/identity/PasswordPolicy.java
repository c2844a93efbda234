package jp.mamori.identity;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which passwords people may choose, after NIST SP 800-63B: a length floor, a ceiling, and a refusal of passwords
 * that are known, guessable from the account, or trivially patterned. There are deliberately no composition rules
 * ("must contain a symbol") and no periodic change; both push people towards predictable passwords.
 *
 * <p>Text is judged in the same form {@link PasswordHasher} hashes it: NFKC, so full-width and half-width typings
 * are the same password, and lengths are counted in code points of that form.
 *
 * <p>The list of common passwords is the 30,000 most frequent ones shipped in the zxcvbn library (one lowercase
 * password a line, most common first). It is read once, on first use, and kept in memory (about 2 MB).
 *
 * <p>Thread-safe.
 */
final class PasswordPolicy {
    public static final int DEFAULT_MIN_LENGTH = 12;
    public static final int MAX_LENGTH = 128;
    /** Name parts shorter than this are not looked for: too many passwords would contain them by chance. */
    public static final int MIN_NAME_PART = 3;
    /** A common password must be at least this long to be refused with digits or symbols added after it. */
    static final int MIN_COMMON_STEM = 4;
    /** A pattern at most this long, repeated to fill the password, is refused like a repeated character. */
    static final int MAX_REPEATED_UNIT = 4;

    static final String COMMON_PASSWORDS = "com/nulabinc/zxcvbn/matchers/dictionaries/passwords.txt";

    private final int minLength;

    public PasswordPolicy() {
        this(DEFAULT_MIN_LENGTH);
    }

    /** @param minLength the fewest characters (code points after NFKC) accepted; at least 8, as NIST requires */
    public PasswordPolicy(int minLength) {
        if (minLength < 8 || minLength > MAX_LENGTH) {
            throw new IllegalArgumentException("minLength must be 8 to " + MAX_LENGTH);
        }
        this.minLength = minLength;
    }

    public int minLength() {
        return minLength;
    }

    /**
     * What is wrong with {@code password} for the user with this login id and name, as messages to show them
     * ("日本語 / English"); empty when it is acceptable. The password never appears in a message.
     *
     * @param loginId   the user's login id, or null
     * @param nameParts parts of the user's name (family name, given name, kana, romaji...), or null; parts shorter
     *                  than {@value #MIN_NAME_PART} characters are ignored
     */
    public List<String> problems(String password, String loginId, List<String> nameParts) {
        List<String> out = new ArrayList<>();
        if (password == null || password.isEmpty()) {
            out.add("パスワードを入力してください / Please enter a password");
            return out;
        }
        String text = fold(password);
        int length = text.codePointCount(0, text.length());
        if (length < minLength) {
            out.add("パスワードは" + minLength + "文字以上にしてください / Please use at least " + minLength
                    + " characters");
        }
        if (length > MAX_LENGTH) {
            out.add("パスワードは" + MAX_LENGTH + "文字以下にしてください / Please use at most " + MAX_LENGTH
                    + " characters");
            return out;
        }
        Set<String> common = CommonPasswords.SET;
        if (common.contains(text)) {
            out.add("よく使われているパスワードのため使えません / This password is too common");
        } else {
            String stem = stripTrailingNonLetters(text);
            if (stem.length() < text.length() && stem.codePointCount(0, stem.length()) >= MIN_COMMON_STEM
                    && common.contains(stem)) {
                out.add("よく使われているパスワードの後に数字や記号を付けただけのものは使えません"
                        + " / A common password with digits or symbols added at the end is not allowed");
            }
        }
        if (containsPart(text, loginId)) {
            out.add("ログインIDを含むパスワードは使えません / The password must not contain the login ID");
        }
        if (nameParts != null && nameParts.stream().anyMatch(part -> containsPart(text, part))) {
            out.add("氏名を含むパスワードは使えません / The password must not contain your name");
        }
        if (isRepetition(text)) {
            out.add("同じ文字や短い並びの繰り返しは使えません / A repeated character or short pattern is not allowed");
        } else if (isSequence(text)) {
            out.add("「123…」「abc…」のような連続した並びは使えません / A plain sequence such as 123… or abc… is not allowed");
        }
        return out;
    }

    /** NFKC, then lower case without regard to the server's locale. */
    static String fold(String s) {
        return Normalizer.normalize(s, Normalizer.Form.NFKC).toLowerCase(Locale.ROOT);
    }

    private static boolean containsPart(String folded, String part) {
        if (part == null) {
            return false;
        }
        String p = fold(part.strip());
        return p.codePointCount(0, p.length()) >= MIN_NAME_PART && folded.contains(p);
    }

    private static String stripTrailingNonLetters(String s) {
        int end = s.length();
        while (end > 0) {
            int cp = s.codePointBefore(end);
            if (Character.isLetter(cp)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return s.substring(0, end);
    }

    /** One character, or a pattern of up to {@value #MAX_REPEATED_UNIT}, repeated to fill the whole text. */
    static boolean isRepetition(String s) {
        int[] cps = s.codePoints().toArray();
        for (int unit = 1; unit <= MAX_REPEATED_UNIT && unit * 2 <= cps.length; unit++) {
            boolean repeats = true;
            for (int i = unit; i < cps.length && repeats; i++) {
                repeats = cps[i] == cps[i - unit];
            }
            if (repeats) {
                return true;
            }
        }
        return false;
    }

    /**
     * Each character one more, or each one less, than the one before: digits wrap (…890123…), Latin letters wrap
     * (…xyzab…), and other characters follow their code points (あぃ…). The text is already folded to lower case.
     */
    static boolean isSequence(String s) {
        int[] cps = s.codePoints().toArray();
        if (cps.length < 3) {
            return false;
        }
        int direction = step(cps[0], cps[1]);
        if (direction != 1 && direction != -1) {
            return false;
        }
        for (int i = 2; i < cps.length; i++) {
            if (step(cps[i - 1], cps[i]) != direction) {
                return false;
            }
        }
        return true;
    }

    private static int step(int a, int b) {
        if (isDigit(a) && isDigit(b)) {
            return wrap(b - a, 10);
        }
        if (isLatin(a) && isLatin(b)) {
            return wrap(b - a, 26);
        }
        return b - a;
    }

    private static int wrap(int delta, int size) {
        int d = Math.floorMod(delta, size);
        return d == size - 1 ? -1 : d;
    }

    private static boolean isDigit(int cp) {
        return cp >= '0' && cp <= '9';
    }

    private static boolean isLatin(int cp) {
        return cp >= 'a' && cp <= 'z';
    }

    /** Loaded on first use by the class-holder idiom: the JVM runs {@link #load} once, safely published. */
    private static final class CommonPasswords {
        static final Set<String> SET = load();

        private static Set<String> load() {
            try (InputStream in = PasswordPolicy.class.getClassLoader().getResourceAsStream(COMMON_PASSWORDS)) {
                if (in == null) {
                    throw new IllegalStateException("The common password list " + COMMON_PASSWORDS
                            + " is not on the class path");
                }
                Set<String> set = new HashSet<>(64_000);
                try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    for (String line = r.readLine(); line != null; line = r.readLine()) {
                        String p = line.strip();
                        if (!p.isEmpty()) {
                            set.add(fold(p));
                        }
                    }
                }
                if (set.size() < 10_000) {
                    throw new IllegalStateException("The common password list " + COMMON_PASSWORDS
                            + " has only " + set.size() + " entries");
                }
                return Collections.unmodifiableSet(set);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static int commonPasswordCount() {
        return CommonPasswords.SET.size();
    }
}
