package jp.mamori.preservation;

import jp.mamori.db.Secrets;
import jp.mamori.kernel.Hashes;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The installation's backup keys, kept in {@code <data>/secrets/backup-keys} (owner-only, never in the database and
 * never beside the copies), one {@code name value} a line:
 * <ul>
 *   <li>{@code installation}: a random id (16 hex characters) naming the installation in part headers and
 *       manifests;</li>
 *   <li>{@code wrap}: the data-wrapping key (AES-256) under which every part's own data key is wrapped, so that the
 *       server can back up, verify and drill unattended;</li>
 *   <li>{@code sign-private}, {@code sign-public}: the Ed25519 pair that signs manifests;</li>
 *   <li>{@code recovery-public}: the public half of the recovery pair (X25519), to which every part's data key is
 *       wrapped a second time.</li>
 * </ul>
 * The recovery pair's private half is made together with the file and written only to the recovery sheet,
 * {@code <data>/backup-recovery-sheet.txt} (owner-only), to be printed or put in escrow and then deleted
 * ({@link #confirmRecoverySheetTakenOffline()}). With the sheet alone (the recovery key and the signer's
 * fingerprint) a hospital opens and checks its backups on a new machine when the server and its disk are gone.
 *
 * <p>Creation is not guarded against two processes creating the keys at the same moment; the server creates them
 * at start-up, once.
 */
public final class BackupKeys {
    public static final String FILE = "backup-keys";
    public static final String SHEET = "backup-recovery-sheet.txt";
    static final int FORMAT = 1;
    private static final int MAX_FILE_BYTES = 16 * 1024;
    private static final Pattern INSTALLATION = Pattern.compile("[0-9a-f]{16}");
    private static final List<String> FIELDS = List.of("format", "installation", "created", "wrap", "sign-private",
            "sign-public", "recovery-public");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dataDir;
    private final String installationId;
    private final SecretKey wrapKey;
    private final byte[] wrapKeyId;
    private final PrivateKey signingKey;
    private final PublicKey signerPublicKey;
    private final byte[] recoveryPublicKey;

    private BackupKeys(Path dataDir, String installationId, byte[] wrapKey, PrivateKey signingKey,
                       PublicKey signerPublicKey, byte[] recoveryPublicKey) {
        this.dataDir = dataDir;
        this.installationId = installationId;
        this.wrapKey = new SecretKeySpec(wrapKey, "AES");
        this.wrapKeyId = wrapKeyId(wrapKey);
        this.signingKey = signingKey;
        this.signerPublicKey = signerPublicKey;
        this.recoveryPublicKey = recoveryPublicKey.clone();
    }

    /** The key file, {@code <data>/secrets/backup-keys}. */
    public static Path file(Path dataDir) {
        return dataDir.resolve("secrets").resolve(FILE);
    }

    /** The recovery sheet, {@code <data>/backup-recovery-sheet.txt}, present until its owner confirms it is offline. */
    public static Path recoverySheet(Path dataDir) {
        return dataDir.resolve(SHEET);
    }

    /**
     * The installation's backup keys, created with a new recovery sheet when there are none yet.
     *
     * @throws BackupException      when the key file may be read by others than its owner, or is not a key file
     * @throws UncheckedIOException when it cannot be read or written
     */
    public static BackupKeys loadOrCreate(Path dataDir) {
        Path f = file(dataDir);
        try {
            if (!Files.exists(f)) {
                return create(dataDir);
            }
            return load(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create " + f, e);
        }
    }

    /** A rotation of the recovery key: the new key's id (as on the new sheet), the replaced key's id, when. */
    public record Rotation(String keyId, String previousKeyId, Instant at) {
    }

    /**
     * Replaces the recovery key (CRYPTO-1: when a sheet is lost, or a person who could reach it leaves): a new
     * recovery pair, its sheet written to {@code <data>/backup-recovery-sheet.txt} first, then the key file's
     * {@code recovery-public} replaced (a temporary file renamed over it). Backups taken from then on are sealed for
     * the new key; those taken before still open only with the previous one, so its sheet is kept until they are all
     * gone (the new sheet says so). The other keys do not change: the installation, its manifests' signer and the
     * data-wrapping key stay, so every existing backup still verifies and restores on this server.
     *
     * <p>Refused while the current sheet is still on the server (it would be overwritten before anyone kept it, and
     * the backups made so far open only with it). A sheet left by an interrupted rotation (its key id is not the one
     * in use) is replaced. A server running on this folder keeps sealing for the key it loaded until it restarts, so
     * the command refuses to run beside it.
     */
    public static Rotation rotateRecoveryKey(Path dataDir) {
        Path f = file(dataDir);
        try {
            if (!Files.exists(f)) {
                throw new BackupException("バックアップ鍵がまだありません / there are no backup keys yet in " + dataDir);
            }
            BackupKeys current = load(dataDir);
            String currentId = Hashes.hex(RecoveryKey.id(current.recoveryPublicKey));
            Path sheet = recoverySheet(dataDir);
            if (Files.exists(sheet) && currentId.equals(sheetKeyId(sheet))) {
                throw new BackupException("今の復旧鍵の用紙がまだサーバーにあります。先に印刷・保管し、backup recovery-sheet-done"
                        + " を実行してください（これまでのバックアップはその鍵で開きます） / the current recovery sheet is still on"
                        + " this server: print or escrow it and run backup recovery-sheet-done first (the backups made so"
                        + " far open with its key)");
            }
            RecoveryKey recovery = RecoveryKey.generate();
            Instant at = Instant.now().truncatedTo(ChronoUnit.SECONDS);
            Files.deleteIfExists(sheet);
            Secrets.writeOwnerOnly(sheet, sheet(current, recovery, at) + rotationNote(currentId, at));
            fsync(sheet);
            fsync(dataDir);
            String line = "recovery-public " + Base64.getUrlEncoder().withoutPadding()
                    .encodeToString(recovery.publicKey());
            StringBuilder text = new StringBuilder();
            int replaced = 0;
            for (String l : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (l.strip().startsWith("recovery-public ")) {
                    text.append(line).append('\n');
                    replaced++;
                } else {
                    text.append(l).append('\n');
                }
            }
            if (replaced != 1) {
                throw malformed(f, "recovery-public appears " + replaced + " times");
            }
            Path tmp = f.resolveSibling(FILE + ".tmp");
            Files.deleteIfExists(tmp);
            Secrets.writeOwnerOnly(tmp, text.toString());
            fsync(tmp);
            Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            fsync(f.getParent());
            BackupKeys now = load(dataDir);
            if (!Arrays.equals(now.recoveryPublicKey, recovery.publicKey())) {
                throw new IllegalStateException("the key file does not hold the new recovery key after the rotation");
            }
            return new Rotation(Hashes.hex(recovery.id()), currentId, at);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rotate the recovery key in " + f, e);
        }
    }

    /** The recovery key id a sheet names (its "Recovery key id" line), or null when it names none. */
    static String sheetKeyId(Path sheet) throws IOException {
        if (Files.size(sheet) > MAX_FILE_BYTES) {
            return null;
        }
        for (String l : Files.readAllLines(sheet, StandardCharsets.UTF_8)) {
            int i = l.indexOf("Recovery key id:");
            if (i >= 0) {
                return l.substring(i + "Recovery key id:".length()).strip();
            }
        }
        return null;
    }

    private static String rotationNote(String previousId, Instant at) {
        return """

                ■ 以前の復旧鍵について / About the previous recovery key
                この復旧鍵は %s 以降に取得したバックアップを開きます。それより前のバックアップは以前の復旧鍵
                （識別子 %s）でしか開けません。以前の用紙は、%s より前のバックアップが世代管理ですべて削除される
                まで（年単位の世代を残す設定なら数年）、破棄せずに保管してください。
                This recovery key opens the backups taken from %s on. Backups taken before open only with the
                previous recovery key (id %s): keep its sheet until every backup taken before %s has been deleted
                by generation (years, when yearly generations are kept).
                """.formatted(at, previousId, at, at, previousId, at);
    }

    /** Reads a recovery key typed from the sheet; see {@link RecoveryKey#parse}. */
    public static RecoveryKey parseRecoveryKey(String typed) {
        return RecoveryKey.parse(typed);
    }

    private static BackupKeys create(Path dataDir) throws IOException {
        byte[] id = new byte[8];
        RANDOM.nextBytes(id);
        String installation = HexFormat.of().formatHex(id);
        byte[] wrap = new byte[32];
        RANDOM.nextBytes(wrap);
        KeyPair signing;
        try {
            signing = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
        RecoveryKey recovery = RecoveryKey.generate();
        Instant created = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        BackupKeys keys = new BackupKeys(dataDir, installation, wrap, signing.getPrivate(), signing.getPublic(),
                recovery.publicKey());
        // The sheet first: a crash before the key file is written leaves no keys, and the next start makes both anew.
        // The other order could leave keys whose recovery key nobody ever saw.
        Path sheet = recoverySheet(dataDir);
        Files.deleteIfExists(sheet);
        Secrets.writeOwnerOnly(sheet, sheet(keys, recovery, created));
        fsync(sheet);
        fsync(dataDir);
        Base64.Encoder b64 = Base64.getEncoder();
        Base64.Encoder b64url = Base64.getUrlEncoder().withoutPadding();
        Secrets.writeOwnerOnly(file(dataDir), "# Mamori backup keys. Keep this file secret, out of the database and"
                + " never beside the backups: it opens them.\n"
                + "# The recovery key (on the printed recovery sheet) opens them too, without this file.\n"
                + "format " + FORMAT + "\n"
                + "installation " + installation + "\n"
                + "created " + created + "\n"
                + "wrap " + b64url.encodeToString(wrap) + "\n"
                + "sign-private " + b64.encodeToString(signing.getPrivate().getEncoded()) + "\n"
                + "sign-public " + b64.encodeToString(signing.getPublic().getEncoded()) + "\n"
                + "recovery-public " + b64url.encodeToString(recovery.publicKey()) + "\n");
        fsync(file(dataDir));
        fsync(file(dataDir).getParent());
        Arrays.fill(wrap, (byte) 0);
        return keys;
    }

    private static BackupKeys load(Path dataDir) throws IOException {
        Path f = file(dataDir);
        requireOwnerOnly(f);
        if (Files.size(f) > MAX_FILE_BYTES) {
            throw malformed(f, "too large");
        }
        Map<String, String> v = new LinkedHashMap<>();
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int sp = l.indexOf(' ');
            String name = sp > 0 ? l.substring(0, sp) : l;
            if (!FIELDS.contains(name) || sp < 0) {
                throw malformed(f, "unknown line \"" + (name.length() > 40 ? name.substring(0, 40) : name) + "\"");
            }
            if (v.put(name, l.substring(sp + 1).strip()) != null) {
                throw malformed(f, name + " appears twice");
            }
        }
        for (String name : FIELDS) {
            if (!v.containsKey(name)) {
                throw malformed(f, name + " is missing");
            }
        }
        if (!v.get("format").equals(String.valueOf(FORMAT))) {
            throw malformed(f, "format " + v.get("format") + " is not known");
        }
        if (!INSTALLATION.matcher(v.get("installation")).matches()) {
            throw malformed(f, "installation is not 16 hex characters");
        }
        try {
            byte[] wrap = Base64.getUrlDecoder().decode(v.get("wrap"));
            byte[] recovery = Base64.getUrlDecoder().decode(v.get("recovery-public"));
            if (wrap.length != 32 || recovery.length != 32) {
                throw malformed(f, "wrap and recovery-public must be 32 bytes");
            }
            KeyFactory kf = KeyFactory.getInstance("Ed25519");
            PublicKey pub = kf.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(v.get("sign-public"))));
            PrivateKey priv = kf.generatePrivate(new PKCS8EncodedKeySpec(
                    Base64.getDecoder().decode(v.get("sign-private"))));
            BackupKeys keys = new BackupKeys(dataDir, v.get("installation"), wrap, priv, pub, recovery);
            Arrays.fill(wrap, (byte) 0);
            byte[] probe = "mamori-backup key-file check".getBytes(StandardCharsets.US_ASCII);
            if (!verify(pub, probe, keys.sign(probe))) {
                throw malformed(f, "sign-private and sign-public are not one pair");
            }
            return keys;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw malformed(f, "a key cannot be read");
        }
    }

    private static BackupException malformed(Path f, String what) {
        return new BackupException("バックアップ鍵ファイル " + f.getFileName() + " が正しくありません / the backup key file "
                + f.getFileName() + " is not valid: " + what);
    }

    private static void requireOwnerOnly(Path f) throws IOException {
        if (!jp.mamori.db.Secrets.ownerOnly(f)) {
            throw new BackupException("バックアップ鍵ファイル " + f.getFileName() + " は所有者だけが読み書きできるように"
                    + "してください（chmod 600） / the backup key file " + f.getFileName()
                    + " must be readable and writable by its owner only (chmod 600)");
        }
    }

    /** The installation id: 16 hex characters, random, in every part header and manifest of this installation. */
    public String installationId() {
        return installationId;
    }

    /** The manifests' signing key's public half. */
    public PublicKey signerPublicKey() {
        return signerPublicKey;
    }

    /** The signing key's fingerprint as printed on the recovery sheet ({@code MSK1-XXXX-…}, 8 groups). */
    public String signerFingerprint() {
        return fingerprint(signerPublicKey);
    }

    /**
     * The fingerprint of an Ed25519 public key: {@code MSK1-} and the first 160 bits of SHA-256 of its X.509
     * encoding in Crockford base32, in 8 groups of four.
     */
    public static String fingerprint(PublicKey key) {
        byte[] h = Arrays.copyOf(Hashes.sha256(key.getEncoded()), 20);
        return "MSK1-" + Crockford.grouped(Crockford.encode(h));
    }

    /**
     * Whether a fingerprint typed from the sheet names {@code key}: case, spaces and '-' are ignored, O is read as
     * 0 and I, L as 1.
     */
    public static boolean fingerprintMatches(String typed, PublicKey key) {
        return typed != null && normalFingerprint(typed).equals(normalFingerprint(fingerprint(key)));
    }

    private static String normalFingerprint(String s) {
        StringBuilder sb = new StringBuilder();
        String n = java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFKC);
        for (int i = 0; i < n.length(); i++) {
            char c = n.charAt(i);
            if (c == '-' || Character.isWhitespace(c) || Character.isSpaceChar(c)) {
                continue;
            }
            int v = Crockford.value(c);
            sb.append(v < 0 ? '?' : Crockford.ALPHABET.charAt(v));
        }
        return sb.toString();
    }

    /** Whether the recovery sheet is still on the server's disk (a deviation until someone takes it offline). */
    public boolean recoverySheetPending() {
        return Files.exists(recoverySheet(dataDir));
    }

    /**
     * Records that the recovery sheet was printed or escrowed: overwrites the file with zeros, flushes it to disk and
     * deletes it. (On a copy-on-write file system or an SSD the old blocks may survive the overwrite; the file holds
     * only the recovery key, which is why it should not stay on the server at all.)
     */
    public void confirmRecoverySheetTakenOffline() {
        Path sheet = recoverySheet(dataDir);
        try {
            if (!Files.exists(sheet)) {
                return;
            }
            String inUse = Hashes.hex(RecoveryKey.id(recoveryPublicKey));
            String onSheet = sheetKeyId(sheet);
            if (onSheet != null && !onSheet.equals(inUse)) {
                throw new BackupException("サーバー上の用紙は使われていない復旧鍵のものです（鍵の交換が中断されました）。"
                        + "backup rotate-recovery-key をもう一度実行してください / the sheet on this server is for a recovery"
                        + " key that is not in use (" + onSheet + ", an interrupted rotation): run backup"
                        + " rotate-recovery-key again");
            }
            shred(sheet);
            fsync(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + sheet, e);
        }
    }

    /**
     * Destroys this installation's backup keys at the end of its use ({@link Backups#destroyAll}): the key file and a
     * recovery sheet still on the server are overwritten with zeros, flushed and deleted. Every copy that stays
     * anywhere then opens only with a printed recovery sheet. (On a copy-on-write file system or an SSD the old blocks
     * may survive the overwrite; the disk's own erasure is the host's.)
     */
    void destroy() {
        try {
            shred(recoverySheet(dataDir));
            shred(file(dataDir));
            fsync(file(dataDir).getParent());
            fsync(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot destroy the backup keys in " + dataDir, e);
        }
    }

    private static void shred(Path f) throws IOException {
        if (!Files.exists(f)) {
            return;
        }
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            long size = ch.size();
            ByteBuffer zeros = ByteBuffer.allocate(4096);
            for (long pos = 0; pos < size; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - pos));
                pos += ch.write(zeros, pos);
            }
            ch.force(true);
        }
        Files.delete(f);
    }

    SecretKey wrapKey() {
        return wrapKey;
    }

    byte[] wrapKeyId() {
        return wrapKeyId.clone();
    }

    byte[] recoveryPublicKey() {
        return recoveryPublicKey.clone();
    }

    /** An Ed25519 signature of {@code message} with the manifest signing key. */
    byte[] sign(byte[] message) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(signingKey);
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
    }

    static boolean verify(PublicKey key, byte[] message, byte[] signature) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(message);
            return s.verify(signature);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    static byte[] wrapKeyId(byte[] wrapKey) {
        return Arrays.copyOf(Hashes.sha256(RecoveryKey.concat(
                "mamori-backup wrap-key-id\n".getBytes(StandardCharsets.US_ASCII), wrapKey)), 8);
    }

    static void fsync(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            if (!Files.isDirectory(p)) {
                throw e;
            }
            // Some file systems do not let a directory be opened for syncing; the rename is then as durable as it gets.
        }
    }

    private static String sheet(BackupKeys keys, RecoveryKey recovery, Instant created) {
        String text = recovery.text();
        StringBuilder rows = new StringBuilder();
        String[] groups = text.substring(RecoveryKey.PREFIX.length() + 1).split("-");
        for (int i = 0; i < groups.length; i++) {
            rows.append(i % 4 == 0 ? "      " : "   ").append(String.format("%2d %s", i + 1, groups[i]));
            if (i % 4 == 3 || i == groups.length - 1) {
                rows.append(i == groups.length - 1 ? "   （最後はチェック用 / the last is the check group）\n" : "\n");
            }
        }
        return """
                Mamori バックアップ復旧鍵 / Mamori backup recovery key
                ======================================================

                施設（インストール）ID / Installation id:   %s
                作成日時 / Created (UTC):                   %s
                復旧鍵の識別子 / Recovery key id:           %s

                復旧鍵 / Recovery key:

                    %s

                    グループ番号つき / by group number:  MRK1-
                %s
                署名鍵の指紋 / Signing key fingerprint:

                    %s

                ■ これは何か
                この用紙の「復旧鍵」は、この Mamori のすべてのバックアップ（暗号化された全ての部品）を開く鍵です。
                サーバーもそのディスクも失われたときでも、この復旧鍵があれば新しいマシンでバックアップを復号して
                復元できます。その際、バックアップの目録（マニフェスト）の署名鍵が上の「署名鍵の指紋」と一致する
                ことを確かめてから復元します。一致しなければ、それはこの施設のバックアップではありません。

                ■ 保管のしかた
                ・この復旧鍵を持つ人は、すべての診療記録のバックアップを読めます。印刷して金庫など施錠された場所に
                  保管するか、第三者に預託（エスクロー）してください。別々の場所に 2 部保管することを勧めます。
                ・サーバーと同じ場所・同じ媒体（バックアップの保存先を含む）に置かないでください。
                ・印刷または預託したら、このファイルを必ず削除してください。管理画面またはコマンドで「保管した」と
                  確認すると、Mamori がこのファイルを上書きしてから削除します。このファイルがサーバーに残って
                  いる間は、Mamori は逸脱として警告し続けます。

                ■ What this is
                The recovery key on this sheet opens every backup of this Mamori installation (every encrypted part).
                Even when the server and its disk are gone, it lets you decrypt and restore the backups on a new
                machine. Before restoring, check that the signing key of the backup's manifest matches the signing
                key fingerprint above; if it does not, the backup is not this installation's.

                ■ How to keep it
                - Whoever holds this recovery key can read every backup of the medical records. Print it and keep it
                  locked away (a safe), or put it in escrow with a trusted third party; two copies in different
                  places are recommended.
                - Never keep it in the same place or on the same media as the server or its backups.
                - Delete this file after printing or escrowing it: confirm in the console or on the command line
                  that the sheet is offline, and Mamori overwrites this file and deletes it. As long as the file is on
                  the server, Mamori reports a deviation.
                """.formatted(keys.installationId, created, Hashes.hex(recovery.id()), text, rows,
                keys.signerFingerprint());
    }
}
