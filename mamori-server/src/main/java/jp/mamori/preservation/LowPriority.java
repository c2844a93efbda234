package jp.mamori.preservation;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * Backup work at idle priority, so that a running backup costs the clinicians' reads and searches little (issue 16:
 * at most 10 % at 16 clients) and still runs at full speed on an idle server (the nightly backup). The work runs on
 * threads that lowered their own scheduling priority once, when they started: on Linux {@code nice 19} and the idle
 * I/O class ({@code renice}/{@code ionice} on the thread's own task id, which any user may do to its own threads;
 * raising it again would need privileges, hence threads of their own). Elsewhere, or when the commands are missing,
 * the work runs at normal priority and that is logged once.
 */
final class LowPriority {
    private static final Logger log = LoggerFactory.getLogger(LowPriority.class);
    private static final ExecutorService WORKER = Executors.newCachedThreadPool(threads("mamori-backup-work"));
    private static volatile boolean warned;

    private LowPriority() {
    }

    /** Daemon threads named {@code name} that lower their own priority once, when they start. */
    static ThreadFactory threads(String name) {
        return r -> {
            Thread t = new Thread(() -> {
                lowerCurrentThread();
                r.run();
            }, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** Work that may throw what a backup throws. */
    @FunctionalInterface
    interface Work<T> {
        T call() throws Exception;
    }

    /**
     * Runs {@code work} on an idle-priority thread and waits for it; its exceptions come back as they were thrown (an
     * interrupt of the caller interrupts the work).
     */
    static <T> T call(Work<T> work) throws Exception {
        Callable<T> c = work::call;
        Future<T> f = WORKER.submit(c);
        try {
            return f.get();
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw e;
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception x) {
                throw x;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /**
     * Lowers the calling thread's CPU priority to nice 19 and its I/O to the idle class; whether the CPU priority was
     * lowered. Only ever lowers (a thread cannot be raised back without privileges).
     */
    static boolean lowerCurrentThread() {
        if (Boolean.getBoolean("mamori.bench.backupAtNormalPriority")) {
            once("-Dmamori.bench.backupAtNormalPriority=true (a benchmark's comparison, never a setting)");
            return false;
        }
        Path self = Path.of("/proc/thread-self");
        String tid;
        try {
            String target = Files.readSymbolicLink(self).toString(); // "PID/task/TID"
            tid = target.substring(target.lastIndexOf('/') + 1);
            if (!tid.chars().allMatch(Character::isDigit) || tid.isEmpty()) {
                throw new IOException("unexpected " + target);
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            once("not on Linux (" + e.getMessage() + ")");
            return false;
        }
        boolean cpu = run(List.of("renice", "-n", "19", "-p", tid));
        boolean io = run(List.of("ionice", "-c", "3", "-p", tid));
        if (!cpu || !io) {
            once((cpu ? "" : "renice") + (cpu || io ? "" : " and ") + (io ? "" : "ionice") + " did not work");
        }
        return cpu;
    }

    private static boolean run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void once(String why) {
        if (!warned) {
            warned = true;
            log.warn("backup: backups run at normal priority, so a running backup slows the server more: {}", why);
        }
    }

    /** The niceness of the calling thread (Linux), for tests; -100 when it cannot be read. */
    static int currentNiceness() {
        try {
            String stat = Files.readString(Path.of("/proc/thread-self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Integer.parseInt(f[16]); // field 19 of stat; the fields after the name start at field 3
        } catch (IOException | RuntimeException e) {
            return -100;
        }
    }
}
