package jp.mamori.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: exit 0 verified, 1 tampering found, 2 usage or input error (one line, no stack trace). */
class MainTest {
    static final NoteSigner SIGNER = NoteSigner.generate(TrailFixture.ORIGIN);

    @TempDir
    Path tmp;
    TrailFixture trail;
    String out;
    String err;

    @BeforeEach
    void writeTrail() throws IOException {
        trail = TrailFixture.write(tmp.resolve("export"), SIGNER, 30, 10);
    }

    int run(String... args) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true, StandardCharsets.UTF_8));
        out = o.toString(StandardCharsets.UTF_8);
        err = e.toString(StandardCharsets.UTF_8);
        return code;
    }

    @Test
    void everyCommandAnswersHelpWithTheUsageAndExitZero() {
        for (String command : new String[]{"verify", "inclusion", "consistency", "bench"}) {
            assertEquals(0, run(command, "--help"), command + ": " + err);
            assertTrue(out.contains("  " + command + " "), command + ": " + out);
            assertEquals("", err, command);
        }
    }

    @Test
    void aValidTrailExitsZeroWithTheSummary() {
        assertEquals(0, run("verify", trail.dir.toString(), "--key", SIGNER.verifierKey().format()));
        assertEquals("検証成功 / verified 30 entries, 3/3 checkpoints matched, signed up to size 30\n", out);
        assertEquals("", err);
    }

    @Test
    void theKeyMayBeAFileAndTheExportMayBeTheEntriesFile() throws IOException {
        Path key = Files.writeString(tmp.resolve("auditor.vkey"), SIGNER.verifierKey().format() + "\n");
        assertEquals(0, run("verify", trail.dir.resolve("entries.jsonl").toString(), "--key", key.toString()));
        assertTrue(out.startsWith("検証成功"), out);
    }

    @Test
    void tamperingExitsOneWithOneLinePerFinding() throws IOException {
        trail.lines.set(12, trail.edited(12));
        trail.save();
        assertEquals(1, run("verify", trail.dir.toString(), "--key", SIGNER.verifierKey().format()));
        List<String> lines = out.lines().toList();
        assertTrue(lines.contains(lines.stream().filter(l -> l.startsWith("FAIL EDITED 改ざん line 13 seq 12: ")).findFirst().orElse("missing EDITED line")), out);
        assertTrue(lines.get(lines.size() - 1).startsWith("改ざんの疑いを検出"), out);
    }

    @Test
    void aKeyTakenFromTheExportItselfIsAWarning() {
        assertEquals(0, run("verify", trail.dir.toString()));
        assertTrue(out.startsWith("WARN KEY_FROM_EXPORT"), out);
    }

    @Test
    void usageAndInputErrorsExitTwoWithOneClearLine() throws IOException {
        assertEquals(2, run("verify", tmp.resolve("nowhere").toString(), "--key", SIGNER.verifierKey().format()));
        assertTrue(err.startsWith("mamori-ledger: エクスポートがありません / no export at"), err);
        assertFalse(err.contains("Exception"), err);

        Files.delete(trail.dir.resolve(Export.KEY));
        assertEquals(2, run("verify", trail.dir.toString()));
        assertTrue(err.contains("--key"), err);

        assertEquals(2, run("verify", trail.dir.toString(), "--key", "not-a-key"));
        assertTrue(err.contains("not a verifier key"), err);

        assertEquals(2, run("frobnicate"));
        assertEquals(2, run());
        assertEquals(2, run("verify", trail.dir.toString(), "--colour", "red"));
        assertTrue(err.contains("unknown option --colour"), err);
    }

    @Test
    void oneEntryIsCheckedWithAnInclusionProofFile() throws IOException {
        List<byte[]> leaves = trail.leafHashes();
        SignedCheckpoint cp = SignedCheckpoint.readAll(trail.checkpointsText()).get(2).checkpoint();
        byte[] entry = trail.lines.get(17).getBytes(StandardCharsets.UTF_8);
        InclusionProof proof = InclusionProof.of(17, entry, cp, SubtreeHashes.fromLeaves(leaves));
        Path file = Files.writeString(tmp.resolve("entry-17.proof"), proof.format());
        assertEquals(0, run("inclusion", file.toString(), "--key", SIGNER.verifierKey().format()));
        assertTrue(out.startsWith("包含証明は有効です / inclusion verified: entry 17"), out);

        Files.writeString(file, proof.format().replace("\"action\":\"read\"", "\"action\":\"delete\""));
        assertEquals(1, run("inclusion", file.toString(), "--key", SIGNER.verifierKey().format()));
        assertTrue(out.contains("FAILED"), out);

        Files.writeString(file, proof.format());
        assertEquals(1, run("inclusion", file.toString(), "--key", NoteSigner.generate(TrailFixture.ORIGIN).verifierKey().format()));
        assertTrue(out.contains("not signed by key"), out);

        String b64 = TrailFixture.b64(leaves.get(17));
        String path = String.join(",", proof.proof().stream().map(TrailFixture::b64).toList());
        assertEquals(0, run("inclusion", "--index", "17", "--size", "30", "--leaf", b64,
                "--root", TrailFixture.b64(cp.checkpoint().root()), "--proof", path));
        assertEquals(1, run("inclusion", "--index", "16", "--size", "30", "--leaf", b64,
                "--root", TrailFixture.b64(cp.checkpoint().root()), "--proof", path));
    }

    @Test
    void twoCheckpointsAreCheckedWithAConsistencyProofFile() throws IOException {
        List<SignedCheckpoint.Item> cps = SignedCheckpoint.readAll(trail.checkpointsText());
        SubtreeHashes src = SubtreeHashes.fromLeaves(trail.leafHashes());
        ConsistencyProof proof = ConsistencyProof.of(cps.get(0).checkpoint(), cps.get(2).checkpoint(), src);
        Path file = Files.writeString(tmp.resolve("10-30.proof"), proof.format());
        assertEquals(0, run("consistency", file.toString(), "--key", SIGNER.verifierKey().format()));
        assertTrue(out.startsWith("一貫性を確認しました"), out);

        // A log rewritten after size 10 gets a new, validly signed checkpoint at 30 that does not extend the old one.
        trail.lines.set(5, trail.edited(5));
        trail.relink(6);
        SignedCheckpoint rewritten = new Checkpoint(TrailFixture.ORIGIN, 30,
                Proofs.root(30, SubtreeHashes.fromLeaves(trail.leafHashes())), null).sign(SIGNER);
        ConsistencyProof forged = new ConsistencyProof(
                Proofs.consistency(10, 30, SubtreeHashes.fromLeaves(trail.leafHashes())), cps.get(0).checkpoint(), rewritten);
        Files.writeString(file, forged.format());
        assertEquals(1, run("consistency", file.toString(), "--key", SIGNER.verifierKey().format()));
        assertTrue(out.contains("FAILED"), out);
    }
}
