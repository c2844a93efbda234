package jp.mamori.preservation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A backup paces its writes while people are served and runs unpaced on an idle server; what it writes is intact. */
class BusyThrottleTest {
    @TempDir
    Path dir;

    @Test
    void whileServingTheWritesArePacedToTheRateAndOtherwiseNot() throws Exception {
        AtomicLong clock = new AtomicLong(1_000_000_000L);
        AtomicLong slept = new AtomicLong();
        AtomicBoolean busy = new AtomicBoolean(true);
        FolderParts folder = new FolderParts(dir);
        BusyThrottle throttle = new BusyThrottle(folder, 4L << 20, busy::get, clock::get, n -> {
            slept.addAndGet(n);
            clock.addAndGet(n); // time passes only while the backup waits: a server that does nothing else
        });
        byte[] chunk = Fixtures.plain(64 * 1024, 1);
        try (OutputStream out = throttle.create("a/part")) {
            for (int i = 0; i < 96; i++) { // 6 MiB at 4 MiB/s while busy: about 1.5 s of waiting
                out.write(chunk);
            }
            long busyWait = slept.get();
            assertTrue(busyWait > 1_400_000_000L && busyWait < 1_600_000_000L, "waited " + busyWait + " ns");
            busy.set(false);
            for (int i = 0; i < 96; i++) { // idle: no waiting at all
                out.write(chunk);
            }
            assertEquals(busyWait, slept.get(), "an idle server's backup runs unpaced");
        }
        byte[] written = Files.readAllBytes(dir.resolve("a").resolve("part"));
        assertEquals(192 * chunk.length, written.length);
        for (int i = 0; i < 192; i++) {
            assertArrayEquals(chunk, java.util.Arrays.copyOfRange(written, i * chunk.length, (i + 1) * chunk.length));
        }
    }

    @Test
    void anAbortedPartIsNotCommittedThroughTheThrottle() throws Exception {
        FolderParts folder = new FolderParts(dir);
        BusyThrottle throttle = new BusyThrottle(folder, 4L << 20, () -> false, System::nanoTime, n -> { });
        OutputStream out = throttle.create("b/part");
        out.write(new byte[1000]);
        PartSink.abort(out);
        assertFalse(Files.exists(dir.resolve("b").resolve("part")), "abort passes through: nothing committed");
    }
}
