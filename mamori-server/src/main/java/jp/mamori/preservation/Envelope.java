package jp.mamori.preservation;

import jp.mamori.kernel.Hashes;
import org.bouncycastle.crypto.agreement.X25519Agreement;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.HKDFBytesGenerator;
import org.bouncycastle.crypto.params.HKDFParameters;
import org.bouncycastle.crypto.params.X25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.X25519PublicKeyParameters;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The sealed form of one backup part (a base-backup tar, a WAL segment): encrypted and authenticated, readable with
 * the installation's data-wrapping key or with the recovery key alone, and bound to its part name.
 *
 * <h2>Format (version 1)</h2>
 * <pre>
 * header  "MAMORIBK"  u16 version = 1  u32 n = length of the rest of the header (at most 4096)
 *         u16 name length, part name (UTF-8, ASCII only in practice)
 *         u8 installation id length, installation id (ASCII)
 *         u32 chunk size, 8-byte random nonce prefix                     ← the header's "context" ends here
 *         wrap 1: 8-byte data-wrapping key id, 12-byte nonce, data key sealed with AES-256-GCM (48 bytes)
 *         wrap 2: 8-byte recovery key id, 32-byte ephemeral X25519 public key, 12-byte nonce, data key sealed
 *                 with AES-256-GCM under HKDF-SHA256(X25519(ephemeral, recovery), salt = ephemeral ‖ recovery
 *                 public key, info = "mamori-backup recovery-wrap v1") (48 bytes)
 *         header tag: AES-256-GCM(data key) of nothing, nonce = nonce prefix ‖ FFFFFFFF, associated data = the
 *                 header up to here (16 bytes)
 * chunk*  u32 frame = last-chunk flag (top bit) | plaintext length, then AES-256-GCM(data key) of the chunk with
 *         its 16-byte tag; nonce = nonce prefix ‖ u32 chunk counter (from 0); associated data = SHA-256 of the
 *         whole header ‖ u64 counter ‖ the frame
 * </pre>
 * Both wraps take SHA-256 of the header's context (magic to nonce prefix) as associated data, so an altered header
 * (a renamed part, another chunk size) does not open; the header tag covers the whole header, wraps included, so
 * whoever opens it (installation or recovery key) finds any altered header byte before the first chunk. Every chunk but the last holds exactly the chunk size; the last
 * (flagged, possibly empty) holds the rest and nothing may follow it. A fresh random 256-bit data key per part makes
 * the counter nonces unique. So a flipped bit, a dropped, repeated or reordered chunk, a truncation (at a chunk
 * boundary or inside one), appended bytes, a part presented under another name and another installation's part are
 * all refused, with an {@link EnvelopeException} naming the part and the chunk.
 *
 * <p>Reading releases a chunk's plaintext only after its tag is checked. It cannot know that the stream is complete
 * before the last chunk: a consumer must treat an exception at any point as "this part is refused" and discard what
 * it wrote (restore into a scratch place), or first check the sealed bytes against the signed manifest's SHA-256.
 */
public final class Envelope {
    static final byte[] MAGIC = "MAMORIBK".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int PREAMBLE = MAGIC.length + 2 + 4;
    static final int MAX_HEADER = 4096;
    /** Chunk size when sealing: 1 MiB. */
    public static final int CHUNK = 1 << 20;
    static final int MIN_CHUNK = 16;
    static final int MAX_CHUNK = 16 << 20;
    static final int TAG = 16;
    static final int KEY = 32;
    static final int NONCE = 12;
    static final int PREFIX = 8;
    static final int KEY_ID = 8;
    static final int WRAPPED = KEY + TAG;
    static final int WRAP1 = KEY_ID + NONCE + WRAPPED;
    static final int WRAP2 = KEY_ID + 32 + NONCE + WRAPPED;
    static final int MAX_NAME = 255;
    /** Chunk counters run below this; the last counter value is the header tag's. */
    static final long MAX_CHUNKS = 0xFFFF_FFFFL;
    private static final Pattern PART_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*");
    private static final Pattern INSTALLATION = Pattern.compile("[0-9a-f]{16}");
    private static final byte[] RECOVERY_INFO = "mamori-backup recovery-wrap v1".getBytes(StandardCharsets.US_ASCII);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final BackupKeys keys;
    private final int chunkSize;

