package jp.mamori.identity;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.text.Normalizer;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Password hashes with Argon2id (RFC 9106, version 0x13), kept as PHC strings:
 * {@code $argon2id$v=19$m=47104,t=1,p=1$<salt>$<hash>} with a 16-byte random salt, a 32-byte hash and both in
 * standard base64 without padding. Each hash records its own parameters, so they can be raised later: old hashes
 * still verify, and {@link #needsRehash} tells the caller to store a new hash after the next successful sign-in.
 *
 * <p>Text: a password is hashed as the UTF-8 bytes of its NFKC normal form. Users who type with a Japanese input
 * method may enter full-width letters and digits ("ｐａｓｓ１２３") on one device and half-width ("pass123") on
 * another; NFKC makes these the same password. This is the same normalisation that {@link PasswordPolicy}
 * counts characters in. Changing it would make every stored hash fail, so it is part of the format.
 *
 * <p>Cost: {@link #DEFAULT} is OWASP's first Argon2id choice, m=46 MiB, t=1, p=1. Measured with this class's
 * primitive (Bouncy Castle 1.81.1) on a 2-core Intel Xeon virtual machine under JDK 25.0.3: 45 to 48 ms per hash at
 * best and 56 to 57 ms on average (runs of ten and twenty after warm-up). RFC 9106's second recommendation
 * (m=64 MiB, t=3, p=4) took 175 to 183 ms at best there, because Bouncy Castle fills the four lanes one after
 * another on one thread, so p=4 brings no speed-up, only cost. As one hash is not under 50 ms we keep OWASP's
 * figure: at shift change many staff sign in within minutes, and on a small two-core server about 50 ms per sign-in
 * leaves room for the records work, where 180 ms would not. The stored parameters let a faster server raise them
 * later; {@link #needsRehash} then upgrades each hash at its next sign-in.
 *
 * <p>Memory and denial of service: at most {@code maxConcurrent} hashes run at once, each using
 * {@code memoryKiB} of heap; the caller chooses {@code maxConcurrent} so that this product fits the heap with room to
 * spare (for example 2 × 46 MiB). A caller that waits more than {@link #MAX_WAIT} for its turn gets an
 * {@link IdentityException}, so a flood of sign-in attempts cannot queue without bound.
 *
 * <p>Callers should clear their {@code char[]} after use. This class clears its own byte copies, but normalising
 * text that is not already NFKC makes a {@link String}, which cannot be wiped.
 *
 * <p>Thread-safe.
 */
public final class PasswordHasher {
    /**
     * Argon2id cost parameters. Invariants: 1 ≤ parallelism ≤ {@value #MAX_PARALLELISM}, 1 ≤ iterations ≤
     * {@value #MAX_ITERATIONS}, 8 × parallelism ≤ memoryKiB ≤ {@value #MAX_MEMORY_KIB} (1 GiB). The upper bounds also
     * guard {@link #verify}: a stored string asking for more is refused rather than run.
     */
    public record Params(int memoryKiB, int iterations, int parallelism) {
        public static final int MAX_MEMORY_KIB = 1 << 20;
        public static final int MAX_ITERATIONS = 20;
        public static final int MAX_PARALLELISM = 16;

        public Params {
            if (parallelism < 1 || parallelism > MAX_PARALLELISM) {
                throw new IllegalArgumentException("Argon2 parallelism must be 1 to " + MAX_PARALLELISM);
            }
            if (iterations < 1 || iterations > MAX_ITERATIONS) {
                throw new IllegalArgumentException("Argon2 iterations must be 1 to " + MAX_ITERATIONS);
            }
            if (memoryKiB < 8 * parallelism || memoryKiB > MAX_MEMORY_KIB) {
                throw new IllegalArgumentException("Argon2 memory must be 8 KiB per lane to " + MAX_MEMORY_KIB + " KiB");
            }
        }

        /** True when a hash made with these parameters is cheaper to attack than one made with {@code other}. */
        public boolean weakerThan(Params other) {
            return memoryKiB < other.memoryKiB || iterations < other.iterations;
        }
    }

    /** OWASP's first Argon2id option; see the class comment for why, with the measured cost. */
    public static final Params DEFAULT = new Params(47104, 1, 1);
    /** The longest a caller waits for a free hashing slot before it is refused. */
    public static final Duration MAX_WAIT = Duration.ofSeconds(10);

    static final int SALT_BYTES = 16;
    static final int HASH_BYTES = 32;
    private static final int MAX_PHC_LENGTH = 300;
    private static final Pattern PHC = Pattern.compile("\\$argon2id\\$v=19\\$m=(0|[1-9][0-9]{0,9}),"
            + "t=(0|[1-9][0-9]{0,9}),p=(0|[1-9][0-9]{0,9})\\$([A-Za-z0-9+/]{11,86})\\$([A-Za-z0-9+/]{22,86})");
    private static final String BUSY = "パスワードの確認が混み合っています。しばらくしてから再度お試しください"
            + " / Too many password checks at once; please try again shortly";
    private static final SecureRandom RANDOM = new SecureRandom();

    private record Parsed(Params params, byte[] salt, byte[] hash) {
    }

    private final Params params;
    private final Semaphore gate;
    private final Duration maxWait;

    /**
     * @param params        parameters for new hashes, and the floor below which {@link #needsRehash} says yes
     * @param maxConcurrent how many hashes may run at once (at least 1); each holds {@code params.memoryKiB()} KiB
     */
    public PasswordHasher(Params params, int maxConcurrent) {
        this(params, maxConcurrent, MAX_WAIT);
    }

    PasswordHasher(Params params, int maxConcurrent, Duration maxWait) {
        if (params == null) {
            throw new IllegalArgumentException("params are required");
        }
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent must be at least 1");
        }
        this.params = params;
        this.gate = new Semaphore(maxConcurrent, true);
        this.maxWait = maxWait;
    }

    public Params params() {
        return params;
    }

    /**
     * A new PHC string for {@code password} with this hasher's parameters and a fresh salt.
     *
     * @throws IdentityException if no hashing slot frees up within {@link #MAX_WAIT}
     */
    public String hash(char[] password) {
        if (password == null) {
            throw new IllegalArgumentException("password is required");
        }
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        byte[] hash = derive(password, salt, params, HASH_BYTES);
        Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
        return "$argon2id$v=19$m=" + params.memoryKiB() + ",t=" + params.iterations() + ",p=" + params.parallelism()
                + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
    }

    /**
     * Whether {@code password} matches the stored {@code phc}, using the parameters recorded in it. A string that is
     * malformed, not Argon2id version 19, or asks for more than {@link Params} allows gives false without hashing;
     * this method does not throw on any stored text.
     *
     * @throws IdentityException if no hashing slot frees up within {@link #MAX_WAIT}
     */
    public boolean verify(String phc, char[] password) {
        if (password == null) {
            return false;
        }
        Parsed p = parse(phc);
        if (p == null) {
            return false;
        }
        byte[] actual = derive(password, p.salt(), p.params(), p.hash().length);
        return MessageDigest.isEqual(actual, p.hash());
    }

    /**
     * Whether a stored hash should be replaced (after a successful {@link #verify}) because its parameters, salt or
     * output are weaker than this hasher's, or it cannot be read at all.
     */
    public boolean needsRehash(String phc) {
        Parsed p = parse(phc);
        return p == null || p.params().weakerThan(params) || p.salt().length < SALT_BYTES
                || p.hash().length < HASH_BYTES;
    }

    /**
     * Does the work of one {@link #verify} with this hasher's parameters and throws the result away. Call it when the
     * login id is unknown, so that an unknown user takes as long as a wrong password and timing does not tell
     * which login ids exist.
     */
    public void burn(char[] password) {
        byte[] salt = new byte[SALT_BYTES];
        RANDOM.nextBytes(salt);
        byte[] actual = derive(password == null ? new char[0] : password, salt, params, HASH_BYTES);
        MessageDigest.isEqual(actual, new byte[HASH_BYTES]);
    }

    private byte[] derive(char[] password, byte[] salt, Params p, int length) {
        try {
            if (!gate.tryAcquire(maxWait.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new IdentityException(BUSY);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IdentityException(BUSY, e);
        }
        byte[] pw = null;
        try {
            pw = passwordBytes(password);
            return argon2id(pw, salt, p, length, null, null);
        } finally {
            if (pw != null) {
                Arrays.fill(pw, (byte) 0);
            }
            gate.release();
        }
    }

    /** The UTF-8 bytes of the NFKC form of {@code password}; the caller clears them after use. */
    static byte[] passwordBytes(char[] password) {
        CharSequence text = CharBuffer.wrap(password);
        if (!Normalizer.isNormalized(text, Normalizer.Form.NFKC)) {
            text = Normalizer.normalize(text, Normalizer.Form.NFKC);
        }
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(text));
        byte[] out = new byte[encoded.remaining()];
        encoded.get(out);
        if (encoded.hasArray()) {
            Arrays.fill(encoded.array(), (byte) 0);
        }
        return out;
    }

    /** Raw Argon2id (version 0x13); {@code secret} and {@code associatedData} may be null. */
    static byte[] argon2id(byte[] password, byte[] salt, Params p, int length, byte[] secret, byte[] associatedData) {
        Argon2Parameters.Builder b = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt)
                .withMemoryAsKB(p.memoryKiB())
                .withIterations(p.iterations())
                .withParallelism(p.parallelism());
        if (secret != null) {
            b.withSecret(secret);
        }
        if (associatedData != null) {
            b.withAdditional(associatedData);
        }
        Argon2BytesGenerator generator = new Argon2BytesGenerator();
        generator.init(b.build());
        byte[] out = new byte[length];
        generator.generateBytes(password, out);
        return out;
    }

    private static Parsed parse(String phc) {
        if (phc == null || phc.length() > MAX_PHC_LENGTH) {
            return null;
        }
        Matcher m = PHC.matcher(phc);
        if (!m.matches()) {
            return null;
        }
        try {
            long memory = Long.parseLong(m.group(1));
            long iterations = Long.parseLong(m.group(2));
            long parallelism = Long.parseLong(m.group(3));
            if (memory > Params.MAX_MEMORY_KIB || iterations > Params.MAX_ITERATIONS
                    || parallelism > Params.MAX_PARALLELISM) {
                return null;
            }
            Params params = new Params((int) memory, (int) iterations, (int) parallelism);
            byte[] salt = Base64.getDecoder().decode(m.group(4));
            byte[] hash = Base64.getDecoder().decode(m.group(5));
            if (salt.length < 8 || salt.length > 64 || hash.length < 16 || hash.length > 64) {
                return null;
            }
            return new Parsed(params, salt, hash);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "PasswordHasher[" + params + "]";
    }
}
