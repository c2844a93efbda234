package jp.mamori.ledger;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Signature;

/**
 * Signs notes (checkpoints) with an Ed25519 private key under a key name, in the C2SP signed-note
 * form. The private key never leaves this object and {@link #toString} shows only the public part.
 * Thread-safe.
 */
public final class NoteSigner {
    private final PrivateKey privateKey;
    private final VerifierKey verifierKey;

    /**
     * @param keyName the key name (the log's origin by Mamori's convention): no spaces, no '+'
     * @param keys an Ed25519 key pair; the public half is needed for the key id
     * @throws IllegalArgumentException when the keys are not Ed25519 or do not belong together
     */
    public NoteSigner(String keyName, KeyPair keys) {
        this.privateKey = keys.getPrivate();
        this.verifierKey = VerifierKey.of(keyName, keys.getPublic());
        byte[] probe = "mamori key check\n".getBytes(StandardCharsets.UTF_8);
        if (!verifierKey.verify(probe, sign(probe))) {
            throw new IllegalArgumentException("the private and public keys do not belong together");
        }
    }

    /** A signer with a fresh Ed25519 key pair (tests, benchmarks, first start). */
    public static NoteSigner generate(String keyName) {
        try {
            return new NoteSigner(keyName, KeyPairGenerator.getInstance("Ed25519").generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no Ed25519", e);
        }
    }

    public VerifierKey verifierKey() {
        return verifierKey;
    }

    /** The raw 64-byte Ed25519 signature of {@code message}. */
    public byte[] sign(byte[] message) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed: " + e.getMessage(), e);
        }
    }

    /** The signature line {@code — <name> <base64(key id ‖ signature)>} (without newline) for a note text. */
    public String signatureLine(String noteText) {
        return NoteSignature.of(verifierKey, sign(noteText.getBytes(StandardCharsets.UTF_8))).line();
    }

    @Override
    public String toString() {
        return "NoteSigner[" + verifierKey.format() + "]";
    }
}
