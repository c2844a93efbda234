package jp.mamori.identity;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.Semaphore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PasswordHasherTest {
    /** Small parameters keep these tests fast; the format and logic do not depend on the cost. */
    private static final PasswordHasher.Params CHEAP = new PasswordHasher.Params(64, 1, 1);
    private final PasswordHasher hasher = new PasswordHasher(CHEAP, 2);

    @Test
    void theArgon2idPrimitiveGivesTheRfc9106Section53TestVector() {
        byte[] password = filled(32, 0x01);
        byte[] salt = filled(16, 0x02);
        byte[] secret = filled(8, 0x03);
        byte[] associated = filled(12, 0x04);
        byte[] tag = PasswordHasher.argon2id(password, salt, new PasswordHasher.Params(32, 3, 4), 32, secret,
                associated);
        assertEquals("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659",
                HexFormat.of().formatHex(tag));
    }

    @Test
    void aHashMadeByTheReferenceArgon2CommandVerifies() {
        // echo -n "correct horse battery staple" | argon2 somesaltsomesalt -id -k 47104 -t 1 -p 1 -l 32 -e
        String reference = "$argon2id$v=19$m=47104,t=1,p=1$c29tZXNhbHRzb21lc2FsdA"
                + "$AIgDn1Zle9S3Q6BrDvSiLYcmjRwWACHHBR2oJ+vgZBI";
        PasswordHasher defaults = new PasswordHasher(PasswordHasher.DEFAULT, 1);
        assertTrue(defaults.verify(reference, "correct horse battery staple".toCharArray()));
        assertFalse(defaults.verify(reference, "correct horse battery stapler".toCharArray()));
        assertFalse(defaults.needsRehash(reference));
    }

    @Test
    void aHashIsAPhcStringWithItsParametersASixteenByteSaltAndAThirtyTwoByteOutput() {
        String phc = new PasswordHasher(PasswordHasher.DEFAULT, 1).hash("長い合言葉 horse".toCharArray());
        String[] parts = phc.split("\\$");
        assertEquals(6, parts.length, phc);
        assertEquals("", parts[0]);
        assertEquals("argon2id", parts[1]);
        assertEquals("v=19", parts[2]);
        assertEquals("m=47104,t=1,p=1", parts[3]);
        assertFalse(parts[4].contains("=") || parts[5].contains("="), "no padding");
        assertEquals(16, Base64.getDecoder().decode(parts[4]).length);
        assertEquals(32, Base64.getDecoder().decode(parts[5]).length);
    }

    @Test
    void theRightPasswordVerifiesAndAWrongOneDoesNot() {
        String phc = hasher.hash("correct horse battery staple".toCharArray());
        assertTrue(hasher.verify(phc, "correct horse battery staple".toCharArray()));
        assertFalse(hasher.verify(phc, "correct horse battery stapl".toCharArray()));
        assertFalse(hasher.verify(phc, "Correct horse battery staple".toCharArray()));
        assertFalse(hasher.verify(phc, new char[0]));
    }

    @Test
    void eachHashHasItsOwnSalt() {
        String a = hasher.hash("same password".toCharArray());
        String b = hasher.hash("same password".toCharArray());
        assertNotEquals(a, b);
        assertTrue(hasher.verify(a, "same password".toCharArray()));
        assertTrue(hasher.verify(b, "same password".toCharArray()));
    }

    @Test
    void fullWidthAndHalfWidthTypingsOfThePasswordAreTheSame() {
        String phc = hasher.hash("ｐａｓｓｗｏｒｄ　１２３ＡＢＣ".toCharArray());
        assertTrue(hasher.verify(phc, "password 123ABC".toCharArray()));
        String half = hasher.hash("password 123ABC".toCharArray());
        assertTrue(hasher.verify(half, "ｐａｓｓｗｏｒｄ　１２３ＡＢＣ".toCharArray()));
        assertFalse(hasher.verify(half, "password 123abc".toCharArray()), "case still matters");
    }

    @Test
    void japaneseTextIsHashedAsUtf8OfItsNfkcForm() {
        // Half-width katakana "ｶﾞ" becomes full-width "ガ" under NFKC.
        assertArrayEquals("ガ".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                PasswordHasher.passwordBytes("ｶﾞ".toCharArray()));
        String phc = hasher.hash("ｶﾞｸｼｮｳ".toCharArray());
        assertTrue(hasher.verify(phc, "ガクショウ".toCharArray()));
    }

    @Test
    void aTamperedHashDoesNotVerify() {
        String phc = hasher.hash("correct horse battery staple".toCharArray());
        char[] pw = "correct horse battery staple".toCharArray();
        int hashStart = phc.lastIndexOf('$') + 1;
        char c = phc.charAt(hashStart + 3);
        String flippedHash = phc.substring(0, hashStart + 3) + (c == 'A' ? 'B' : 'A') + phc.substring(hashStart + 4);
        assertFalse(hasher.verify(flippedHash, pw));
        int saltStart = phc.indexOf('$', phc.indexOf("p=")) + 1;
        char s = phc.charAt(saltStart);
        String flippedSalt = phc.substring(0, saltStart) + (s == 'A' ? 'B' : 'A') + phc.substring(saltStart + 1);
        assertFalse(hasher.verify(flippedSalt, pw));
        assertFalse(hasher.verify(phc.replace("t=1", "t=2"), pw), "the parameters are part of what is checked");
        assertTrue(hasher.verify(phc, pw));
    }

    @Test
    void malformedOrAbsurdStoredTextIsRefusedWithoutThrowing() {
        char[] pw = "x".toCharArray();
        String good = hasher.hash(pw);
        String tail = good.substring(good.indexOf("$", good.indexOf("p=")));
        for (String bad : new String[]{null, "", "$", "password", "$argon2i$v=19$m=64,t=1,p=1" + tail,
                "$argon2d$v=19$m=64,t=1,p=1" + tail, "$argon2id$v=16$m=64,t=1,p=1" + tail,
                "$argon2id$m=64,t=1,p=1" + tail, "$argon2id$v=19$t=1,m=64,p=1" + tail,
                "$argon2id$v=19$m=2097152,t=1,p=1" + tail, "$argon2id$v=19$m=64,t=21,p=1" + tail,
                "$argon2id$v=19$m=256,t=1,p=17" + tail, "$argon2id$v=19$m=99999999999,t=1,p=1" + tail,
                "$argon2id$v=19$m=4,t=1,p=1" + tail, "$argon2id$v=19$m=64,t=0,p=1" + tail,
                "$argon2id$v=19$m=064,t=1,p=1" + tail, "$argon2id$v=19$m=64,t=1,p=1$$",
                "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$A",
                "$argon2id$v=19$m=64,t=1,p=1$AAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                "$argon2id$v=19$m=64,t=1,p=1$" + "A".repeat(21) + "$" + "A".repeat(43),
                good + "$", good + "\n", " " + good, good.replace('+', '-').replace('/', '_') + "%",
                good + "A".repeat(400)}) {
            assertFalse(hasher.verify(bad, pw), String.valueOf(bad));
            assertTrue(hasher.needsRehash(bad), String.valueOf(bad));
        }
        assertFalse(hasher.verify(good, null));
    }

    @Test
    void weakerStoredParametersNeedARehashButEqualOrStrongerOnesDoNot() {
        PasswordHasher current = new PasswordHasher(new PasswordHasher.Params(128, 2, 1), 1);
        char[] pw = "pw".toCharArray();
        assertFalse(current.needsRehash(current.hash(pw)));
        assertTrue(current.needsRehash(new PasswordHasher(new PasswordHasher.Params(64, 2, 1), 1).hash(pw)));
        assertTrue(current.needsRehash(new PasswordHasher(new PasswordHasher.Params(128, 1, 1), 1).hash(pw)));
        assertFalse(current.needsRehash(new PasswordHasher(new PasswordHasher.Params(256, 3, 2), 1).hash(pw)));
        String old = new PasswordHasher(new PasswordHasher.Params(64, 1, 1), 1).hash(pw);
        assertTrue(current.verify(old, pw), "an old hash still verifies with its own parameters");
    }

    @Test
    void theParametersAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher.Params(64, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher.Params(64, 21, 1));
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher.Params(64, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher.Params(256, 1, 17));
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher.Params(15, 1, 2));
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher.Params((1 << 20) + 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new PasswordHasher(CHEAP, 0));
        assertEquals(new PasswordHasher.Params(47104, 1, 1), PasswordHasher.DEFAULT);
    }

    @Test
    void aCallerThatCannotGetAHashingSlotInTimeIsRefused() throws Exception {
        PasswordHasher one = new PasswordHasher(CHEAP, 1, Duration.ofMillis(200));
        Semaphore gate = gateOf(one);
        gate.acquire();
        try {
            long start = System.nanoTime();
            IdentityException e = assertThrows(IdentityException.class, () -> one.hash("pw".toCharArray()));
            assertTrue(System.nanoTime() - start >= Duration.ofMillis(200).toNanos(), "it waited first");
            assertTrue(e.getMessage().contains(" / "), "Japanese / English: " + e.getMessage());
            assertThrows(IdentityException.class, () -> one.verify(hasher.hash("pw".toCharArray()), "pw".toCharArray()));
            assertThrows(IdentityException.class, () -> one.burn("pw".toCharArray()));
        } finally {
            gate.release();
        }
        assertTrue(one.verify(one.hash("pw".toCharArray()), "pw".toCharArray()), "the slot is free again");
        assertEquals(1, gate.availablePermits(), "every call gave its slot back");
    }

    @Test
    void burningAnUnknownUsersPasswordTakesAboutAsLongAsAWrongPassword() {
        PasswordHasher h = new PasswordHasher(new PasswordHasher.Params(8192, 2, 1), 1);
        String phc = h.hash("right".toCharArray());
        for (int i = 0; i < 3; i++) { // warm up
            h.verify(phc, "wrong".toCharArray());
            h.burn("wrong".toCharArray());
        }
        long verify = Long.MAX_VALUE;
        long burn = Long.MAX_VALUE;
        for (int i = 0; i < 15; i++) { // the fastest of several, so that other work on the machine counts less
            long t0 = System.nanoTime();
            h.verify(phc, "wrong".toCharArray());
            long t1 = System.nanoTime();
            h.burn("wrong".toCharArray());
            long t2 = System.nanoTime();
            verify = Math.min(verify, t1 - t0);
            burn = Math.min(burn, t2 - t1);
        }
        assertTrue(burn * 2 > verify && verify * 2 > burn, "verify " + verify + " ns, burn " + burn + " ns");
        h.burn(null);
    }

    private static Semaphore gateOf(PasswordHasher h) throws ReflectiveOperationException {
        var f = PasswordHasher.class.getDeclaredField("gate");
        f.setAccessible(true);
        return (Semaphore) f.get(h);
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }
}