    /** Seals parts for the installation whose keys these are. */
    public Envelope(BackupKeys keys) {
        this(keys, CHUNK);
    }

    /** With another chunk size, for tests that need many chunks. */
    Envelope(BackupKeys keys, int chunkSize) {
        if (chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) {
            throw new IllegalArgumentException("chunk size out of range");
        }
        this.keys = Objects.requireNonNull(keys);
        this.chunkSize = chunkSize;
    }

    /** Whether {@code name} can name a part: relative, '/'-separated, of letters, digits, '.', '_', '-'. */
    public static boolean validPartName(String name) {
        return name != null && name.length() <= MAX_NAME && PART_NAME.matcher(name).matches()
                && !name.contains("..");
    }

    private static void requirePartName(String name) {
        if (!validPartName(name)) {
            throw new IllegalArgumentException("not a valid part name: " + name);
        }
    }

    /** Who opens a part: the installation (its data-wrapping key) or a recovery key alone. */
    public sealed interface Opener permits Installation, Recovery {
        /** The installation itself, through its data-wrapping key (backups, verification, drills). */
        static Opener of(BackupKeys keys) {
            return new Installation(Objects.requireNonNull(keys));
        }

        /** A recovery key typed from the sheet (a restore on a new machine). */
        static Opener of(RecoveryKey key) {
            return new Recovery(Objects.requireNonNull(key));
        }
    }

    record Installation(BackupKeys keys) implements Opener {
    }

    record Recovery(RecoveryKey key) implements Opener {
    }

    // ------------------------------------------------------------------------------------------------ sealing

    /**
     * A stream that seals what is written to it into {@code out} as part {@code partName}. The header is written at
     * once. Call {@link SealingStream#finish()} to write the last chunk and get the part's sizes and hash;
     * {@code close()} without {@code finish()} (an exception in a try-with-resources block) leaves a part that every
     * reader refuses as truncated, never one that looks complete. Closing closes {@code out}.
     */
    public SealingStream seal(OutputStream out, String partName) throws IOException {
        requirePartName(partName);
        return new SealingStream(out, partName, keys, chunkSize);
    }

