package jp.mamori.preservation;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Helpers for the preservation tests: deterministic plaintext, sealing to bytes, the sheet's recovery key. */
final class Fixtures {
    private static final Pattern KEY_ON_SHEET = Pattern.compile("MRK1(-[0-9A-Z]{4}){14}");

    private Fixtures() {
    }

    static byte[] plain(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] seal(Envelope env, String name, byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length + 1024);
        try (Envelope.SealingStream s = env.seal(out, name)) {
            s.write(plain);
            s.finish();
        }
        return out.toByteArray();
    }

    static byte[] open(byte[] sealed, String name, Envelope.Opener opener) throws IOException {
        try (InputStream in = Envelope.open(new ByteArrayInputStream(sealed), name, opener)) {
            return in.readAllBytes();
        }
    }

    /** The recovery key as printed on the sheet in {@code dataDir}. */
    static String recoveryKeyOnSheet(Path dataDir) throws IOException {
        String sheet = Files.readString(BackupKeys.recoverySheet(dataDir), StandardCharsets.UTF_8);
        Matcher m = KEY_ON_SHEET.matcher(sheet);
        if (!m.find()) {
            throw new AssertionError("no recovery key on the sheet");
        }
        return m.group();
    }

    /** The length of the header of a sealed part. */
    static int headerLength(byte[] sealed) {
        return Envelope.PREAMBLE + (((sealed[10] & 0xff) << 24) | ((sealed[11] & 0xff) << 16)
                | ((sealed[12] & 0xff) << 8) | (sealed[13] & 0xff));
    }
}
