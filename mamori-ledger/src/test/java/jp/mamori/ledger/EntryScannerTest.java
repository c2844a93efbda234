package jp.mamori.ledger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The verifier reads only seq and prev from an entry, from its bytes. */
class EntryScannerTest {
    static final byte[] HASH = Merkle.leafHash("x".getBytes(StandardCharsets.UTF_8));
    static final String B64 = Base64.getEncoder().encodeToString(HASH);

    static EntryScanner scan(String line) {
        byte[] b = ("junk" + line + "junk").getBytes(StandardCharsets.UTF_8);
        EntryScanner s = new EntryScanner();
        s.scan(b, 4, b.length - 8);
        return s;
    }

    @Test
    void theCanonicalStartIsReadDirectly() {
        EntryScanner s = scan("{\"seq\":1234567,\"prev\":\"" + B64 + "\",\"action\":\"read\"}");
        assertEquals(1234567, s.seq);
        assertEquals(EntryScanner.PRESENT, s.prevState);
        assertArrayEquals(HASH, s.prev);
    }

    @Test
    void prevIsFoundAnywhereAtTheTopLevelButNotInsideNestedValues() {
        EntryScanner s = scan("{\"seq\":5,\"actor\":{\"prev\":\"nested\"},\"note\":\"a \\\"prev\\\": b\",\"prev\" : \"" + B64 + "\"}");
        assertEquals(5, s.seq);
        assertEquals(EntryScanner.PRESENT, s.prevState);
        assertArrayEquals(HASH, s.prev);
        assertEquals(EntryScanner.ABSENT, scan("{\"seq\":5,\"actor\":{\"prev\":\"nested\"}}").prevState);
    }

    @Test
    void entryZeroHasNoOrAnEmptyPrev() {
        assertEquals(EntryScanner.ABSENT, scan("{\"seq\":0,\"action\":\"read\"}").prevState);
        assertEquals(EntryScanner.EMPTY, scan("{\"seq\":0,\"prev\":\"\",\"action\":\"read\"}").prevState);
        assertEquals(0, scan("{\"seq\":0}").seq);
    }

    @Test
    void aMalformedSeqOrPrevIsNotGuessed() {
        assertEquals(-1, scan("{\"action\":\"read\",\"seq\":1}").seq, "seq must come first");
        assertEquals(-1, scan("{\"seq\":01,\"prev\":\"\"}").seq, "no leading zero");
        assertEquals(-1, scan("{\"seq\":-1,\"prev\":\"\"}").seq);
        assertEquals(-1, scan("{\"seq\":1234567890123456789,\"prev\":\"\"}").seq, "too many digits");
        assertEquals(-1, scan("").seq);
        assertEquals(EntryScanner.MALFORMED, scan("{\"seq\":1,\"prev\":\"" + B64.substring(1) + "\"}").prevState);
        assertEquals(EntryScanner.MALFORMED, scan("{\"seq\":1,\"prev\":\"" + B64.replace('=', 'A') + "\"}").prevState);
        assertEquals(EntryScanner.MALFORMED, scan("{\"seq\":1,\"prev\":42}").prevState);
    }
}
