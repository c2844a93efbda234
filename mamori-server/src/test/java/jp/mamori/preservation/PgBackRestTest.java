package jp.mamori.preservation;

import jp.mamori.cli.Main;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.testing.DebianPostgres;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Backups of an external PostgreSQL (a Debian 15 cluster) through Debian's pgBackRest (issue 16; BACKUP-1/2/4/5):
 * {@code mamori backup now|list|verify|drill} against a real stanza with an encrypted repository, the drill restoring
 * into a scratch cluster that a Mamori server checks; the deviations (check failing, repository not encrypted) and
 * pgBackRest's errors as one line.
 */
class PgBackRestTest {
    private static final String OWNER = "mamori_owner";
    private static final String PASSWORD = "Owner-pass-" + java.util.UUID.randomUUID();
    private static DebianPostgres pg;
    private static Path tools;
    private static Path conf;
    private static Path drillDir;
    private static Path data;
    private static String patient;

    @BeforeAll
    static void anExternalDatabaseWithAStanzaAndAMamoriServerOnIt() throws Exception {
        DebianPostgres.assumeAvailable();
        tools = DebianPostgres.serverUserFolder("mamori-pgbackrest-");
        conf = tools.resolve("pgbackrest.conf");
        pg = DebianPostgres.start(Map.of("archive_mode", "on", "archive_command",
                "pgbackrest --config=" + conf + " --stanza=mamori archive-push %p"));
        Files.writeString(conf, """
                [global]
                repo1-path=%1$s/repo
                repo1-cipher-type=aes-256-cbc
                repo1-cipher-pass=test-only-cipher-passphrase
                repo1-retention-full=2
                log-path=%1$s/log
                lock-path=%1$s/lock
                start-fast=y
                archive-timeout=60

                [mamori]
                pg1-path=%2$s
                pg1-port=%3$d
                pg1-socket-path=%4$s
                """.formatted(tools, pg.dataDirectory(), pg.port(), pg.home()));
        Files.setPosixFilePermissions(conf, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        drillDir = tools.resolve("drills");
        for (String d : List.of("drills", "repo", "log", "lock")) {
            Files.createDirectories(tools.resolve(d));
        }
        DebianPostgres.giveToServerUser(tools);
        pg.runAsServerUser(120, "pgbackrest", "--config=" + conf, "--stanza=mamori", "stanza-create");
        pg.createOwner(OWNER, PASSWORD, "mamori");
        try (TestServer s = TestServer.start(args("--http"))) {
            data = s.dataDir();
            HttpResponse<String> created = s.post("/Patient",
                    "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"外部\",\"given\":[\"一郎\"]}]}");
            assertEquals(201, created.statusCode(), created.body());
            patient = created.headers().firstValue("Location").orElseThrow()
                    .replaceAll(".*/Patient/([^/]+)/_history/.*", "$1");
            // the server checked pgBackRest at start: no "not backed up by Mamori", no failed check
            List<String> deviations = s.server().pgBackRest().deviations();
            assertTrue(deviations.stream().noneMatch(d -> d.contains("check fails") || d.contains("not encrypted")),
                    deviations.toString());
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (pg != null) {
            pg.close();
        }
        if (tools != null) {
            DebianPostgres.removeFolder(tools);
        }
    }

    private static List<String> args(String... more) {
        List<String> a = new ArrayList<>(List.of(more));
        a.addAll(List.of("--db-url", pg.jdbcUrl("mamori"), "--db-user", OWNER, "--db-password", PASSWORD,
                "--backup-pgbackrest-stanza", "mamori", "--backup-pgbackrest-command",
                String.join(" ", DebianPostgres.serverUserPrefix()) + " pgbackrest",
                "--backup-pgbackrest-config", conf.toString(), "--backup-pgbackrest-drill-dir", drillDir.toString()));
        return a;
    }

    @Test
    void theCommandLineTakesListsVerifiesAndDrillsPgBackRestBackups() throws Exception {
        Run full = mamori("backup", "now");
        assertEquals(0, full.code, full.out + full.err);
        assertTrue(full.out.contains("in the repository"), full.out);
        Run diff = mamori("backup", "now");
        assertEquals(0, diff.code, diff.out + diff.err);
        Run list = mamori("backup", "list");
        assertEquals(0, list.code, list.out + list.err);
        assertTrue(list.out.matches("(?s).*\\d{8}-\\d{6}F .* ok.*") && list.out.matches("(?s).*\\d{8}-\\d{6}F_\\d{8}-\\d{6}D .*"),
                "a full backup, then a differential one: " + list.out);
        Run verify = mamori("backup", "verify");
        assertEquals(0, verify.code, verify.out + verify.err);
        assertTrue(verify.out.contains("ok (pgBackRest verify"), verify.out);

        Run drill = mamori("backup", "drill");
        assertEquals(0, drill.code, drill.out + drill.err);
        assertTrue(drill.out.contains("the drill passed"), drill.out);
        try (Stream<Path> left = Files.list(drillDir)) {
            assertEquals(List.of(), left.toList(), "the scratch cluster is removed");
        }
        assertTrue(Files.readString(data.resolve("backup").resolve("drills.log")).contains(" pass {backup="));
        try (Connection c = pg.superuser("mamori"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM audit_entry WHERE action IN ('backup.run',"
                     + " 'backup.drill', 'backup.verify')")) {
            rs.next();
            assertTrue(rs.getLong(1) >= 3, "recorded in the trail: " + rs.getLong(1));
        }
        PgBackRestBackups engine = engine(Optional.of(drillDir));
        assertTrue(engine.check().isEmpty());
        List<String> deviations = engine.deviations();
        assertTrue(deviations.stream().noneMatch(d -> d.contains("pgBackRest") || d.contains("drill")),
                deviations.toString());

        // A file of the repository altered (as root or the database's OS user could): verify names the backups.
        Path file;
        try (Stream<Path> s = Files.walk(tools.resolve("repo").resolve("backup").resolve("mamori"))) {
            file = s.filter(p -> p.toString().contains("F/pg_data/global/") && Files.isRegularFile(p)).findFirst()
                    .orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x55;
        Files.write(file, bytes);
        Run altered = mamori("backup", "verify");
        assertEquals(1, altered.code, altered.out + altered.err);
        assertTrue(altered.out.contains("REFUSED: pgBackRest verify: stanza status error")
                && altered.out.contains("status: invalid"), altered.out);
    }

    @Test
    void aFailingCheckAndAnUnencryptedRepositoryAreDeviationsInOneLine() throws Exception {
        ServerConfig.PgBackRestOptions wrong = new ServerConfig.PgBackRestOptions(Optional.of("nosuchstanza"),
                commandPrefix(), Optional.of(conf), Optional.empty());
        PgBackRest tool = new PgBackRest(wrong);
        Optional<String> problem = tool.check();
        assertTrue(problem.isPresent());
        assertEquals(1, problem.get().lines().count(), problem.get());
        assertTrue(problem.get().startsWith("pgBackRest check に失敗しました / pgBackRest check failed (error "),
                problem.get());

        PgBackRestBackups engine = new PgBackRestBackups(data, ServerConfig.BackupOptions.defaults(data), wrong,
                config().database(), tool, null, Clock.systemUTC(), java.time.ZoneId.of("Asia/Tokyo"));
        engine.check();
        List<String> deviations = engine.deviations();
        assertTrue(deviations.stream().anyMatch(d -> d.startsWith("pgBackRest check fails")), deviations.toString());
        assertTrue(deviations.stream().anyMatch(d -> d.contains("no --backup-pgbackrest-drill-dir")),
                deviations.toString());
    }

    @Test
    void secretsOnTheCommandLineAndPgBackRestForTheEmbeddedDatabaseAreRefused() {
        ConfigException secret = assertThrows(ConfigException.class, () -> new ServerConfig.PgBackRestOptions(
                Optional.of("mamori"), List.of("pgbackrest", "--repo1-cipher-pass=x"), Optional.empty(),
                Optional.empty()));
        assertTrue(secret.getMessage().contains("secrets"), secret.getMessage());
        ConfigException embedded = assertThrows(ConfigException.class, () -> ServerConfig.fromArgs(List.of(
                "--backup-pgbackrest-stanza", "mamori"), Map.of()));
        assertTrue(embedded.getMessage().contains("external"), embedded.getMessage());
        assertThrows(ConfigException.class, () -> new ServerConfig.PgBackRestOptions(Optional.of("../x"),
                List.of("pgbackrest"), Optional.empty(), Optional.empty()));
    }

    private static List<String> commandPrefix() {
        List<String> c = new ArrayList<>(DebianPostgres.serverUserPrefix());
        c.add("pgbackrest");
        return c;
    }

    private static ServerConfig config() {
        List<String> a = args("--http");
        a.addAll(0, List.of("--data", data.toString()));
        return ServerConfig.fromArgs(a, Map.of());
    }

    private static PgBackRestBackups engine(Optional<Path> drills) {
        ServerConfig cfg = config();
        return new PgBackRestBackups(data, cfg.backup(), new ServerConfig.PgBackRestOptions(cfg.pgbackrest().stanza(),
                cfg.pgbackrest().command(), cfg.pgbackrest().config(), drills), cfg.database(),
                new PgBackRest(cfg.pgbackrest()), null, Clock.systemUTC(), cfg.timeZone());
    }

    private record Run(int code, String out, String err) {
    }

    private static Run mamori(String... command) {
        List<String> argv = new ArrayList<>(List.of(command));
        argv.addAll(List.of("--data", data.toString()));
        argv.addAll(args());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
