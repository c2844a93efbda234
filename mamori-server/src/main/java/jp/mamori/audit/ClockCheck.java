package jp.mamori.audit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Whether the host clock is synchronised (AUDIT-4), asked of whatever the host has: systemd-timesyncd's flag
 * file, {@code timedatectl}, {@code chronyc tracking}. "unknown" when none of them answers.
 */
final class ClockCheck {
    /** @param state synchronized, unsynchronized or unknown; {@code source} says who answered */
    public record Status(String state, String source) {
        public boolean synced() {
            return state.equals("synchronized");
        }
    }

    private ClockCheck() {
    }

    public static Status now() {
        if (Files.exists(Path.of("/run/systemd/timesync/synchronized"))) {
            return new Status("synchronized", "/run/systemd/timesync/synchronized");
        }
        String t = run(List.of("timedatectl", "show", "-p", "NTPSynchronized", "--value"));
        if (t != null) {
            String v = t.strip().toLowerCase(Locale.ROOT);
            if (v.equals("yes")) {
                return new Status("synchronized", "timedatectl");
            }
            if (v.equals("no")) {
                return new Status("unsynchronized", "timedatectl");
            }
        }
        String c = run(List.of("chronyc", "tracking"));
        if (c != null && c.contains("Leap status")) {
            return new Status(c.contains("Leap status     : Not synchronised") ? "unsynchronized" : "synchronized",
                    "chronyc");
        }
        return new Status("unknown", "none of timesyncd, timedatectl, chronyc answered");
    }

    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            if (!p.waitFor(3, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return null;
            }
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            return p.exitValue() == 0 ? out : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** The deviation line for the startup log and the compliance evidence, or null when the clock is synchronised. */
    public static String deviation(Status s) {
        return s.synced() ? null : "the host clock is " + s.state() + " (" + s.source()
                + "): audit timestamps need a synchronised clock (AUDIT-4) / 時刻同期を確認できません";
    }
}
