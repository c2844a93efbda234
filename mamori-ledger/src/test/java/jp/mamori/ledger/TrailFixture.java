package jp.mamori.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** An exported trail written with a real Ed25519 key, whose files the tests then tamper with. */
final class TrailFixture {
    static final String ORIGIN = "hospital.example.jp/audit";

    final Path dir;
    final NoteSigner signer;
    final List<String> lines;

    private TrailFixture(Path dir, NoteSigner signer) throws IOException {
        this.dir = dir;
        this.signer = signer;
        this.lines = new ArrayList<>(Files.readAllLines(dir.resolve(Export.ENTRIES), StandardCharsets.UTF_8));
    }

    /** n entries with a checkpoint after every {@code every}. */
    static TrailFixture write(Path dir, NoteSigner signer, int n, int every) throws IOException {
        Instant t = Instant.parse("2026-11-23T09:00:00Z");
        try (ExportWriter w = new ExportWriter(dir, signer, null)) {
            for (int i = 0; i < n; i++) {
                t = t.plusSeconds(7);
                w.append(rest(i, t));
                if ((i + 1) % every == 0) {
                    w.checkpoint(t);
                }
            }
        }
        return new TrailFixture(dir, signer);
    }

    static String rest(int i, Instant t) {
        return "\"time\":\"" + t + "\",\"actor\":\"person-" + (i % 13) + "\",\"role\":\"physician\",\"department\":\"内科\","
                + "\"patients\":[\"Patient/" + (1000 + i % 7) + "\"],\"action\":\"read\",\"outcome\":\"success\"}";
    }

    static byte[] leaf(String line) {
        return Merkle.leafHash(line.getBytes(StandardCharsets.UTF_8));
    }

    static String b64(byte[] h) {
        return Base64.getEncoder().encodeToString(h);
    }

    /** Rewrites the prev of every line from {@code from} on so that the chain is intact again. */
    void relink(int from) {
        for (int i = Math.max(1, from); i < lines.size(); i++) {
            String l = lines.get(i);
            int a = l.indexOf("\"prev\":\"") + 8;
            lines.set(i, l.substring(0, a) + b64(leaf(lines.get(i - 1))) + l.substring(a + 44));
        }
    }

    /** The line of entry {@code seq} with its action changed (its prev untouched). */
    String edited(int index) {
        return lines.get(index).replace("\"action\":\"read\"", "\"action\":\"update\"");
    }

    List<byte[]> leafHashes() {
        List<byte[]> out = new ArrayList<>();
        lines.forEach(l -> out.add(leaf(l)));
        return out;
    }

    void save() throws IOException {
        StringBuilder b = new StringBuilder();
        lines.forEach(l -> b.append(l).append('\n'));
        Files.writeString(dir.resolve(Export.ENTRIES), b.toString(), StandardCharsets.UTF_8);
    }

    String checkpointsText() throws IOException {
        return Files.readString(dir.resolve(Export.CHECKPOINTS), StandardCharsets.UTF_8);
    }

    void checkpointsText(String text) throws IOException {
        Files.writeString(dir.resolve(Export.CHECKPOINTS), text, StandardCharsets.UTF_8);
    }

    /**
     * Verifies as one stream, then on two threads with chunks that cut lines at odd places, and checks that
     * every way finds the same.
     */
    Report verify() throws IOException {
        save();
        TrailVerifier v = new TrailVerifier(signer.verifierKey());
        Report stream = v.threads(1).verify(Export.open(dir));
        for (int chunk : new int[] {1, 37, 1000, 1 << 20}) {
            Report parallel = v.threads(2).chunkSize(chunk).verify(Export.open(dir));
            org.junit.jupiter.api.Assertions.assertEquals(stream.findings(), parallel.findings(), "chunk " + chunk);
            org.junit.jupiter.api.Assertions.assertEquals(stream.entries(), parallel.entries());
            org.junit.jupiter.api.Assertions.assertEquals(stream.checkpointsMatched(), parallel.checkpointsMatched());
        }
        return stream;
    }
}
