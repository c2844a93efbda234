package jp.mamori.preservation;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestTest {
    private static final String SHA = "ab".repeat(32);

    @TempDir
    Path dir;
    private BackupKeys keys;

    @BeforeEach
    void keys() {
        keys = BackupKeys.loadOrCreate(dir.resolve("data"));
    }

    private Manifest.Builder full() {
        return Manifest.builder()
                .installationId(keys.installationId())
                .backupId("20261207T0300Z-full")
                .kind("full")
                .createdAt(Instant.parse("2026-12-07T03:00:00.123Z"))
                .postgres("17.6 (Debian 17.6-1)", "7581234567890123456")
                .wal(1, "0/2000028", "0/2000100")
                .records(1_234_567, 1_000_001)
                .auditNextSeq(2_000_000)
                .resourceCount("Patient", 10_000)
                .resourceCount("Observation", 800_000)
                .part(new Manifest.Part("base/0001.tar", 1000, 1000 + 300, SHA))
                .part(new Manifest.Part("wal/000000010000000000000002", 16 << 20, (16 << 20) + 400, SHA));
    }

    private static void assertRefused(Runnable r, String english, String japanese) {
        BackupException e = assertThrows(BackupException.class, r::run);
        assertTrue(e.getMessage().contains(english) && e.getMessage().contains(japanese), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void aSignedManifestVerifiesAndReadsBackTheSame() {
        Manifest m = full().build();
        Manifest.Signed signed = m.sign(keys);
        assertEquals(m, signed.verify(keys.signerPublicKey()));
        assertEquals(m, signed.verify(BackupKeys.loadOrCreate(dir.resolve("data")).signerPublicKey()));
        String json = new String(signed.json(), StandardCharsets.UTF_8);
        assertTrue(json.startsWith("{\"format\":1,\"installation\":\"" + keys.installationId() + "\""), json);
        assertTrue(json.contains("\"resourceCounts\":{\"Observation\":800000,\"Patient\":10000}"), "sorted: " + json);
        assertTrue(json.endsWith(",\"signer\":\"" + keys.signerFingerprint() + "\"}"), json);
        assertFalse(json.contains(" ") && !json.contains("(Debian"), "no white space outside values");
        assertEquals(1000, m.part("base/0001.tar").plainSize());
        assertNull(m.part("base/0002.tar"));
        // Signing again gives the same document (canonical), and a valid signature.
        assertArrayEquals(signed.json(), m.sign(keys).json());
    }

    @Test
    void aRestoreOnANewMachineChecksTheSignerAgainstTheSheet() throws IOException {
        Manifest m = full().build();
        Manifest.Signed signed = m.sign(keys);
        Path json = dir.resolve("copy/manifest.json");
        Path sig = dir.resolve("copy/manifest.sig");
        signed.write(json, sig);
        // The new machine has the files and the sheet, nothing else.
        Manifest.Signed read = Manifest.Signed.read(json, sig);
        String typed = keys.signerFingerprint().toLowerCase().replace("-", " ");
        assertEquals(m, read.verifyWithFingerprint(typed));
        BackupKeys other = BackupKeys.loadOrCreate(dir.resolve("other"));
        assertRefused(() -> read.verifyWithFingerprint(other.signerFingerprint()),
                "does not match the fingerprint on the recovery sheet", "復旧用紙の指紋と一致しません");
        try (var in1 = Files.newInputStream(json); var in2 = Files.newInputStream(sig)) {
            assertEquals(m, Manifest.Signed.read(in1, in2).verify(keys.signerPublicKey()));
        }
    }

    @Test
    void anyTamperedFieldIsRefused() {
        Manifest.Signed signed = full().build().sign(keys);
        String json = new String(signed.json(), StandardCharsets.UTF_8);
        String[][] edits = {{"\"auditNextSeq\":2000000", "\"auditNextSeq\":2000001"},
                {"\"Patient\":10000", "\"Patient\":9999"}, {"0/2000100", "0/2000101"},
                {"\"sealedSize\":1300", "\"sealedSize\":1301"}, {SHA, "cd" + SHA.substring(2)},
                {"\"kind\":\"full\"", "\"kind\":\"wal\""}};
        for (String[] e : edits) {
            assertTrue(json.contains(e[0]), e[0]);
            Manifest.Signed t = Manifest.Signed.of(json.replace(e[0], e[1]).getBytes(StandardCharsets.UTF_8),
                    signed.signature());
            assertRefused(() -> t.verify(keys.signerPublicKey()), "signature does not match: it was altered",
                    "署名が一致しません");
        }
        byte[] sig = signed.signature().clone();
        sig[sig.length - 6] ^= 1;
        assertThrows(BackupException.class, () -> Manifest.Signed.of(signed.json(), sig)
                .verify(keys.signerPublicKey()));
        assertRefused(() -> Manifest.Signed.of(signed.json(), "nonsense\n".getBytes(StandardCharsets.US_ASCII))
                .verify(keys.signerPublicKey()), "signature file is malformed", "署名ファイルが正しくありません");
    }

    @Test
    void anotherSignerIsRefused() {
        BackupKeys other = BackupKeys.loadOrCreate(dir.resolve("other"));
        Manifest.Signed theirs = full().installationId(other.installationId()).build().sign(other);
        assertRefused(() -> theirs.verify(keys.signerPublicKey()), "signed by another key ("
                + other.signerFingerprint() + "), not by " + keys.signerFingerprint(), "別の鍵");
        // Their signature file swapped in beside our manifest.
        Manifest.Signed ours = full().build().sign(keys);
        assertRefused(() -> Manifest.Signed.of(ours.json(), theirs.signature()).verify(other.signerPublicKey()),
                "signature does not match", "改ざん");
        // A manifest naming our installation can only be signed with our keys.
        assertThrows(IllegalArgumentException.class, () -> full().build().sign(other));
    }

    /** Signs arbitrary bytes as a manifest, as a writer with the key (or a bug) could. */
    private Manifest.Signed signedAsIs(String json) {
        byte[] doc = json.getBytes(StandardCharsets.UTF_8);
        byte[] sig = keys.sign(RecoveryKey.concat("mamori-backup-manifest v1\n".getBytes(StandardCharsets.US_ASCII),
                doc));
        String file = "mamori-backup-manifest-signature 1\npublic "
                + Base64.getEncoder().encodeToString(keys.signerPublicKey().getEncoded()) + "\nsignature "
                + Base64.getEncoder().encodeToString(sig) + "\n";
        return Manifest.Signed.of(doc, file.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aSignedButStrangeDocumentIsStillRefused() {
        String json = new String(full().build().sign(keys).json(), StandardCharsets.UTF_8);
        assertEquals(full().build(), signedAsIs(json).verify(keys.signerPublicKey()));
        assertRefused(() -> signedAsIs(json.replace("\"format\":1", "\"format\":2")).verify(keys.signerPublicKey()),
                "format 2 is not supported", "対応していません");
        assertRefused(() -> signedAsIs(json.replace(",\"kind\"", ", \"kind\"")).verify(keys.signerPublicKey()),
                "not in canonical form", "形式が正しくありません");
        assertRefused(() -> signedAsIs(json.replace("\"format\":1,", "\"format\":1,\"format\":1,"))
                .verify(keys.signerPublicKey()), "malformed", "形式");
        assertRefused(() -> signedAsIs(json.replace("\"timeline\":1", "\"timeline\":1.0"))
                .verify(keys.signerPublicKey()), "timeline is not an integer", "形式");
        assertRefused(() -> signedAsIs(json.replace("\"versionCount\":1000001", "\"versionCount\":-1"))
                .verify(keys.signerPublicKey()), "counts cannot be negative", "内容が正しくありません");
        assertRefused(() -> signedAsIs(json.replace("\"createdAt\"", "\"extra\":1,\"createdAt\""))
                .verify(keys.signerPublicKey()), "expected field createdAt", "形式");
        assertRefused(() -> signedAsIs(json + " ").verify(keys.signerPublicKey()), "canonical", "形式");
        assertRefused(() -> signedAsIs(json.replace("wal/000000010000000000000002", "base/0001.tar"))
                .verify(keys.signerPublicKey()), "lists part base/0001.tar twice", "二度あります");
        assertRefused(() -> signedAsIs(json.replace("\"sealedSize\":1300", "\"sealedSize\":999"))
                .verify(keys.signerPublicKey()), "sealed size does not fit its plain size", "内容");
        assertRefused(() -> signedAsIs(json.replace("\"name\":\"base/0001.tar\"", "\"name\":\"../../etc/passwd\""))
                .verify(keys.signerPublicKey()), "a part name is not valid", "内容");
        assertRefused(() -> signedAsIs(json.replace("\"plainSize\":1000,\"sealedSize\":1300",
                        "\"plainSize\":99999999999999999999,\"sealedSize\":1300")).verify(keys.signerPublicKey()),
                "plainSize", "形式");
        assertRefused(() -> signedAsIs(json.replace("\"signer\":\"" + keys.signerFingerprint(), "\"signer\":\""
                + BackupKeys.loadOrCreate(dir.resolve("o")).signerFingerprint())).verify(keys.signerPublicKey()),
                "it names another signer", "形式");
    }

    @Test
    void theBuilderAndTheRecordCheckTheirFields() {
        assertRefused(() -> full().part(new Manifest.Part("base/0001.tar", 1, 300, SHA)).build(),
                "part base/0001.tar is listed twice", "内容が正しくありません");
        assertRefused(() -> full().wal(1, "0/3000000", "0/2000000").build(), "stopWal is before startWal", "内容");
        assertRefused(() -> full().wal(0, "0/1", "0/2").build(), "timeline must be at least 1", "内容");
        assertRefused(() -> full().postgres("17", "-1").build(), "systemIdentifier is not valid", "内容");
        assertRefused(() -> full().postgres("17", "18446744073709551616").build(), "systemIdentifier", "内容");
        full().postgres("17", "18446744073709551615").build();
        assertRefused(() -> full().resourceCount("patient", 1).build(), "resource type is not valid", "内容");
        assertRefused(() -> full().installationId("ZZ").build(), "installation", "内容");
        assertRefused(() -> full().kind("Full Backup").build(), "kind", "内容");
        assertRefused(() -> full().createdAt(null).build(), "createdAt is missing", "内容");
        assertRefused(() -> new Manifest.Part("a", 10, 300, "xyz"), "sha256 is not valid", "内容");
        assertRefused(() -> new Manifest.Part("a", -1, 20, SHA), "plain size out of range", "内容");
        assertRefused(() -> Manifest.Signed.of(new byte[Manifest.MAX_JSON + 1], new byte[10]), "too large", "形式");
        assertEquals(Map.of("Observation", 800_000L, "Patient", 10_000L), full().build().resourceCounts());
    }

    @Test
    void aManifestListsWhatTheEnvelopeReports() throws IOException {
        Envelope env = new Envelope(keys);
        byte[] plain = Fixtures.plain(3 * Envelope.CHUNK + 1, 11);
        Manifest.Part part;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (Envelope.SealingStream s = env.seal(out, "base/0001.tar")) {
            s.write(plain);
            part = s.finish();
        }
        Manifest m = full().part(new Manifest.Part("base/0002.tar", 0, Envelope.PREAMBLE + 300, SHA)).build();
        Manifest withReal = Manifest.builder().installationId(keys.installationId()).backupId("b").kind("full")
                .createdAt(Instant.now()).postgres("17.6", "1").wal(1, "0/0", "0/0").records(0, 0).auditNextSeq(0)
                .part(part).build();
        Manifest back = withReal.sign(keys).verify(keys.signerPublicKey());
        Manifest.Part listed = back.part("base/0001.tar");
        assertEquals(listed, Envelope.check(new ByteArrayInputStream(out.toByteArray()), "base/0001.tar",
                Envelope.Opener.of(keys)));
        assertEquals(3, m.parts().size());
    }
}
