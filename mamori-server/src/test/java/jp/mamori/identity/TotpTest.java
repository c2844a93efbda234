package jp.mamori.identity;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TotpTest {
    private static final byte[] SEED_SHA1 = ascii("12345678901234567890");
    private static final byte[] SEED_SHA256 = ascii("12345678901234567890123456789012");
    private static final byte[] SEED_SHA512 = ascii("1234567890123456789012345678901234567890123456789012345678901234");

    @Test
    void allRfc6238AppendixBVectorsAreReproduced() {
        long[] times = {59L, 1111111109L, 1111111111L, 1234567890L, 2000000000L, 20000000000L};
        String[] sha1 = {"94287082", "07081804", "14050471", "89005924", "69279037", "65353130"};
        String[] sha256 = {"46119246", "68084774", "67062674", "91819424", "90698825", "77737706"};
        String[] sha512 = {"90693936", "25091201", "99943326", "93441116", "38618901", "47863826"};
        for (int i = 0; i < times.length; i++) {
            long step = Totp.step(Instant.ofEpochSecond(times[i]));
            assertEquals(sha1[i], Totp.code(SEED_SHA1, step, "HmacSHA1", 8), "SHA1 at " + times[i]);
            assertEquals(sha256[i], Totp.code(SEED_SHA256, step, "HmacSHA256", 8), "SHA256 at " + times[i]);
            assertEquals(sha512[i], Totp.code(SEED_SHA512, step, "HmacSHA512", 8), "SHA512 at " + times[i]);
        }
    }

    @Test
    void theDefaultCodeIsTheLastSixDigitsOfHmacSha1() {
        long step = Totp.step(Instant.ofEpochSecond(1111111109L));
        assertEquals(0x23523ECL, step, "RFC 6238 Appendix B gives T = 00000000023523EC");
        assertEquals("081804", Totp.code(SEED_SHA1, step));
        assertEquals(6, Totp.DIGITS);
        assertEquals(30, Totp.PERIOD_SECONDS);
    }

    @Test
    void stepsAreWholeThirtySecondPeriods() {
        assertEquals(0, Totp.step(Instant.ofEpochSecond(29)));
        assertEquals(1, Totp.step(Instant.ofEpochSecond(30)));
        assertEquals(1, Totp.step(Instant.ofEpochSecond(59, 999_999_999)));
        assertEquals(-1, Totp.step(Instant.ofEpochSecond(-1)));
    }

    @Test
    void theCodeOfTheCurrentStepIsAcceptedAndItsStepReturned() {
        byte[] secret = Totp.newSecret();
        Instant now = Instant.parse("2025-04-01T00:00:15Z");
        long step = Totp.step(now);
        assertEquals(OptionalLong.of(step), Totp.verify(secret, Totp.code(secret, step), now, Long.MIN_VALUE));
    }

    @Test
    void codesOneStepEitherSideAreAcceptedButNotTwo() {
        byte[] secret = Totp.newSecret();
        Instant now = Instant.parse("2025-04-01T00:00:00Z");
        long step = Totp.step(now);
        assertEquals(OptionalLong.of(step - 1), Totp.verify(secret, Totp.code(secret, step - 1), now, 0));
        assertEquals(OptionalLong.of(step + 1), Totp.verify(secret, Totp.code(secret, step + 1), now, 0));
        assumeDistinct(secret, step - 2, step - 1, step, step + 1);
        assumeDistinct(secret, step + 2, step - 1, step, step + 1);
        assertTrue(Totp.verify(secret, Totp.code(secret, step - 2), now, 0).isEmpty());
        assertTrue(Totp.verify(secret, Totp.code(secret, step + 2), now, 0).isEmpty());
    }

    @Test
    void theWindowFollowsTheClockAtTheEdgeOfAStep() {
        byte[] secret = Totp.newSecret();
        Instant lastSecond = Instant.parse("2025-04-01T00:00:29Z");
        Instant nextStep = lastSecond.plusSeconds(1);
        long step = Totp.step(lastSecond);
        String previous = Totp.code(secret, step - 1);
        assumeDistinct(secret, step - 1, step, step + 1, step + 2);
        assertEquals(OptionalLong.of(step - 1), Totp.verify(secret, previous, lastSecond, 0));
        assertTrue(Totp.verify(secret, previous, nextStep, 0).isEmpty(), "one second later it is two steps old");
    }

    @Test
    void aCodeOnceUsedOrAnyEarlierOneIsRefused() {
        byte[] secret = Totp.newSecret();
        Instant now = Instant.parse("2025-04-01T00:00:00Z");
        long step = Totp.step(now);
        assumeDistinct(secret, step, step - 1, step + 1, step + 2);
        String code = Totp.code(secret, step);
        long used = Totp.verify(secret, code, now, Long.MIN_VALUE).orElseThrow();
        assertTrue(Totp.verify(secret, code, now, used).isEmpty(), "the same code again");
        assertTrue(Totp.verify(secret, Totp.code(secret, step - 1), now, used).isEmpty(), "an earlier code");
        assertTrue(Totp.verify(secret, code, now.plusSeconds(10), used).isEmpty(), "the same code later in its step");
    }

    @Test
    void aCodeFromTheNextStepIsAccepted() {
        byte[] secret = Totp.newSecret();
        Instant now = Instant.parse("2025-04-01T00:00:00Z");
        long step = Totp.step(now);
        assertEquals(OptionalLong.of(step + 1), Totp.verify(secret, Totp.code(secret, step + 1), now, step));
    }

    @Test
    void spacesAndFullWidthDigitsAreToleratedButOtherCharactersAreNot() {
        byte[] secret = Totp.newSecret();
        Instant now = Instant.parse("2025-04-01T00:00:00Z");
        long step = Totp.step(now);
        String code = Totp.code(secret, step);
        String spaced = code.substring(0, 3) + " " + code.substring(3);
        assertEquals(OptionalLong.of(step), Totp.verify(secret, " " + spaced + " ", now, 0));
        StringBuilder fullWidth = new StringBuilder();
        code.chars().forEach(c -> fullWidth.append((char) ('０' + (c - '0'))));
        fullWidth.insert(3, '　');
        assertEquals(OptionalLong.of(step), Totp.verify(secret, fullWidth.toString(), now, 0));
        for (String bad : new String[]{null, "", code.substring(0, 5), code + "0", code.substring(0, 3) + "-"
                + code.substring(3), "+" + code.substring(1), "abcdef", code + "\n1"}) {
            assertTrue(Totp.verify(secret, bad, now, 0).isEmpty(), String.valueOf(bad));
        }
    }

    @Test
    void aCodeForAnotherSecretIsRefused() {
        byte[] secret = Totp.newSecret();
        byte[] other = Totp.newSecret();
        Instant now = Instant.parse("2025-04-01T00:00:00Z");
        long step = Totp.step(now);
        String theirs = Totp.code(other, step);
        boolean collides = false;
        for (long s = step - 1; s <= step + 1; s++) {
            collides |= Totp.code(secret, s).equals(theirs);
        }
        assertEquals(collides, Totp.verify(secret, theirs, now, 0).isPresent());
    }

    @Test
    void newSecretsAreTwentyRandomBytes() {
        byte[] a = Totp.newSecret();
        assertEquals(20, a.length);
        assertNotEquals(Totp.base32(a), Totp.base32(Totp.newSecret()));
    }

    @Test
    void base32FollowsTheRfc4648VectorsWithoutPadding() {
        assertEquals("", Totp.base32(ascii("")));
        assertEquals("MY", Totp.base32(ascii("f")));
        assertEquals("MZXQ", Totp.base32(ascii("fo")));
        assertEquals("MZXW6", Totp.base32(ascii("foo")));
        assertEquals("MZXW6YQ", Totp.base32(ascii("foob")));
        assertEquals("MZXW6YTB", Totp.base32(ascii("fooba")));
        assertEquals("MZXW6YTBOI", Totp.base32(ascii("foobar")));
        assertEquals("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", Totp.base32(SEED_SHA1));
        assertEquals("777777Y", Totp.base32(new byte[]{-1, -1, -1, -1}));
    }

    @Test
    void theKeyUriPercentEncodesAJapaneseIssuerAndCarriesTheSettings() {
        String uri = Totp.otpauthUri("まもり病院", "tanaka@example.jp", SEED_SHA1);
        String issuer = "%E3%81%BE%E3%82%82%E3%82%8A%E7%97%85%E9%99%A2";
        assertEquals("otpauth://totp/" + issuer + ":tanaka%40example.jp?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                + "&issuer=" + issuer + "&algorithm=SHA1&digits=6&period=30", uri);
        assertTrue(Totp.otpauthUri("Mamori Demo", "a b", SEED_SHA1).startsWith("otpauth://totp/Mamori%20Demo:a%20b?"),
                "a space is %20, not +");
        assertEquals(java.net.URI.create(uri).getScheme(), "otpauth", "a valid URI");
        assertThrows(IllegalArgumentException.class, () -> Totp.otpauthUri("A:B", "x", SEED_SHA1));
        assertThrows(IllegalArgumentException.class, () -> Totp.otpauthUri("A", "x:y", SEED_SHA1));
        assertThrows(IllegalArgumentException.class, () -> Totp.otpauthUri(" ", "x", SEED_SHA1));
    }

    @Test
    void unsupportedSettingsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Totp.code(SEED_SHA1, 1, "HmacMD5", 6));
        assertThrows(IllegalArgumentException.class, () -> Totp.code(SEED_SHA1, 1, "HmacSHA1", 5));
        assertThrows(IllegalArgumentException.class, () -> Totp.code(SEED_SHA1, 1, "HmacSHA1", 9));
        assertThrows(IllegalArgumentException.class, () -> Totp.code(new byte[0], 1));
        assertFalse(Totp.code(SEED_SHA1, 1).isEmpty());
    }

    /** Six digits collide by chance once in a million; such a draw would make the test meaningless, not wrong. */
    private static void assumeDistinct(byte[] secret, long probe, long... others) {
        for (long o : others) {
            org.junit.jupiter.api.Assumptions.assumeFalse(Totp.code(secret, probe).equals(Totp.code(secret, o)));
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
