package jp.mamori.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Signed checkpoints in the C2SP signed-note / tlog-checkpoint form, and verifier keys. */
class CheckpointTest {
    static final NoteSigner SIGNER = NoteSigner.generate("hospital.example.jp/audit");

    @Test
    void aSignedCheckpointRoundTripsThroughItsTextAndVerifies() {
        Checkpoint cp = new Checkpoint("hospital.example.jp/audit", 20852163, Merkle.leafHash(new byte[0]),
                Instant.parse("2026-11-23T10:15:30Z"));
        SignedCheckpoint signed = cp.sign(SIGNER);
        String text = signed.encode();
        String[] lines = text.split("\n", -1);
        assertEquals("hospital.example.jp/audit", lines[0]);
        assertEquals("20852163", lines[1]);
        assertEquals(Base64.getEncoder().encodeToString(cp.root()), lines[2]);
        assertEquals("time 2026-11-23T10:15:30Z", lines[3]);
        assertEquals("", lines[4], "a blank line separates the body from the signatures");
        assertTrue(lines[5].startsWith("\u2014 hospital.example.jp/audit "));
        byte[] blob = Base64.getDecoder().decode(lines[5].substring(lines[5].lastIndexOf(' ') + 1));
        assertEquals(68, blob.length, "4-byte key id and 64-byte Ed25519 signature");

        SignedCheckpoint back = SignedCheckpoint.parse(text);
        assertEquals(cp, back.checkpoint());
        assertEquals(SignedCheckpoint.Status.VERIFIED, back.verify(SIGNER.verifierKey()));
        assertEquals(SignedCheckpoint.Status.UNKNOWN_KEY, back.verify(NoteSigner.generate("other").verifierKey()));
    }

    @Test
    void theKeyIdIsTheFirstFourBytesOfTheHashOfNameNewlineTypeAndKey() {
        VerifierKey k = SIGNER.verifierKey();
        var md = Merkle.sha256();
        md.update("hospital.example.jp/audit\n".getBytes(StandardCharsets.UTF_8));
        md.update((byte) 1);
        md.update(k.rawKey());
        byte[] h = md.digest();
        assertEquals(java.util.HexFormat.of().formatHex(h, 0, 4), k.keyIdHex());
        VerifierKey parsed = VerifierKey.parse(k.format());
        assertEquals(k, parsed);
        assertTrue(k.format().startsWith("hospital.example.jp/audit+" + k.keyIdHex() + "+"));
        String wrongId = k.format().replace("+" + k.keyIdHex() + "+", "+00000000+");
        assertThrows(IllegalArgumentException.class, () -> VerifierKey.parse(wrongId));
        assertThrows(IllegalArgumentException.class, () -> VerifierKey.parse("no key here"));
        assertThrows(IllegalArgumentException.class, () -> NoteSigner.generate("two words"));
    }

    @Test
    void aChangedBodyOrSignatureDoesNotVerify() {
        SignedCheckpoint signed = new Checkpoint("hospital.example.jp/audit", 10, Merkle.emptyRoot(), null).sign(SIGNER);
        String forged = signed.encode().replaceFirst("\n10\n", "\n11\n");
        assertEquals(SignedCheckpoint.Status.BAD_SIGNATURE, SignedCheckpoint.parse(forged).verify(SIGNER.verifierKey()));
        SignedCheckpoint cosigned = signed.cosign(NoteSigner.generate("witness.example"));
        assertEquals(2, SignedCheckpoint.parse(cosigned.encode()).signatures().size());
        assertEquals(SignedCheckpoint.Status.VERIFIED, SignedCheckpoint.parse(cosigned.encode()).verify(SIGNER.verifierKey()));
    }

    @Test
    void aCheckpointsFileHoldsSeveralNotesAndReportsUnreadableOnesWithTheirLine() {
        SignedCheckpoint a = new Checkpoint("o", 1, Merkle.leafHash(new byte[] {1}), null).sign(NoteSigner.generate("o"));
        SignedCheckpoint b = new Checkpoint("o", 2, Merkle.leafHash(new byte[] {2}), Instant.EPOCH).sign(NoteSigner.generate("o"));
        String file = SignedCheckpoint.writeAll(List.of(a, b));
        List<SignedCheckpoint.Item> items = SignedCheckpoint.readAll(file);
        assertEquals(2, items.size());
        assertEquals(a, items.get(0).checkpoint());
        assertEquals(b, items.get(1).checkpoint());
        assertEquals(1, items.get(0).line());
        assertEquals(7, items.get(1).line());

        String broken = file.replaceFirst("\n1\n", "\none\n");
        List<SignedCheckpoint.Item> bad = SignedCheckpoint.readAll(broken);
        assertEquals(2, bad.size());
        assertNull(bad.get(0).checkpoint());
        assertTrue(bad.get(0).error().contains("tree size"), bad.get(0).error());
        assertNotNull(bad.get(1).checkpoint());
        assertThrows(IllegalArgumentException.class, () -> SignedCheckpoint.parse("o\n1\n" + Base64.getEncoder()
                .encodeToString(new byte[32]) + "\n"), "a note without signatures");
    }
}
