package jp.mamori.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Mamori as separate OS processes, for the tests that kill it or bound its heap: a data folder of their own under
 * {@code target/crash-it} (cleared when a build starts), a folder for the processes' output beside it, and the
 * command-line tools run to completion. The processes run the shaded jar when system property {@code mamori.jar}
 * names it (the integration tests, *IT, after the package phase), else the classes of this build on the test's
 * own class path (the unit-test phase, so that these long tests overlap the rest of the suite).
 */
public final class PackagedJar {
    /** The shaded jar, or null: the class path then. */
    public final Path jar;
    /** The class path the processes run on when there is no jar. */
    private final String classPath;
    /** The java binary running this test, so that the server runs on the same JDK. */
    public final String javaCommand = ProcessHandle.current().info().command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    /** A new data folder, not yet created. */
    public final Path data;
    /** Where the processes' output goes (created). */
    public final Path logs;

    /** What a command printed, and its exit code. */
    public record Result(int code, String out, String err) {
    }

    /** @param prefix names the data folder ({@code prefix-xxxxxxxx}) so that a failed run's files are found */
    public PackagedJar(String prefix) {
        String configured = System.getProperty("mamori.jar");
        if (configured != null) {
            Path p = Path.of(configured);
            assertTrue(Files.isRegularFile(p), "the shaded jar is built in the package phase; not found at "
                    + p.toAbsolutePath());
            jar = p.toAbsolutePath();
            classPath = null;
        } else {
            jar = null;
            classPath = System.getProperty("java.class.path");
            assertTrue(classPath != null && classPath.contains("classes"), "no class path to run Mamori on: "
                    + classPath);
        }
        data = Path.of("target", "crash-it", prefix + "-" + UUID.randomUUID().toString().substring(0, 8))
                .toAbsolutePath();
        logs = data.resolveSibling(data.getFileName() + "-logs");
        try {
            Files.createDirectories(logs);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * {@code java [jvmOptions] -jar JAR} (or {@code -cp CLASSPATH jp.mamori.cli.Main}): the start of a command line,
     * to which the command and its options are added.
     */
    public List<String> command(String... jvmOptions) {
        List<String> cmd = new ArrayList<>();
        cmd.add(javaCommand);
        // The quick compiler only: these JVMs live seconds to a minute, and the optimising compiler's threads would
        // spend the CPU that the rest of the suite, running beside them, needs.
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.addAll(List.of(jvmOptions));
        if (jar != null) {
            cmd.addAll(List.of("-jar", jar.toString()));
        } else {
            cmd.addAll(List.of("-cp", classPath, "jp.mamori.cli.Main"));
        }
        return cmd;
    }

    /** Runs {@code mamori args...} to completion (at most 3 minutes), its output kept under {@link #logs}. */
    public Result run(String... args) throws Exception {
        List<String> cmd = command();
        cmd.addAll(List.of(args));
        String name = args[0] + "-" + System.nanoTime();
        Path out = logs.resolve(name + ".out");
        Path err = logs.resolve(name + ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            if (!p.waitFor(180, TimeUnit.SECONDS)) {
                fail("timed out: " + cmd);
            }
        } finally {
            p.destroyForcibly();
        }
        return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /** A system client with {@code system/*.*} on the data folder; returns its token (the last line printed). */
    public String createClient(String name, String purpose) throws Exception {
        Result r = run("client", "create", "--data", data.toString(), "--name", name, "--scopes", "system/*.*",
                "--owner", name + " test", "--purpose", purpose);
        assertEquals(0, r.code(), r.out() + r.err());
        List<String> lines = r.out().lines().filter(l -> !l.isBlank()).toList();
        return lines.get(lines.size() - 1).trim();
    }

    /** A TCP port free on this machine a moment ago. */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
