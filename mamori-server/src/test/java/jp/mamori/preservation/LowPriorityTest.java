package jp.mamori.preservation;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Backup work runs at idle priority on threads of its own; the caller's priority and its exceptions are untouched. */
class LowPriorityTest {
    @Test
    void theWorkRunsAtNiceNineteenWhileTheCallerKeepsItsPriority() throws Exception {
        assumeTrue(Files.exists(Path.of("/proc/thread-self/stat")), "Linux only: elsewhere backups run at normal"
                + " priority (logged)");
        int caller = LowPriority.currentNiceness();
        assertEquals(19, (int) LowPriority.call(LowPriority::currentNiceness));
        assertEquals(caller, LowPriority.currentNiceness(), "the calling thread is not lowered");
        assertTrue(caller < 19, "a test thread starts above idle priority: " + caller);
    }

    @Test
    void exceptionsComeBackAsTheyWereThrown() {
        IOException thrown = new IOException("disk full");
        IOException got = assertThrows(IOException.class, () -> LowPriority.call(() -> {
            throw thrown;
        }));
        assertSame(thrown, got);
        BackupException b = assertThrows(BackupException.class, () -> LowPriority.call(() -> {
            throw new BackupException("one line");
        }));
        assertEquals("one line", b.getMessage());
    }
}
