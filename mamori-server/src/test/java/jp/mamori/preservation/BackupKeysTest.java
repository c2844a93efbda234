package jp.mamori.preservation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BackupKeysTest {
    @TempDir
    Path data;

    @Test
    void theKeysAreCreatedOwnerOnlyAndReadBackTheSame() throws IOException {
        BackupKeys keys = BackupKeys.loadOrCreate(data);
        Path f = BackupKeys.file(data);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f.getParent())));
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(BackupKeys.recoverySheet(data))));
        assertTrue(keys.installationId().matches("[0-9a-f]{16}"), keys.installationId());
        assertTrue(keys.signerFingerprint().matches("MSK1(-[0-9A-Z]{4}){8}"), keys.signerFingerprint());

        BackupKeys again = BackupKeys.loadOrCreate(data);
        assertEquals(keys.installationId(), again.installationId());
        assertEquals(keys.signerFingerprint(), again.signerFingerprint());
        assertArrayEquals(keys.wrapKeyId(), again.wrapKeyId());
        assertArrayEquals(keys.recoveryPublicKey(), again.recoveryPublicKey());
        String file = Files.readString(f);
        assertFalse(file.contains("MRK1"), "the recovery key's private half is not in the key file");
        String recovery = Fixtures.recoveryKeyOnSheet(data);
        assertFalse(file.contains(recovery.substring(5, 25)));

        BackupKeys other = BackupKeys.loadOrCreate(data.resolve("elsewhere"));
        assertNotEquals(keys.installationId(), other.installationId());
        assertNotEquals(keys.signerFingerprint(), other.signerFingerprint());
    }

    @Test
    void aKeyFileOthersCanReadIsRefused() throws IOException {
        BackupKeys.loadOrCreate(data);
        Files.setPosixFilePermissions(BackupKeys.file(data), PosixFilePermissions.fromString("rw-r--r--"));
        BackupException e = assertThrows(BackupException.class, () -> BackupKeys.loadOrCreate(data));
        assertTrue(e.getMessage().contains("chmod 600") && e.getMessage().contains("所有者だけ"), e.getMessage());
        Files.setPosixFilePermissions(BackupKeys.file(data), PosixFilePermissions.fromString("rw-------"));
        BackupKeys.loadOrCreate(data);
    }

    @Test
    void aDamagedKeyFileIsRefusedWithOneLine() throws IOException {
        BackupKeys.loadOrCreate(data);
        Path f = BackupKeys.file(data);
        String good = Files.readString(f);
        BackupKeys.loadOrCreate(data.resolve("x"));
        String otherPublic = Files.readString(BackupKeys.file(data.resolve("x"))).lines()
                .filter(l -> l.startsWith("sign-public ")).findFirst().orElseThrow();
        String[][] cases = {
                {good.replaceFirst("format 1", "format 2"), "format 2 is not known"},
                {good + "wrap AAAA\n", "wrap appears twice"},
                {good.replaceAll("(?m)^sign-public .*\n", ""), "sign-public is missing"},
                {good + "colour blue\n", "unknown line"},
                {good.replaceAll("(?m)^wrap .*$", "wrap AAAA"), "32 bytes"},
                {good.replaceAll("(?m)^sign-public .*$", otherPublic), "not one pair"},
        };
        for (String[] c : cases) {
            Files.delete(f);
            jp.mamori.db.Secrets.writeOwnerOnly(f, c[0]);
            BackupException e = assertThrows(BackupException.class, () -> BackupKeys.loadOrCreate(data), c[1]);
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("バックアップ鍵ファイル"),
                    e.getMessage());
        }
    }

    @Test
    void theSheetStaysUntilConfirmedThenIsGone() throws IOException {
        BackupKeys keys = BackupKeys.loadOrCreate(data);
        assertTrue(keys.recoverySheetPending());
        String sheet = Files.readString(BackupKeys.recoverySheet(data), StandardCharsets.UTF_8);
        assertTrue(sheet.contains("復旧鍵") && sheet.contains("Recovery key"), "Japanese and English");
        assertTrue(sheet.contains("削除") && sheet.contains("Delete this file"), "says to delete it after printing");
        assertTrue(sheet.contains("even when the server and its disk are gone".replace("even when", "Even when")));
        assertTrue(sheet.contains(keys.installationId()));
        assertTrue(sheet.contains(keys.signerFingerprint()));
        String recovery = Fixtures.recoveryKeyOnSheet(data);
        // The numbered groups on the sheet are the same key.
        String[] groups = recovery.substring(5).split("-");
        for (int i = 0; i < groups.length; i++) {
            assertTrue(sheet.contains(String.format("%2d %s", i + 1, groups[i])), "group " + (i + 1));
        }
        assertTrue(BackupKeys.loadOrCreate(data).recoverySheetPending(), "reloading keeps it");

        keys.confirmRecoverySheetTakenOffline();
        assertFalse(keys.recoverySheetPending());
        assertFalse(Files.exists(BackupKeys.recoverySheet(data)));
        BackupKeys again = BackupKeys.loadOrCreate(data);
        assertFalse(again.recoverySheetPending(), "not made again for existing keys");
        assertEquals(keys.installationId(), again.installationId());
        again.confirmRecoverySheetTakenOffline(); // harmless when already gone
        // The key typed from the (printed) sheet still matches the installation.
        assertArrayEquals(keys.recoveryPublicKey(), BackupKeys.parseRecoveryKey(recovery).publicKey());
    }

    @Test
    void aSheetLeftByAnInterruptedCreationIsReplaced() throws IOException {
        Files.writeString(BackupKeys.recoverySheet(data), "old sheet of keys never written");
        BackupKeys keys = BackupKeys.loadOrCreate(data);
        assertArrayEquals(keys.recoveryPublicKey(),
                BackupKeys.parseRecoveryKey(Fixtures.recoveryKeyOnSheet(data)).publicKey());
    }

    @Test
    void theRecoveryKeyIsRotatedOnlyAfterItsSheetIsKeptAndOldBackupsStillOpenWithTheOldSheet() throws IOException {
        BackupKeys old = BackupKeys.loadOrCreate(data);
        BackupException pending = assertThrows(BackupException.class, () -> BackupKeys.rotateRecoveryKey(data));
        assertTrue(pending.getMessage().contains("recovery-sheet-done"), pending.getMessage());
        RecoveryKey oldKey = BackupKeys.parseRecoveryKey(Fixtures.recoveryKeyOnSheet(data));
        old.confirmRecoverySheetTakenOffline();
        byte[] plain = Fixtures.plain(70_000, 7);
        byte[] before = Fixtures.seal(new Envelope(old), "base/A/data.tar", plain);

        BackupKeys.Rotation r = BackupKeys.rotateRecoveryKey(data);
        BackupKeys now = BackupKeys.loadOrCreate(data);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(BackupKeys.file(data))));
        assertEquals(old.installationId(), now.installationId());
        assertEquals(old.signerFingerprint(), now.signerFingerprint(), "the manifests' signer stays");
        assertArrayEquals(old.wrapKeyId(), now.wrapKeyId(), "the data-wrapping key stays");
        assertFalse(Arrays.equals(old.recoveryPublicKey(), now.recoveryPublicKey()));
        assertTrue(now.recoverySheetPending(), "the new sheet waits to be printed");
        String sheet = Files.readString(BackupKeys.recoverySheet(data), StandardCharsets.UTF_8);
        assertTrue(sheet.contains(r.keyId()) && sheet.contains(r.previousKeyId()) && sheet.contains("previous"), sheet);
        RecoveryKey newKey = BackupKeys.parseRecoveryKey(Fixtures.recoveryKeyOnSheet(data));
        byte[] after = Fixtures.seal(new Envelope(now), "base/B/data.tar", plain);

        // the installation opens both; each sheet opens the backups sealed while it was current, and only those
        assertArrayEquals(plain, Fixtures.open(before, "base/A/data.tar", Envelope.Opener.of(now)));
        assertArrayEquals(plain, Fixtures.open(after, "base/B/data.tar", Envelope.Opener.of(now)));
        assertArrayEquals(plain, Fixtures.open(before, "base/A/data.tar", Envelope.Opener.of(oldKey)));
        assertArrayEquals(plain, Fixtures.open(after, "base/B/data.tar", Envelope.Opener.of(newKey)));
        EnvelopeException wrongSheet = assertThrows(EnvelopeException.class,
                () -> Fixtures.open(after, "base/B/data.tar", Envelope.Opener.of(oldKey)));
        assertTrue(wrongSheet.getMessage().contains("another recovery key"), wrongSheet.getMessage());

        // a rotation interrupted after its sheet was written: the sheet is not for the key in use
        Path keyFile = BackupKeys.file(data);
        byte[] beforeSecond = Files.readAllBytes(keyFile);
        now.confirmRecoverySheetTakenOffline();
        BackupKeys.rotateRecoveryKey(data);
        Files.write(keyFile, beforeSecond); // as if the key file had not been replaced yet
        BackupException stray = assertThrows(BackupException.class,
                () -> BackupKeys.loadOrCreate(data).confirmRecoverySheetTakenOffline());
        assertTrue(stray.getMessage().contains("interrupted rotation"), stray.getMessage());
        BackupKeys.Rotation again = BackupKeys.rotateRecoveryKey(data);
        assertEquals(r.keyId(), again.previousKeyId(), "the stray sheet is replaced; the key in use was still r's");
        assertEquals(again.keyId(), BackupKeys.sheetKeyId(BackupKeys.recoverySheet(data)));
    }

    @Test
    void theRecoveryKeyTextRoundTripsAndForgivesCaseSpacesAndLookAlikes() {
        for (int i = 0; i < 50; i++) {
            RecoveryKey k = RecoveryKey.generate();
            String text = k.text();
            assertTrue(text.matches("MRK1(-[0-9A-Z]{4}){14}"), text);
            assertArrayEquals(k.publicKey(), RecoveryKey.parse(text).publicKey());
            assertArrayEquals(k.publicKey(), RecoveryKey.parse(text.toLowerCase()).publicKey());
            assertArrayEquals(k.publicKey(), RecoveryKey.parse(" " + text.replace('-', ' ') + "\n").publicKey());
            assertArrayEquals(k.publicKey(), RecoveryKey.parse(text.replace("-", "")).publicKey());
            // O for 0, l and I for 1, and full-width characters from a Japanese input method.
            String alike = text.substring(0, 5) + text.substring(5).replace('0', 'O').replace('1', 'l');
            assertArrayEquals(k.publicKey(), RecoveryKey.parse(alike).publicKey());
            StringBuilder wide = new StringBuilder();
            text.chars().forEach(c -> wide.append(c == '-' ? 'ー' : (char) (c + 0xFEE0)));
            assertArrayEquals(k.publicKey(), RecoveryKey.parse(wide.toString()).publicKey());
        }
        assertFalse(RecoveryKey.generate().toString().contains("MRK1"), "toString never shows the key");
    }

    @Test
    void aMistypedRecoveryKeyIsRefusedWithAClearMessage() {
        // A fixed key, so that the count below is exact: for a random key, a substitution in the key part escapes the
        // 20-bit check with a chance of 2^-20 (and then opens nothing: the part names another recovery key).
        RecoveryKey k = RecoveryKey.of(Fixtures.plain(32, 42));
        String text = k.text();
        int typos = 0;
        // Every single-character substitution at every position is caught.
        for (int pos = 5; pos < text.length(); pos++) {
            if (text.charAt(pos) == '-') {
                continue;
            }
            for (char c : Crockford.ALPHABET.toCharArray()) {
                if (c == text.charAt(pos)) {
                    continue;
                }
                String typo = text.substring(0, pos) + c + text.substring(pos + 1);
                BackupException e = assertThrows(BackupException.class, () -> RecoveryKey.parse(typo), typo);
                assertTrue(e.getMessage().contains("typo") && e.getMessage().contains("入力の誤り"), e.getMessage());
                typos++;
            }
        }
        assertEquals(56 * 31, typos);
        // Two neighbouring groups swapped.
        String[] g = text.split("-");
        String swapped = String.join("-", g[0], g[2], g[1]) + text.substring(5 + 10 - 1);
        assertTrue(assertThrows(BackupException.class, () -> RecoveryKey.parse(swapped)).getMessage()
                .contains("typo"));
        assertMessage(text.substring(0, text.length() - 5), "52 characters after MRK1-, not 56", "文字数が違います");
        assertMessage(text + "-ABCD", "60 characters", "グループの抜けや重複");
        assertMessage(text.substring(0, 12) + "U" + text.substring(13), "group 2 holds \"U\"", "第 2 グループ");
        assertMessage("ABCD-" + text.substring(5), "not a recovery key", "復旧鍵ではありません");
        assertMessage("MRK2-" + text.substring(5), "unknown recovery key version", "対応していません");
        assertMessage("   ", "no recovery key was given", "入力されていません");
        assertMessage(null, "no recovery key was given", "入力されていません");
    }

    private static void assertMessage(String typed, String english, String japanese) {
        BackupException e = assertThrows(BackupException.class, () -> RecoveryKey.parse(typed), typed);
        assertTrue(e.getMessage().contains(english) && e.getMessage().contains(japanese), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void crockfordBase32RoundTripsAndRefusesNonZeroPadding() {
        for (int n = 0; n < 40; n++) {
            byte[] b = Fixtures.plain(n, n);
            String s = Crockford.encode(b);
            assertEquals((n * 8 + 4) / 5, s.length());
            assertArrayEquals(b, Crockford.decode(s, n));
        }
        String s = Crockford.encode(new byte[32]);
        String last = s.substring(0, s.length() - 1) + "1"; // a padding bit set
        assertEquals(null, Crockford.decode(last, 32));
        assertTrue(Arrays.equals(new byte[32], Crockford.decode(s, 32)));
    }

    @Test
    void fingerprintsAreComparedAsAPersonTypesThem() {
        BackupKeys keys = BackupKeys.loadOrCreate(data);
        String fp = keys.signerFingerprint();
        assertTrue(BackupKeys.fingerprintMatches(fp, keys.signerPublicKey()));
        assertTrue(BackupKeys.fingerprintMatches(fp.toLowerCase().replace('-', ' '), keys.signerPublicKey()));
        String typo = fp.substring(0, 6) + (fp.charAt(6) == 'A' ? 'B' : 'A') + fp.substring(7);
        assertFalse(BackupKeys.fingerprintMatches(typo, keys.signerPublicKey()));
        assertFalse(BackupKeys.fingerprintMatches(fp.substring(0, fp.length() - 1), keys.signerPublicKey()));
        assertFalse(BackupKeys.fingerprintMatches(null, keys.signerPublicKey()));
    }
}
