package jp.mamori.audit;

import jp.mamori.ledger.NoteSigner;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.List;

/**
 * The seal an appender puts on each group of entries it stores (AUDIT-3, ADR 0006 "Only what an appender stored is
 * signed"): HMAC-SHA-256 over the group's first sequence number, its size and its entries' leaf hashes, in
 * {@code audit_group}. The key is derived from the checkpoint signing key (SHA-256 of the key's Ed25519 signature
 * over a fixed label; Ed25519 signatures are deterministic), so every process that may sign checkpoints can seal and
 * check groups, and the database, which never holds the key, cannot: an entry a database superuser appends, however
 * well chained, lies in no sealed group, and the checkpointer refuses to sign over it.
 */
final class GroupSeal {
    private static final byte[] LABEL = "mamori audit group seal key v1".getBytes(StandardCharsets.UTF_8);
    private final SecretKeySpec key;

    private GroupSeal(byte[] key) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
    }

    /** The seal key of the trail that {@code signer} checkpoints. */
    public static GroupSeal of(NoteSigner signer) {
        try {
            return new GroupSeal(MessageDigest.getInstance("SHA-256").digest(signer.sign(LABEL)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The seal of entries [firstSeq, firstSeq + leaves.size()). */
    public byte[] seal(long firstSeq, List<byte[]> leaves) {
        Mac m = start(firstSeq, leaves.size());
        for (byte[] l : leaves) {
            m.update(l);
        }
        return m.doFinal();
    }

    /** A MAC primed with the group's position; feed it the leaf hashes in order and compare with the stored seal. */
    Mac start(long firstSeq, long count) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            m.update(ByteBuffer.allocate(16).putLong(firstSeq).putLong(count).array());
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