    /**
     * Seals everything in {@code plain} as part {@code partName} into the file {@code target}: written under a
     * temporary name in the same folder, flushed to disk, then renamed, so the target exists only when complete.
     */
    public Manifest.Part sealTo(Path target, String partName, InputStream plain) throws IOException {
        requirePartName(partName);
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, ".sealing-", ".tmp");
        try {
            Manifest.Part part;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 SealingStream s = seal(new ChannelOut(ch), partName)) {
                plain.transferTo(s);
                part = s.finish();
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            BackupKeys.fsync(dir);
            return part;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Sealing stream: see {@link #seal}. Not thread-safe. */
    public static final class SealingStream extends OutputStream {
        private final OutputStream out;
        private final String name;
        private final Cipher cipher;
        private final SecretKey dataKey;
        private final byte[] nonce = new byte[NONCE];
        private final byte[] headerHash;
        private final byte[] buffer;
        private final byte[] sealed;
        private final MessageDigest digest = sha256();
        private int fill;
        private long counter;
        private long plainSize;
        private long sealedSize;
        private boolean finished;
        private boolean closed;
        private boolean broken;
        private Manifest.Part part;

        SealingStream(OutputStream out, String name, BackupKeys keys, int chunkSize) throws IOException {
            this.out = Objects.requireNonNull(out);
            this.name = name;
            byte[] key = new byte[KEY];
            RANDOM.nextBytes(key);
            this.dataKey = new SecretKeySpec(key, "AES");
            byte[] header = header(name, keys, chunkSize, key, nonce);
            Arrays.fill(key, (byte) 0);
            this.headerHash = Hashes.sha256(header);
            this.buffer = new byte[chunkSize];
            this.sealed = new byte[4 + chunkSize + TAG];
            try {
                this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is not available", e);
            }
            emit(header, header.length);
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            requireOpen();
            while (len > 0) {
                if (fill == buffer.length) {
                    chunk(false);
                }
                int n = Math.min(len, buffer.length - fill);
                System.arraycopy(b, off, buffer, fill, n);
                fill += n;
                off += n;
                len -= n;
                plainSize += n;
            }
        }

        /** Writes the last chunk and flushes; returns the part's name, sizes and the SHA-256 of its sealed bytes. */
        public Manifest.Part finish() throws IOException {
            if (finished) {
                return part;
            }
            requireOpen();
            chunk(true);
            flushOut();
            finished = true;
            part = new Manifest.Part(name, plainSize, sealedSize, HexFormat.of().formatHex(digest.digest()));
            return part;
        }

        @Override
        public void flush() throws IOException {
            requireOpen();
            flushOut();
        }

        private void flushOut() throws IOException {
            try {
                out.flush();
            } catch (IOException e) {
                broken = true;
                throw e;
            }
        }

        /** Closes the underlying stream; without {@link #finish()} first, the part stays incomplete (refused). */
        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                Arrays.fill(buffer, (byte) 0);
                out.close();
            }
        }

        private void requireOpen() throws IOException {
            if (closed || finished) {
                throw new IOException("part " + name + " is already " + (closed ? "closed" : "finished"));
            }
            if (broken) {
                throw new IOException("part " + name + " failed earlier and cannot be continued");
            }
        }

        private void chunk(boolean last) throws IOException {
            if (counter >= MAX_CHUNKS) {
                broken = true;
                throw new IOException("part " + name + " is too large for one envelope");
            }
            int frame = (last ? 0x8000_0000 : 0) | fill;
            ByteBuffer.wrap(sealed, 0, 4).putInt(frame);
            try {
                cipher.init(Cipher.ENCRYPT_MODE, dataKey, new GCMParameterSpec(TAG * 8, nonce(nonce, counter)));
                cipher.updateAAD(aad(headerHash, counter, frame));
                int n = cipher.doFinal(buffer, 0, fill, sealed, 4);
                emit(sealed, 4 + n);
            } catch (GeneralSecurityException e) {
                broken = true;
                throw new IllegalStateException("AES-GCM failed", e);
            }
            counter++;
            fill = 0;
        }

        private void emit(byte[] b, int len) throws IOException {
            try {
                out.write(b, 0, len);
            } catch (IOException e) {
                broken = true;
                throw e;
            }
            digest.update(b, 0, len);
            sealedSize += len;
        }
    }

