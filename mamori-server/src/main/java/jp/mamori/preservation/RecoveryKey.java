package jp.mamori.preservation;

import jp.mamori.kernel.Hashes;
import org.bouncycastle.crypto.agreement.X25519Agreement;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.util.Arrays;

/**
 * The private half of an installation's recovery key pair (X25519): the one secret that opens every backup part of
 * the installation without the server, its disk or its data-wrapping key. It exists on paper (the recovery sheet)
 * and, during a restore on a new machine, in memory only.
 *
 * <p>Text form, to be typed from paper: {@code MRK1-} followed by the 32 bytes in Crockford base32 (52 characters)
 * and one check group (4 characters: the first 20 bits of SHA-256 of {@code "MRK1"} and the key), all in groups of
 * four joined by '-'. Reading ignores case, spaces and '-', and takes O for 0 and I, L for 1; a mistyped character
 * fails the check (a miss has a chance of about one in a million) and is refused with a message that says so.
 */
public final class RecoveryKey {
    static final String PREFIX = "MRK1";
    static final int KEY_BYTES = 32;
    static final int KEY_CHARS = 52;
    static final int CHECK_CHARS = 4;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] secret;
    private final byte[] publicKey;

    private RecoveryKey(byte[] secret) {
        this.secret = secret.clone();
        this.publicKey = new X25519PrivateKeyParameters(this.secret, 0).generatePublicKey().getEncoded();
    }

    /** A new random recovery key. */
    static RecoveryKey generate() {
        byte[] b = new byte[KEY_BYTES];
        RANDOM.nextBytes(b);
        return new RecoveryKey(b);
    }

    /** The key with these 32 bytes (tests). */
    static RecoveryKey of(byte[] secret) {
        if (secret.length != KEY_BYTES) {
            throw new IllegalArgumentException("a recovery key is 32 bytes");
        }
        return new RecoveryKey(secret);
    }

    /** The key as a person types it: {@code MRK1-XXXX-…-XXXX} (14 groups after the prefix). */
    public String text() {
        String body = Crockford.encode(secret);
        return PREFIX + "-" + Crockford.grouped(body + check(secret));
    }

    /** The public half (32 bytes, X25519), which the installation keeps to wrap every part's data key to it. */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    /** Short id of the public half, written in each part's header so a wrong recovery key is named as such. */
    byte[] id() {
        return id(publicKey);
    }

    static byte[] id(byte[] recoveryPublicKey) {
        byte[] h = Hashes.sha256(concat("mamori-backup recovery-key-id\n".getBytes(StandardCharsets.US_ASCII),
                recoveryPublicKey));
        return Arrays.copyOf(h, 8);
    }

    /** The X25519 shared secret with {@code otherPublic}; null when it is degenerate (a small-order point). */
    byte[] agree(byte[] otherPublic) {
        try {
            X25519Agreement a = new X25519Agreement();
            a.init(new X25519PrivateKeyParameters(secret, 0));
            byte[] out = new byte[a.getAgreementSize()];
            a.calculateAgreement(new X25519PublicKeyParameters(otherPublic, 0), out, 0);
            return out;
        } catch (IllegalStateException e) {
            return null;
        }
    }

    /**
     * Reads a recovery key typed by a person.
     *
     * @throws BackupException naming what is wrong: not a recovery key, a character that cannot appear (and in
     *                         which group), a group missing or doubled, or a typo caught by the check group
     */
    public static RecoveryKey parse(String typed) {
        if (typed == null || typed.isBlank()) {
            throw new BackupException("復旧鍵が入力されていません / no recovery key was given");
        }
        // Full-width letters and digits from a Japanese input method become ASCII.
        String normal = Normalizer.normalize(typed, Normalizer.Form.NFKC);
        StringBuilder s = new StringBuilder(normal.length());
        for (int i = 0; i < normal.length(); i++) {
            char c = normal.charAt(i);
            if (c != '-' && c != 'ー' && !Character.isWhitespace(c) && !Character.isSpaceChar(c)) {
                s.append(c);
            }
        }
        if (s.length() < PREFIX.length() || !s.substring(0, 3).equalsIgnoreCase("MRK")) {
            throw new BackupException("復旧鍵ではありません（MRK1- で始まります） / this is not a recovery key (it starts"
                    + " with MRK1-)");
        }
        if (Crockford.value(s.charAt(3)) != 1) {
            throw new BackupException("この版の復旧鍵には対応していません（MRK1- のみ） / unknown recovery key version"
                    + " (only MRK1- keys are known)");
        }
        String rest = s.substring(PREFIX.length());
        for (int i = 0; i < rest.length(); i++) {
            char c = rest.charAt(i);
            if (Crockford.value(c) < 0) {
                int group = i / 4 + 1;
                String shown = Character.isISOControl(c) ? "?" : String.valueOf(c);
                throw new BackupException("復旧鍵の第 " + group + " グループに使えない文字「" + shown + "」があります（使える"
                        + "のは数字と英字。U は使いません） / the recovery key's group " + group + " holds \"" + shown
                        + "\", which cannot appear (digits and letters only, no U)");
            }
        }
        if (rest.length() != KEY_CHARS + CHECK_CHARS) {
            throw new BackupException("復旧鍵の文字数が違います（MRK1- の後に " + (KEY_CHARS + CHECK_CHARS) + " 文字のところ "
                    + rest.length() + " 文字。グループの抜けや重複を確かめてください） / the recovery key has "
                    + rest.length() + " characters after MRK1-, not " + (KEY_CHARS + CHECK_CHARS)
                    + " (is a group missing or typed twice?)");
        }
        byte[] secret = Crockford.decode(rest.substring(0, KEY_CHARS), KEY_BYTES);
        String given = rest.substring(KEY_CHARS);
        if (secret == null || !sameCheck(check(secret), given)) {
            throw new BackupException("復旧鍵に入力の誤りがあります（最後のチェック用グループと合いません）。用紙と一グループ"
                    + "ずつ見比べてください / the recovery key has a typo: it does not match its last (check) group;"
                    + " compare it with the sheet group by group");
        }
        return new RecoveryKey(secret);
    }

    private static boolean sameCheck(String expected, String given) {
        for (int i = 0; i < expected.length(); i++) {
            if (Crockford.value(given.charAt(i)) != Crockford.value(expected.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    static String check(byte[] secret) {
        byte[] h = Hashes.sha256(concat(PREFIX.getBytes(StandardCharsets.US_ASCII), secret));
        // 20 bits = 4 characters.
        String c = Crockford.encode(Arrays.copyOf(h, 3));
        return c.substring(0, CHECK_CHARS);
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Never shows the key. */
    @Override
    public String toString() {
        return "RecoveryKey[public id " + Hashes.hex(id()) + "]";
    }
}
