package jp.mamori.preservation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.config.ServerConfig;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pgBackRest command (Debian's {@code pgbackrest}, 2.45) as Mamori calls it for an external PostgreSQL (ADR 0010
 * "External PostgreSQL (pgBackRest)"): {@code check}, {@code backup --type=full|diff|incr}, {@code info
 * --output=json}, {@code verify} and {@code restore} into a drill's scratch folder. The command prefix is the
 * configured one, split on spaces and run without a shell ({@code pgbackrest}, {@code sudo -u postgres pgbackrest},
 * {@code ssh db-host pgbackrest}); Mamori adds {@code --config}, {@code --stanza} and the command's own options, never
 * a secret (the repository's cipher passphrase stays in pgBackRest's configuration file, readable by the database's
 * OS user only). Output is read up to a bound; an error is reported as pgBackRest's first {@code ERROR: [code]:} line.
 */
public final class PgBackRest {
    /** More than any {@code info} of a real repository (a backup is about 1 KiB of JSON); anything above is cut. */
    static final int MAX_OUTPUT = 16 << 20;
    private static final int MAX_ERROR_OUTPUT = 64 << 10;
    private static final Pattern ERROR = Pattern.compile("ERROR: \\[(\\d{3})]: (.*)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<String> command;
    private final String stanza;
    private final Optional<Path> config;

    public PgBackRest(ServerConfig.PgBackRestOptions o) {
        this(o.command(), o.stanza().orElseThrow(), o.config());
    }

    PgBackRest(List<String> command, String stanza, Optional<Path> config) {
        this.command = List.copyOf(command);
        this.stanza = stanza;
        this.config = config;
    }

    public String stanza() {
        return stanza;
    }

    /**
     * What runs a program as pgBackRest runs (the prefix before the {@code pgbackrest} word: {@code sudo -u
     * postgres}, {@code runuser -u postgres --}, or nothing), for the drill's {@code pg_ctl}; empty when the command
     * names no {@code pgbackrest} program or runs it on another host ({@code ssh}).
     */
    Optional<List<String>> wrapper() {
        for (int i = command.size() - 1; i >= 0; i--) {
            if (Path.of(command.get(i)).getFileName().toString().equals("pgbackrest")) {
                List<String> w = command.subList(0, i);
                if (w.stream().anyMatch(x -> Path.of(x).getFileName().toString().matches("ssh|rsh|docker|kubectl"))) {
                    return Optional.empty();
                }
                return Optional.of(List.copyOf(w));
            }
        }
        return Optional.empty();
    }

    /** One run's exit code and output. */
    record Ran(int exit, String out, String err) {
        boolean ok() {
            return exit == 0;
        }
    }

    /** {@code check}: the archive_command works and the repository is reachable. Empty when fine, else why not. */
    public Optional<String> check() {
        Ran r = run(Duration.ofMinutes(3), "check"); // archive-timeout (60 s by default) and a little
        return r.ok() ? Optional.empty() : Optional.of(problem("check", r));
    }

    /** {@code backup --type=TYPE}; throws a one-line {@link BackupException} when it fails. */
    public void backup(String type, Duration timeout) {
        if (!List.of("full", "diff", "incr").contains(type)) {
            throw new IllegalArgumentException("backup type " + type);
        }
        Ran r = run(timeout, "--type=" + type, "backup");
        if (!r.ok()) {
            throw new BackupException(problem("backup", r));
        }
    }

    /**
     * {@code verify --output=text --verbose} (without {@code --verbose} it prints nothing when all is well): every
     * file in the repository against its checksum. pgBackRest 2.45 exits 0 also when it found invalid files, so its
     * summary is read: the stanza's {@code status:} must be {@code ok}. Empty when sound, else the problems (the
     * stanza's status and each backup that is not valid), one line each.
     */
    public List<String> verify(Duration timeout) {
        Ran r = run(timeout, "--output=text", "--verbose", "verify");
        if (!r.ok()) {
            return List.of(problem("verify", r));
        }
        return verifySummary(r.out());
    }

    /** The problems in {@code verify --output=text}'s summary; none when the stanza's status is ok. */
    static List<String> verifySummary(String out) {
        List<String> problems = new ArrayList<>();
        String status = null;
        String backup = null;
        for (String line : out.lines().map(String::strip).toList()) {
            if (status == null && line.startsWith("status: ")) {
                status = line.substring("status: ".length()).strip();
            } else if (line.startsWith("backup: ")) {
                backup = line.contains("status: valid") ? null : line.substring("backup: ".length());
                if (backup != null) {
                    problems.add("pgBackRest verify: backup " + cut(backup));
                }
            } else if (backup != null && !line.isEmpty() && problems.size() < 100) {
                problems.set(problems.size() - 1, problems.get(problems.size() - 1) + "; " + cut(line));
            }
        }
        if (status == null) {
            return List.of("pgBackRest verify printed no status / pgBackRest の検証結果を読めません");
        }
        if (!status.equals("ok")) {
            problems.add(0, "pgBackRest verify: stanza status " + cut(status) + " / バックアップの検証で誤りが見つかりました");
        }
        return problems.size() > 100 ? List.copyOf(problems.subList(0, 100)) : List.copyOf(problems);
    }

    private static String cut(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    /**
     * {@code restore} of backup {@code label} into {@code pgPath} (which must not exist, or be empty), to the end of
     * that backup ({@code --type=immediate}), promoted, with archiving off, so that the scratch copy never pushes WAL
     * into the real repository.
     */
    void restore(String label, Path pgPath, Duration timeout) {
        Ran r = run(timeout, "--set=" + label, "--pg1-path=" + pgPath, "--type=immediate", "--target-action=promote",
                "--archive-mode=off", "restore");
        if (!r.ok()) {
            throw new BackupException(problem("restore", r));
        }
    }

    /** {@code info --output=json}, parsed. */
    public Info info() {
        Ran r = run(Duration.ofMinutes(3), "--output=json", "info");
        if (!r.ok()) {
            throw new BackupException(problem("info", r));
        }
        return Info.parse(r.out(), stanza);
    }

    /** One backup in the repository. */
    public record Backup(String label, String type, Instant start, Instant stop, long size, long repoSize,
                         String walStart, String walStop, boolean error) {
    }

    /**
     * What {@code info} says of the stanza: its status (code 0 = ok), the repository's cipher, the database's
     * PostgreSQL major version, the backups oldest first and the WAL archive's range.
     */
    public record Info(int statusCode, String status, String cipher, String pgVersion, List<Backup> backups,
                       Optional<String> walMin, Optional<String> walMax) {
        /** The newest finished backup without error. */
        public Optional<Backup> newest() {
            return backups.stream().filter(b -> !b.error()).reduce((a, b) -> b);
        }

        public boolean encrypted() {
            return cipher != null && !cipher.equals("none") && !cipher.isEmpty();
        }

        static Info parse(String json, String stanza) {
            try {
                JsonNode all = JSON.readTree(json);
                JsonNode s = null;
                if (all != null && all.isArray()) {
                    for (JsonNode n : all) {
                        if (stanza.equals(n.path("name").asText())) {
                            s = n;
                        }
                    }
                }
                if (s == null) {
                    throw new BackupException("pgBackRest の info にスタンザ " + Messages.quote(stanza) + " がありません /"
                            + " pgBackRest info lists no stanza " + Messages.quote(stanza));
                }
                List<Backup> backups = new ArrayList<>();
                for (JsonNode b : s.path("backup")) {
                    String label = b.path("label").asText("");
                    // a label goes back to pgBackRest as --set=LABEL: only its own form (20261207-020026F_…D)
                    boolean sane = label.matches("[A-Za-z0-9_-]{1,64}");
                    backups.add(new Backup(sane ? label : Messages.quote(label), b.path("type").asText(),
                            Instant.ofEpochSecond(b.path("timestamp").path("start").asLong()),
                            Instant.ofEpochSecond(b.path("timestamp").path("stop").asLong()),
                            b.path("info").path("size").asLong(), b.path("info").path("repository").path("size")
                            .asLong(), b.path("archive").path("start").asText(null),
                            b.path("archive").path("stop").asText(null), !sane || b.path("error").asBoolean(false)));
                }
                backups.sort(java.util.Comparator.comparing(Backup::stop));
                Optional<String> min = Optional.empty();
                Optional<String> max = Optional.empty();
                for (JsonNode a : s.path("archive")) {
                    String lo = a.path("min").asText(null);
                    String hi = a.path("max").asText(null);
                    if (lo != null && (min.isEmpty() || lo.compareTo(min.get()) < 0)) {
                        min = Optional.of(lo);
                    }
                    if (hi != null && (max.isEmpty() || hi.compareTo(max.get()) > 0)) {
                        max = Optional.of(hi);
                    }
                }
                String cipher = s.path("cipher").asText("");
                for (JsonNode repo : s.path("repo")) {
                    if ("none".equals(repo.path("cipher").asText())) {
                        cipher = "none"; // one unencrypted repository is enough to leak a copy
                    }
                }
                String version = "";
                for (JsonNode db : s.path("db")) {
                    version = db.path("version").asText(version);
                }
                return new Info(s.path("status").path("code").asInt(-1), s.path("status").path("message").asText(""),
                        cipher, version, List.copyOf(backups), min, max);
            } catch (IOException e) {
                throw new BackupException("pgBackRest の info を読めません / cannot read pgBackRest's info output: "
                        + Messages.firstLine(e));
            }
        }
    }

    /** One line: pgBackRest's first ERROR line (its code and text), else the exit code and the first output line. */
    static String problem(String what, Ran r) {
        String text = r.err() + "\n" + r.out();
        Matcher m = ERROR.matcher(text);
        String why;
        if (m.find()) {
            why = "error " + m.group(1) + ": " + m.group(2).strip();
        } else {
            why = "exit " + r.exit() + text.lines().map(String::strip).filter(l -> !l.isEmpty()).findFirst()
                    .map(l -> ": " + l).orElse("");
        }
        if (why.length() > 300) {
            why = why.substring(0, 300) + "…";
        }
        return "pgBackRest " + what + " に失敗しました / pgBackRest " + what + " failed (" + why + ")";
    }

    /** The full command line for {@code args} (the last one being pgBackRest's command). */
    List<String> commandLine(String... args) {
        List<String> cmd = new ArrayList<>(command);
        config.ifPresent(c -> cmd.add("--config=" + c));
        cmd.add("--stanza=" + stanza);
        cmd.add("--log-level-console=warn");
        cmd.add("--log-level-stderr=error");
        cmd.addAll(List.of(args));
        return cmd;
    }

    private Ran run(Duration timeout, String... args) {
        List<String> cmd = commandLine(args);
        return exec(cmd, timeout);
    }

    /** Runs {@code cmd} (no shell, no standard input), reading its output up to the bounds; killed at the timeout. */
    static Ran exec(List<String> cmd, Duration timeout) {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new BackupException("pgBackRest を起動できません / cannot run " + Messages.quote(cmd.get(0)) + ": "
                    + Messages.firstLine(e));
        }
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream(), MAX_OUTPUT));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream(),
                MAX_ERROR_OUTPUT));
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new BackupException("pgBackRest が時間内に終わりませんでした / " + Messages.quote(
                        String.join(" ", cmd.subList(Math.max(0, cmd.size() - 1), cmd.size()))) + " did not finish within "
                        + timeout.toMinutes() + " minutes and was stopped");
            }
            return new Ran(p.exitValue(), out.get(1, TimeUnit.MINUTES), err.get(1, TimeUnit.MINUTES));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new BackupException("pgBackRest was interrupted");
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new BackupException("cannot read pgBackRest's output: " + Messages.firstLine(e));
        }
    }

    /** Reads a stream to its end, keeping at most {@code max} bytes (the rest is read and dropped). */
    private static String drain(InputStream in, int max) {
        ByteArrayOutputStream kept = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try (in) {
            for (int n; (n = in.read(buf)) > 0; ) {
                int room = max - kept.size();
                if (room > 0) {
                    kept.write(buf, 0, Math.min(room, n));
                }
            }
        } catch (IOException e) {
            // the process went away: what was read is what there is
        }
        return kept.toString(StandardCharsets.UTF_8);
    }
}
