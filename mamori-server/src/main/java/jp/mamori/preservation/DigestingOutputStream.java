package jp.mamori.preservation;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Counts and hashes (SHA-256) what passes through to a part. Closing it closes (commits) the part. */
final class DigestingOutputStream extends FilterOutputStream {
    private final MessageDigest sha256;
    private long count;

    DigestingOutputStream(OutputStream out) {
        super(out);
        sha256 = newSha256();
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    OutputStream part() {
        return out;
    }

    @Override
    public void write(int b) throws IOException {
        out.write(b);
        sha256.update((byte) b);
        count++;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        sha256.update(b, off, len);
        count += len;
    }

    long count() {
        return count;
    }

    /** The hash of everything written; call once, when done. */
    String sha256Hex() {
        return HexFormat.of().formatHex(sha256.digest());
    }
}
