package jp.mamori.records;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class VersionHashTest {
    private static final Instant T = Instant.parse("2026-11-23T00:00:00Z");

    @Test
    void contentHashIsSha256OfTheUtf8Json() {
        // SHA-256("abc") from FIPS 180-2.
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                HexFormat.of().formatHex(VersionHash.content("abc")));
    }

    @Test
    void theChainChangesWithEveryRecordedField() {
        byte[] c = VersionHash.content("{}");
        byte[] base = VersionHash.chain(VersionHash.GENESIS, "Patient", "1", 1, T, "client:a", null, "create", null, c);
        assertArrayEquals(base, VersionHash.chain(VersionHash.GENESIS, "Patient", "1", 1, T, "client:a", null, "create",
                null, c));
        assertFalse(java.util.Arrays.equals(base, VersionHash.chain(VersionHash.GENESIS, "Patient", "1", 1, T,
                "client:b", null, "create", null, c)));
        assertFalse(java.util.Arrays.equals(base, VersionHash.chain(VersionHash.GENESIS, "Patient", "1", 1,
                T.plusMillis(1), "client:a", null, "create", null, c)));
        assertFalse(java.util.Arrays.equals(base, VersionHash.chain(VersionHash.GENESIS, "Patient", "1", 1, T,
                "client:a", "typo", "create", null, c)));
        assertFalse(java.util.Arrays.equals(base, VersionHash.chain(new byte[32], "Patient", "1", 2, T, "client:a",
                null, "create", null, c)));
    }
}
