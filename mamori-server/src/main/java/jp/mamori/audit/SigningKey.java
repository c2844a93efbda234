package jp.mamori.audit;

import jp.mamori.db.Secrets;
import jp.mamori.ledger.NoteSigner;
import jp.mamori.ledger.VerifierKey;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Ed25519 key that signs the trail's checkpoints (AUDIT-3). It lives in a file in the data folder's secrets,
 * created on first use with owner-only permissions and refused when others can read it; it is never written to the
 * database, so the database credentials (and a dump or replica) cannot re-sign a rewritten trail. The file holds
 * the key name (the log's origin), the PKCS#8 private key and the X.509 public key, one {@code name value} a line.
 * Its public half is also written, as a C2SP verifier key, to {@code <data>/audit-verifier-key} for auditors.
 */
final class SigningKey {
    public static final String FILE = "audit-signing-key";
    public static final String VERIFIER_FILE = "audit-verifier-key";

    private SigningKey() {
    }

    /** The key file under {@code <data>/secrets}. */
    public static Path file(Path dataDir) {
        return dataDir.resolve("secrets").resolve(FILE);
    }

    /** Loads the signer, creating the key (named {@code origin}) when there is none yet. */
    public static NoteSigner loadOrCreate(Path dataDir, String origin) {
        Path f = file(dataDir);
        try {
            if (!Files.exists(f)) {
                KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                String name = sanitize(origin);
                NoteSigner s = new NoteSigner(name, kp);
                Secrets.writeOwnerOnly(f, "# Mamori audit checkpoint signing key (Ed25519). Keep it secret and out of"
                        + " the database; back it up apart from database backups.\n"
                        + "name " + name + "\n"
                        + "private " + Base64.getEncoder().encodeToString(kp.getPrivate().getEncoded()) + "\n"
                        + "public " + Base64.getEncoder().encodeToString(kp.getPublic().getEncoded()) + "\n");
                writeVerifierKey(dataDir, s.verifierKey());
                return s;
            }
            NoteSigner s = load(f);
            if (!Files.exists(dataDir.resolve(VERIFIER_FILE))) {
                writeVerifierKey(dataDir, s.verifierKey());
            }
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create " + f, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
    }

    /** Loads an existing key file; refuses one that others may read. */
    public static NoteSigner load(Path f) throws IOException {
        requireOwnerOnly(f);
        Map<String, String> v = new LinkedHashMap<>();
        for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int sp = l.indexOf(' ');
            if (sp > 0) {
                v.put(l.substring(0, sp), l.substring(sp + 1).strip());
            }
        }
        if (!v.containsKey("name") || !v.containsKey("private") || !v.containsKey("public")) {
            throw new IllegalStateException("監査署名鍵ファイルの形式が正しくありません / " + f.getFileName()
                    + " is not an audit signing key file (name, private, public)");
        }
        try {
            KeyFactory kf = KeyFactory.getInstance("Ed25519");
            KeyPair kp = new KeyPair(kf.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(v.get("public")))),
                    kf.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(v.get("private")))));
            return new NoteSigner(v.get("name"), kp);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalStateException("監査署名鍵を読めません / cannot read the audit signing key in "
                    + f.getFileName() + ": " + e.getMessage());
        }
    }

    private static void writeVerifierKey(Path dataDir, VerifierKey k) throws IOException {
        Path tmp = Files.createTempFile(dataDir, ".tmp", "");
        Files.writeString(tmp, k.format() + "\n");
        Files.move(tmp, dataDir.resolve(VERIFIER_FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /** A key name has no white space and no '+'. */
    static String sanitize(String origin) {
        String s = origin.replaceAll("[\\s+]", "-");
        return s.isEmpty() ? "mamori-audit" : s;
    }

    private static void requireOwnerOnly(Path f) throws IOException {
        if (!jp.mamori.db.Secrets.ownerOnly(f)) {
            throw new IllegalStateException("監査署名鍵ファイル " + f.getFileName() + " は所有者だけが読み書きできるように"
                    + "してください（chmod 600） / the audit signing key file " + f.getFileName()
                    + " must be readable and writable by its owner only (chmod 600)");
        }
    }
}
