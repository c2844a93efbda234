package jp.mamori.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * One {@code ./mamori serve} as a separate OS process (issue 18 §1 tests: several processes on one database, kill -9
 * of one of them): started from {@link PackagedJar}'s command line with its own data folder and port, ready when it
 * printed {@code Mamori ready at}, its output kept in {@code logs/NAME.out}.
 */
public final class ServeProcess implements AutoCloseable {
    private final Process process;
    private final String name;
    private final Path data;
    private final int port;
    private final Path out;
    private final boolean plainHttp;

    private ServeProcess(Process process, String name, Path data, int port, Path out, boolean plainHttp) {
        this.plainHttp = plainHttp;
        this.process = process;
        this.name = name;
        this.data = data;
        this.port = port;
        this.out = out;
    }

    /**
     * Starts {@code serve --data DATA --port (free) --bind 127.0.0.1 ARGS...} with {@code env} added to this JVM's
     * environment, and waits (at most 3 minutes) until it is ready.
     */
    public static ServeProcess start(PackagedJar pj, String name, Path data, List<String> args,
                                     Map<String, String> env) throws Exception {
        int port = PackagedJar.freePort();
        List<String> cmd = new ArrayList<>(pj.command("-Xmx384m"));
        cmd.addAll(List.of("serve", "--data", data.toString(), "--port", Integer.toString(port), "--bind",
                "127.0.0.1"));
        cmd.addAll(args);
        Path out = pj.logs.resolve(name + "-" + System.nanoTime() + ".out");
        Process p = launch(cmd, env, out, name, Process::destroyForcibly);
        return new ServeProcess(p, name, data, port, out, args.contains("--http"));
    }

    /**
     * Starts {@code cmd} (a {@code serve} command line) with {@code env} added, its output copied line by line to
     * {@code out}, and waits (at most 3 minutes) until it prints {@code Mamori ready at}. If it exits or does not become
     * ready in time, {@code onFailure} is given the process (to kill what it started) and the test fails with the
     * output so far. The crash tests use this with their own kinds of kill.
     */
    public static Process launch(List<String> cmd, Map<String, String> env, Path out, String name,
                                 java.util.function.Consumer<Process> onFailure) throws Exception {
        ProcessBuilder b = new ProcessBuilder(cmd).redirectErrorStream(true);
        b.environment().putAll(env);
        Process p = b.start();
        CountDownLatch ready = new CountDownLatch(1);
        Thread.ofPlatform().daemon().name(name + "-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8)); PrintWriter w = new PrintWriter(Files.newBufferedWriter(out))) {
                String line;
                while ((line = r.readLine()) != null) {
                    w.println(line);
                    w.flush();
                    if (line.contains("Mamori ready at")) {
                        ready.countDown();
                    }
                }
            } catch (IOException ignored) {
                // killed
            }
        });
        boolean ok = false;
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (!ready.await(200, TimeUnit.MILLISECONDS)) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    fail(name + " did not become ready" + (p.isAlive() ? " in time" : ", exit code " + p.exitValue())
                            + ":\n" + read(out));
                }
            }
            ok = true;
            return p;
        } finally {
            if (!ok) {
                onFailure.accept(p);
                p.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static String read(Path out) {
        try {
            return Files.readString(out);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    public String name() {
        return name;
    }

    public Path data() {
        return data;
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** {@code https://localhost:PORT} (the generated certificate names localhost); with --http http://127.0.0.1:PORT. */
    public String origin() {
        return plainHttp ? "http://127.0.0.1:" + port : "https://localhost:" + port;
    }

    public String fhir() {
        return origin() + "/fhir";
    }

    /** What the process printed so far. */
    public String output() {
        return read(out);
    }

    /** SIGKILL, as a crash or an OOM kill: nothing is stopped in order. */
    public void kill9() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + " did not die");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A GET with a bearer token (null: none), as a string answer. */
    public HttpResponse<String> get(HttpClient http, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(origin() + path)).timeout(Duration.ofSeconds(60));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** SIGTERM, then SIGKILL when it does not stop within a minute. */
    @Override
    public void close() {
        if (!process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                kill9();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill9();
        }
    }
}