    private static byte[] header(String name, BackupKeys keys, int chunkSize, byte[] dataKey, byte[] nonceOut) {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        byte[] inst = keys.installationId().getBytes(StandardCharsets.US_ASCII);
        int contextLength = 2 + nameBytes.length + 1 + inst.length + 4 + PREFIX;
        int rest = contextLength + WRAP1 + WRAP2 + TAG;
        ByteBuffer h = ByteBuffer.allocate(PREAMBLE + rest);
        h.put(MAGIC).putShort((short) VERSION).putInt(rest);
        h.putShort((short) nameBytes.length).put(nameBytes);
        h.put((byte) inst.length).put(inst);
        h.putInt(chunkSize);
        byte[] prefix = new byte[PREFIX];
        RANDOM.nextBytes(prefix);
        h.put(prefix);
        System.arraycopy(prefix, 0, nonceOut, 0, PREFIX);
        byte[] context = Hashes.sha256(Arrays.copyOf(h.array(), h.position()));
        try {
            // Wrap 1: under the data-wrapping key.
            byte[] n1 = new byte[NONCE];
            RANDOM.nextBytes(n1);
            h.put(keys.wrapKeyId()).put(n1).put(gcm(Cipher.ENCRYPT_MODE, keys.wrapKey(), n1, wrapAad(1, context),
                    dataKey));
            // Wrap 2: to the recovery public key, through an ephemeral X25519 key.
            byte[] recoveryPublic = keys.recoveryPublicKey();
            X25519PrivateKeyParameters eph = new X25519PrivateKeyParameters(RANDOM);
            byte[] ephPublic = eph.generatePublicKey().getEncoded();
            X25519Agreement agreement = new X25519Agreement();
            agreement.init(eph);
            byte[] shared = new byte[agreement.getAgreementSize()];
            agreement.calculateAgreement(new X25519PublicKeyParameters(recoveryPublic, 0), shared, 0);
            SecretKey kek = recoveryKek(shared, ephPublic, recoveryPublic);
            Arrays.fill(shared, (byte) 0);
            byte[] n2 = new byte[NONCE];
            RANDOM.nextBytes(n2);
            h.put(RecoveryKey.id(recoveryPublic)).put(ephPublic).put(n2)
                    .put(gcm(Cipher.ENCRYPT_MODE, kek, n2, wrapAad(2, context), dataKey));
            h.put(gcm(Cipher.ENCRYPT_MODE, new SecretKeySpec(dataKey, "AES"), nonce(Arrays.copyOf(prefix, NONCE), MAX_CHUNKS),
                    Arrays.copyOf(h.array(), h.position()), new byte[0]));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
        return h.array();
    }

    private static SecretKey recoveryKek(byte[] shared, byte[] ephPublic, byte[] recoveryPublic) {
        HKDFBytesGenerator hkdf = new HKDFBytesGenerator(new SHA256Digest());
        hkdf.init(new HKDFParameters(shared, RecoveryKey.concat(ephPublic, recoveryPublic), RECOVERY_INFO));
        byte[] k = new byte[KEY];
        hkdf.generateBytes(k, 0, KEY);
        return new SecretKeySpec(k, "AES");
    }

    private static byte[] wrapAad(int which, byte[] context) {
        byte[] a = new byte[1 + context.length];
        a[0] = (byte) which;
        System.arraycopy(context, 0, a, 1, context.length);
        return a;
    }

    private static byte[] gcm(int mode, SecretKey key, byte[] nonce, byte[] aad, byte[] data)
            throws GeneralSecurityException {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(mode, key, new GCMParameterSpec(TAG * 8, nonce));
        c.updateAAD(aad);
        return c.doFinal(data);
    }

    static byte[] nonce(byte[] nonce, long counter) {
        ByteBuffer.wrap(nonce, PREFIX, 4).putInt((int) counter);
        return nonce;
    }

    static byte[] aad(byte[] headerHash, long counter, int frame) {
        return ByteBuffer.allocate(headerHash.length + 8 + 4).put(headerHash).putLong(counter).putInt(frame).array();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------ opening

    /**
     * Opens part {@code expectedPartName} from {@code in}: reads and checks the header now (refusing a stream that is
     * not a Mamori part, another part, another installation's, sealed for another recovery key, or whose header was
     * altered), then returns a stream of the plaintext whose reads check each chunk before releasing it. Closing it
     * closes {@code in}.
     *
     * @throws EnvelopeException naming the part and what is wrong
     */
    public static OpeningStream open(InputStream in, String expectedPartName, Opener opener) throws IOException {
        requirePartName(expectedPartName);
        Objects.requireNonNull(opener);
        MessageDigest digest = sha256();
        String part = expectedPartName;
        byte[] pre = new byte[PREAMBLE];
        int got = readFully(in, pre, 0, PREAMBLE);
        for (int i = 0; i < Math.min(got, MAGIC.length); i++) {
            if (pre[i] != MAGIC[i]) {
                throw new EnvelopeException(part, "Mamori のバックアップ部品ではありません", "not a Mamori backup part");
            }
        }
        if (got == 0) {
            throw new EnvelopeException(part, "空です（Mamori のバックアップ部品ではありません）",
                    "empty, not a Mamori backup part");
        }
        if (got < PREAMBLE) {
            throw new EnvelopeException(part, "ヘッダーの途中で切れています", "truncated in the header");
        }
        ByteBuffer p = ByteBuffer.wrap(pre, MAGIC.length, 6);
        int version = p.getShort() & 0xffff;
        if (version != VERSION) {
            throw new EnvelopeException(part, "対応していない形式の版 " + version + " です（この版が読めるのは " + VERSION
                    + "）", "envelope format version " + version + " is not supported (this server reads "
                    + VERSION + ")");
        }
        int rest = p.getInt();
        if (rest < 2 + 1 + 1 + 4 + PREFIX + WRAP1 + WRAP2 + TAG || rest > MAX_HEADER) {
            throw malformedHeader(part);
        }
        byte[] header = Arrays.copyOf(pre, PREAMBLE + rest);
        if (readFully(in, header, PREAMBLE, rest) < rest) {
            throw new EnvelopeException(part, "ヘッダーの途中で切れています", "truncated in the header");
        }
        digest.update(header);
        ByteBuffer h = ByteBuffer.wrap(header, PREAMBLE, rest);
        int nameLength = h.getShort() & 0xffff;
        if (nameLength == 0 || nameLength > MAX_NAME || h.remaining() < nameLength + 1) {
            throw malformedHeader(part);
        }
        byte[] nameBytes = new byte[nameLength];
        h.get(nameBytes);
        String name = new String(nameBytes, StandardCharsets.US_ASCII);
        int instLength = h.get() & 0xff;
        if (!validPartName(name) || instLength != 16
                || h.remaining() != instLength + 4 + PREFIX + WRAP1 + WRAP2 + TAG) {
            throw malformedHeader(part);
        }
        byte[] instBytes = new byte[instLength];
        h.get(instBytes);
        String installation = new String(instBytes, StandardCharsets.US_ASCII);
        int chunkSize = h.getInt();
        if (!INSTALLATION.matcher(installation).matches() || chunkSize < MIN_CHUNK || chunkSize > MAX_CHUNK) {
            throw malformedHeader(part);
        }
        byte[] prefix = new byte[PREFIX];
        h.get(prefix);
        byte[] context = Hashes.sha256(Arrays.copyOf(header, h.position()));
        if (!name.equals(expectedPartName)) {
            throw new EnvelopeException(part, "これは別の部品 " + name + " です", "is part " + name + ", not "
                    + expectedPartName);
        }
        byte[] wrap1KeyId = new byte[KEY_ID];
        byte[] wrap1Nonce = new byte[NONCE];
        byte[] wrap1 = new byte[WRAPPED];
        h.get(wrap1KeyId).get(wrap1Nonce).get(wrap1);
        byte[] wrap2KeyId = new byte[KEY_ID];
        byte[] ephPublic = new byte[32];
        byte[] wrap2Nonce = new byte[NONCE];
        byte[] wrap2 = new byte[WRAPPED];
        h.get(wrap2KeyId).get(ephPublic).get(wrap2Nonce).get(wrap2);
        int tagAt = h.position();
        byte[] headerTag = new byte[TAG];
        h.get(headerTag);
        byte[] dataKey;
        try {
            switch (opener) {
                case Installation i -> {
                    BackupKeys keys = i.keys();
                    if (!installation.equals(keys.installationId())) {
                        throw new EnvelopeException(part, "別の施設（インストール " + installation + "）のバックアップです"
                                + "（この施設は " + keys.installationId() + "）", "belongs to installation "
                                + installation + ", not to this one (" + keys.installationId() + ")");
                    }
                    if (!MessageDigest.isEqual(wrap1KeyId, keys.wrapKeyId())) {
                        throw new EnvelopeException(part, "別のデータ鍵で封じられています（鍵ファイルが違います）",
                                "sealed under another data-wrapping key (not this key file's)");
                    }
                    dataKey = gcm(Cipher.DECRYPT_MODE, keys.wrapKey(), wrap1Nonce, wrapAad(1, context), wrap1);
                }
                case Recovery r -> {
                    RecoveryKey key = r.key();
                    if (!MessageDigest.isEqual(wrap2KeyId, key.id())) {
                        throw new EnvelopeException(part, "この復旧鍵では開けません（識別子 " + Hashes.hex(wrap2KeyId)
                                + " の復旧鍵のための部品です）", "sealed for another recovery key (id "
                                + Hashes.hex(wrap2KeyId) + " on its sheet), not this one");
                    }
                    byte[] shared = key.agree(ephPublic);
                    if (shared == null) {
                        throw alteredHeader(part);
                    }
                    SecretKey kek = recoveryKek(shared, ephPublic, key.publicKey());
                    Arrays.fill(shared, (byte) 0);
                    dataKey = gcm(Cipher.DECRYPT_MODE, kek, wrap2Nonce, wrapAad(2, context), wrap2);
                }
            }
            gcm(Cipher.DECRYPT_MODE, new SecretKeySpec(dataKey, "AES"), nonce(Arrays.copyOf(prefix, NONCE), MAX_CHUNKS),
                    Arrays.copyOf(header, tagAt), headerTag);
        } catch (AEADBadTagException e) {
            throw alteredHeader(part);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
        OpeningStream s = new OpeningStream(in, part, new SecretKeySpec(dataKey, "AES"), prefix, Hashes.sha256(header),
                chunkSize, digest, header.length);
        Arrays.fill(dataKey, (byte) 0);
        return s;
    }

    /**
     * Reads part {@code expectedPartName} to its end, checking every chunk, and returns its name, sizes and the
     * SHA-256 of its sealed bytes (to compare with the manifest). Does not close {@code in}.
     */
    public static Manifest.Part check(InputStream in, String expectedPartName, Opener opener) throws IOException {
        OpeningStream s = open(in, expectedPartName, opener);
        byte[] b = new byte[64 * 1024];
        while (s.read(b) >= 0) {
            // Discarded: only the checks matter.
        }
        return s.part();
    }

    private static EnvelopeException malformedHeader(String part) {
        return new EnvelopeException(part, "ヘッダーが壊れています", "the header is malformed");
    }

    private static EnvelopeException alteredHeader(String part) {
        return new EnvelopeException(part, "ヘッダーが改ざんされています", "the header was altered");
    }

    static int readFully(InputStream in, byte[] b, int off, int len) throws IOException {
        int n = 0;
        while (n < len) {
            int r = in.read(b, off + n, len - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        return n;
    }

    /** The plaintext of a part, chunk by chunk, each released only after its tag is checked. Not thread-safe. */
    public static final class OpeningStream extends InputStream {
        private final InputStream in;
        private final String part;
        private final SecretKey dataKey;
        private final byte[] nonce = new byte[NONCE];
        private final byte[] headerHash;
        private final int chunkSize;
        private final MessageDigest digest;
        private final byte[] sealed;
        private final byte[] plain;
        private final Cipher cipher;
        private int pos;
        private int limit;
        private long counter;
        private long plainSize;
        private long sealedSize;
        private boolean done;
        private EnvelopeException failure;
        private Manifest.Part result;

        OpeningStream(InputStream in, String part, SecretKey dataKey, byte[] prefix, byte[] headerHash, int chunkSize,
                      MessageDigest digest, long headerLength) {
            this.in = in;
            this.part = part;
            this.dataKey = dataKey;
            System.arraycopy(prefix, 0, nonce, 0, PREFIX);
            this.headerHash = headerHash;
            this.chunkSize = chunkSize;
            this.digest = digest;
            this.sealedSize = headerLength;
            this.sealed = new byte[4 + chunkSize + TAG];
            this.plain = new byte[chunkSize];
            try {
                this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM is not available", e);
            }
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            while (pos == limit) {
                if (failure != null) {
                    throw failure;
                }
                if (done) {
                    return -1;
                }
                try {
                    next();
                } catch (EnvelopeException e) {
                    failure = e;
                    throw e;
                }
            }
            int n = Math.min(len, limit - pos);
            System.arraycopy(plain, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public int available() {
            return limit - pos;
        }

        private void next() throws IOException {
            long number = counter + 1;
            int got = readFully(in, sealed, 0, 4);
            if (got == 0) {
                throw counter == 0
                        ? new EnvelopeException(part, "ヘッダーの後で切れています", "truncated after the header")
                        : new EnvelopeException(part, "第 " + counter + " チャンクの後で切れています",
                        "truncated after chunk " + counter);
            }
            if (got < 4) {
                throw truncatedIn(number);
            }
            int frame = ByteBuffer.wrap(sealed, 0, 4).getInt();
            boolean last = frame < 0;
            int length = frame & 0x7fff_ffff;
            if (length > chunkSize || (!last && length != chunkSize) || counter >= MAX_CHUNKS) {
                throw altered(number);
            }
            if (readFully(in, sealed, 4, length + TAG) < length + TAG) {
                throw truncatedIn(number);
            }
            try {
                cipher.init(Cipher.DECRYPT_MODE, dataKey, new GCMParameterSpec(TAG * 8, nonce(nonce, counter)));
                cipher.updateAAD(aad(headerHash, counter, frame));
                cipher.doFinal(sealed, 4, length + TAG, plain, 0);
            } catch (AEADBadTagException e) {
                throw altered(number);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-GCM failed", e);
            }
            digest.update(sealed, 0, 4 + length + TAG);
            sealedSize += 4 + length + TAG;
            counter++;
            if (last) {
                // Nothing may follow the last chunk; checked before its plaintext is released.
                if (in.read() >= 0) {
                    Arrays.fill(plain, 0, length, (byte) 0);
                    throw new EnvelopeException(part, "最後のチャンクの後に余分なデータがあります",
                            "unexpected data after the last chunk (" + counter + ")");
                }
                done = true;
            }
            pos = 0;
            limit = length;
            plainSize += length;
        }

        private EnvelopeException altered(long number) {
            return new EnvelopeException(part, "第 " + number + " チャンクが改ざんされています（または順序が違います）",
                    "chunk " + number + " was altered (or is out of order)");
        }

        private EnvelopeException truncatedIn(long number) {
            return new EnvelopeException(part, "第 " + number + " チャンクの途中で切れています",
                    "truncated inside chunk " + number);
        }

        /** Chunks read and checked so far. */
        public long chunks() {
            return counter;
        }

        /**
         * The part's name, sizes and SHA-256 of its sealed bytes, once the whole part was read.
         *
         * @throws IllegalStateException before the end
         */
        public Manifest.Part part() {
            if (!done || pos != limit) {
                throw new IllegalStateException("part " + part + " has not been read to its end");
            }
            if (result == null) {
                result = new Manifest.Part(part, plainSize, sealedSize, HexFormat.of().formatHex(digest.digest()));
            }
            return result;
        }

        @Override
        public void close() throws IOException {
            Arrays.fill(plain, (byte) 0);
            pos = limit;
            in.close();
        }
    }

    /** An output stream onto a file channel, without the extra buffering of Files.newOutputStream. */
    private static final class ChannelOut extends OutputStream {
        private final FileChannel ch;

        ChannelOut(FileChannel ch) {
            this.ch = ch;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(b, off, len);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
    }
}
