package jp.mamori.records;

import jp.mamori.kernel.Hashes;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;

/**
 * The hashes that make each stored version checkable. {@code content} is SHA-256 of the canonical JSON.
 * {@code chain} binds a version to everything recorded about it (who, when, why, what) and to the chain
 * value of the version before it, so an edited author, time or reason, or a removed version, shows.
 */
public final class VersionHash {
    public static final byte[] GENESIS = new byte[32];

    private VersionHash() {
    }

    public static byte[] content(String body) {
        return body == null ? null : Hashes.sha256(body);
    }

    public static byte[] content(byte[] utf8) {
        return utf8 == null ? null : Hashes.sha256(utf8);
    }

    public static byte[] chain(byte[] previous, String type, String id, int version, Instant recordedAt, String author,
                               String reason, String operation, String lifecycle, byte[] content) {
        String envelope = String.join("\n", "mamori-version-v1", type, id, Integer.toString(version),
                recordedAt.toString(), author, reason == null ? "" : reason, operation,
                lifecycle == null ? "" : lifecycle, content == null ? "" : HexFormat.of().formatHex(content));
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(previous);
            md.update(envelope.getBytes(StandardCharsets.UTF_8));
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String hex(byte[] b) {
        return Hashes.hex(b);
    }
}
