package jp.mamori.records;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sizes of the chunks in which a person's search across patients reads its matches. */
class SearchChunksTest {

    @Test
    void theFirstChunkFollowsTheShareSeenLately() {
        assertEquals(21, RecordSearch.firstChunk(21, 1.0), "all seen: the page and the row after it");
        assertEquals(21, RecordSearch.firstChunk(21, 0.97));
        assertEquals(42, RecordSearch.firstChunk(21, 0.8), "1.2 / 0.8 = 1.5: two pages");
        assertEquals(63, RecordSearch.firstChunk(21, 0.5), "1.2 / 0.5 = 2.4: three pages");
        assertEquals(84, RecordSearch.firstChunk(21, 0.01), "never more than four pages with their bodies");
        assertEquals(84, RecordSearch.firstChunk(21, 0.0));
    }

    @Test
    void laterChunksAskForWhatIsMissingAtTheRateSeenWithRoomToSpare() {
        // 10 of 21 seen, 11 missing: 11 × 1.25 × 21 / 10 = 28.9, rounded up to a power of two.
        assertEquals(32, RecordSearch.nextChunk(11, 10, 21));
        assertEquals(128, RecordSearch.nextChunk(21, 0, 21), "none seen: four times as many as examined");
        assertEquals(2_048, RecordSearch.nextChunk(21, 0, 2_000), "bounded");
        assertEquals(2, RecordSearch.nextChunk(1, 1_000, 1_000), "one missing, all seen: 1.25, rounded up");
        assertEquals(32, RecordSearch.nextChunk(21, 0, 1), "never fewer than are missing (4 × 1 < 21)");
        for (int missing = 1; missing < 300; missing += 7) {
            for (int seen = 0; seen < 50; seen += 3) {
                int n = RecordSearch.nextChunk(missing, seen, 60);
                assertTrue(n >= Math.min(missing, 2_048) && n <= 2_048 && Integer.bitCount(n) == 1,
                        missing + "/" + seen + " -> " + n);
            }
        }
    }
}
