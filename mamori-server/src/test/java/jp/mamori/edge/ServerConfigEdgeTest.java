package jp.mamori.edge;

import jp.mamori.MamoriServer;
import jp.mamori.cli.Main;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Settings that cannot work are refused before anything starts, with a message naming the option. */
class ServerConfigEdgeTest {
    private static ServerConfig parse(String... args) {
        return ServerConfig.fromArgs(List.of(args), Map.of());
    }

    private static String refusal(String... args) {
        return assertThrows(ConfigException.class, () -> parse(args), String.join(" ", args)).getMessage();
    }

    @Test
    void plainHttpOnAnyAddressIsRefusedWithAMessageSayingWhy() {
        for (String bind : List.of("0.0.0.0", "::", "192.0.2.10", "no-such-host.invalid")) {
            String m = refusal("--http", "--bind", bind);
            assertTrue(m.contains("--http") && m.contains("loopback"), m);
        }
    }

    @Test
    void plainHttpOnLoopbackIsAcceptedAndListedAsADeviation() {
        for (String bind : List.of("127.0.0.1", "::1", "localhost")) {
            ServerConfig c = parse("--http", "--bind", bind);
            assertTrue(c.plainHttp());
            assertEquals(1, c.deviations().size(), c.deviations().toString());
            assertTrue(c.deviations().get(0).contains("plain HTTP"), c.deviations().toString());
        }
        assertEquals(List.of(), parse().deviations(), "the defaults deviate from nothing");
    }

    @Test
    void backupsAreOnByDefaultBesideTheDataFolderAndEachWeakerSettingIsADeviation() {
        ServerConfig c = parse("--data", "/srv/mamori/data");
        ServerConfig.BackupOptions b = c.backup();
        assertTrue(b.enabled());
        assertEquals(java.nio.file.Path.of("/srv/mamori/data-backups"), b.dir());
        assertEquals(new ServerConfig.BackupOptions.Keep(7, 5, 12, 5), b.keep());
        assertEquals(60, b.walSeconds());
        assertEquals(7, b.drillDays());
        assertEquals(List.of(), c.deviations());

        assertTrue(parse("--no-backup").deviations().get(0).contains("backups are off"));
        assertTrue(parse("--backup-drill-days", "0").deviations().get(0).contains("no scheduled restore drills"));
        List<String> weak = parse("--data", "/srv/d", "--backup-dir", "/srv/d/bk", "--backup-keep", "3,0,0,0",
                "--backup-wal-seconds", "900", "--backup-drill-days", "30").deviations();
        assertEquals(5, weak.size(), weak.toString());
        assertTrue(weak.get(0).contains("inside the data folder"), weak.toString());
        assertTrue(weak.get(1).contains("only 3 backup generations"), weak.toString());
        assertTrue(weak.get(2).contains("no weekly, monthly or yearly"), weak.toString());
        assertTrue(weak.get(3).contains("900 s"), weak.toString());
        assertTrue(weak.get(4).contains("every 30 days"), weak.toString());
        assertEquals(List.of(), parse("--backup-keep", "14,8,24,10", "--backup-wal-seconds", "30",
                "--backup-drill-days", "1").deviations(), "stricter than the defaults deviates from nothing");

        for (String[] bad : List.of(new String[]{"--backup-keep", "7,5,12"}, new String[]{"--backup-keep", "0,5,12,5"},
                new String[]{"--backup-keep", "a,b,c,d"}, new String[]{"--backup-hour", "24"},
                new String[]{"--backup-wal-seconds", "5"}, new String[]{"--backup-drill-days", "-1"})) {
            String m = refusal(bad);
            assertTrue(m.startsWith(bad[0]), m);
        }
    }

    @Test
    void theConsoleShowsJapanTimeUnlessAnotherZoneIsGiven() {
        assertEquals(java.time.ZoneId.of("Asia/Tokyo"), parse().timeZone());
        assertEquals(java.time.ZoneId.of("Europe/Berlin"), parse("--time-zone", "Europe/Berlin").timeZone());
        assertTrue(refusal("--time-zone", "Nowhere/Atlantis").contains("--time-zone"));
    }

    @Test
    void identitySettingsOutOfRangeAreRefusedNamingTheOption() {
        assertTrue(refusal("--session-idle-minutes", "0").contains("--session-idle-minutes"));
        assertTrue(refusal("--session-idle-minutes", "121").contains("--session-idle-minutes"));
        assertTrue(refusal("--session-max-hours", "25").contains("--session-max-hours"));
        assertTrue(refusal("--unused-days", "3").contains("--unused-days"));
        assertTrue(refusal("--unused-action", "delete").contains("--unused-action"));
        assertTrue(refusal("--min-password-length", "6").contains("--min-password-length"));
        assertTrue(refusal("--enrolment-code-hours", "1000").contains("--enrolment-code-hours"));
        assertTrue(refusal("--session-idle-minutes", "ten").contains("--session-idle-minutes"));
    }

    @Test
    void weakerIdentitySettingsAreAcceptedAndEachIsADeviation() {
        ServerConfig c = parse("--session-idle-minutes", "30", "--session-max-hours", "24", "--unused-days", "180",
                "--unused-action", "report", "--min-password-length", "8");
        List<String> d = c.deviations();
        assertEquals(5, d.size(), d.toString());
        assertTrue(d.stream().anyMatch(x -> x.contains("30 idle minutes")), d.toString());
        assertTrue(d.stream().anyMatch(x -> x.contains("not suspended")), d.toString());
        assertTrue(d.stream().anyMatch(x -> x.contains("as short as 8")), d.toString());
        ServerConfig stricter = parse("--session-idle-minutes", "5", "--session-max-hours", "8", "--unused-days", "30",
                "--min-password-length", "16");
        assertEquals(List.of(), stricter.deviations(), "stricter than the defaults deviates from nothing");
    }

    @Test
    void weakerSlowClientLimitsAreDeviationsAndNonsenseIsRefused() {
        assertEquals(new ServerConfig.ListenerOptions(20, 1024, 100), parse().listener());
        List<String> d = parse("--header-timeout", "60", "--min-body-rate", "0", "--max-connections-per-address", "0")
                .deviations();
        assertEquals(3, d.size(), d.toString());
        assertTrue(d.stream().anyMatch(x -> x.contains("60 s")), d.toString());
        assertTrue(d.stream().anyMatch(x -> x.contains("no minimum rate")), d.toString());
        assertTrue(d.stream().anyMatch(x -> x.contains("no limit on connections")), d.toString());
        assertTrue(parse("--max-connections-per-address", "500").deviations().get(0).contains("500 connections"));
        assertEquals(List.of(), parse("--header-timeout", "5", "--min-body-rate", "4096",
                "--max-connections-per-address", "20").deviations(), "stricter than the defaults deviates from nothing");
        assertTrue(refusal("--header-timeout", "0").contains("--header-timeout"));
        assertTrue(refusal("--min-body-rate", "-1").contains("--min-body-rate"));
        assertTrue(refusal("--max-connections-per-address", "-5").contains("--max-connections-per-address"));
    }

    @Test
    void securityNoticesGoToSyslogOverTlsOrToALoopbackRelayOnly() {
        assertTrue(refusal("--notify-syslog", "siem.example.jp:514").contains("loopback"));
        assertTrue(refusal("--notify-syslog-tls", "siem.example.jp").contains("HOST:PORT"));
        assertTrue(refusal("--notify-syslog-tls", "siem.example.jp:70000").contains("HOST:PORT"));
        assertTrue(refusal("--notify-syslog", "127.0.0.1:514", "--notify-syslog-tls", "siem.example.jp:6514")
                .contains("not both"));
        ServerConfig tls = parse("--notify-syslog-tls", "siem.example.jp:6514");
        assertTrue(tls.access().syslogTls());
        assertEquals("siem.example.jp", tls.access().syslogHost());
        assertEquals(6514, tls.access().syslogPort());
        ServerConfig relay = parse("--notify-syslog", "127.0.0.1:514");
        assertEquals(false, relay.access().syslogTls());
        assertEquals(List.of(), relay.deviations());
    }

    @Test
    void longerBreakGlassOrLaterEscalationIsADeviation() {
        assertTrue(refusal("--break-glass-hours", "13").contains("--break-glass-hours"));
        assertTrue(refusal("--break-glass-review-hours", "0").contains("--break-glass-review-hours"));
        List<String> d = parse("--break-glass-hours", "4", "--break-glass-review-hours", "168").deviations();
        assertEquals(2, d.size(), d.toString());
        assertEquals(List.of(), parse("--break-glass-hours", "1", "--break-glass-review-hours", "24").deviations());
    }

    @Test
    void aPublicUrlMustBeHttpsWithoutAPath() {
        assertTrue(refusal("--public-url", "http://mamori.example.jp").contains("--public-url"));
        assertTrue(refusal("--public-url", "https://mamori.example.jp/console").contains("--public-url"));
        assertTrue(refusal("--public-url", "javascript:alert(1)").contains("--public-url"));
        assertEquals("https://mamori.example.jp:8443",
                parse("--public-url", "https://mamori.example.jp:8443/").publicUrl().orElseThrow());
        assertEquals("http://localhost:8080", parse("--http", "--public-url", "http://localhost:8080")
                .publicUrl().orElseThrow());
    }

    @Test
    void unknownOptionMissingValueAndBadValuesNameTheOption() {
        assertTrue(refusal("--prot", "8443").contains("--prot"));
        assertTrue(refusal("--port").contains("--port needs a value"));
        assertTrue(refusal("--port", "eighty").contains("--port"));
        assertTrue(refusal("--port", "70000").contains("--port"));
        assertTrue(refusal("--port", "-1").contains("--port"));
        assertTrue(refusal("--port=").contains("--port"));
        assertTrue(refusal("--port", "1", "--port", "2").contains("--port given twice"));
        assertTrue(refusal("--max-body", "12X").contains("--max-body"));
        assertTrue(refusal("--max-body", "10").contains("--max-body"));
        assertTrue(refusal("--max-body", "99999999999G").contains("--max-body"));
        assertTrue(refusal("--db-url", "mysql://db/x").contains("--db-url"));
        assertTrue(refusal("--keystore", "/tmp/x.p12").contains("--keystore"));
        assertTrue(refusal("--http=yes").contains("--http=yes"));
        assertTrue(refusal("serve").contains("'serve'"));
    }

    @Test
    void serveRefusesABadSettingWithExitCode2AndOneLine() {
        for (List<String> argv : List.of(List.of("serve", "--http", "--bind", "0.0.0.0"),
                List.of("serve", "--port", "x"), List.of("serve", "--bogus"))) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            int code = Main.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8),
                    new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
            assertEquals(2, code, argv.toString());
            String e = err.toString(StandardCharsets.UTF_8);
            assertEquals(1, e.lines().count(), e);
            assertTrue(e.startsWith("mamori serve: "), e);
            assertEquals("", out.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void theStartupOutputSaysReadyAtAnHttpsUrl() {
        TestServer s = TestServer.shared();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        s.server().printStartup(new PrintStream(buf, true, StandardCharsets.UTF_8));
        String out = buf.toString(StandardCharsets.UTF_8);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("Mamori ready at https://")), out);
        assertTrue(out.contains("Mamori ready at " + s.base()), out);
        assertFalse(out.contains("WARNING"), out);
        // the last line says where people open the console (issue 22)
        List<String> lines = out.lines().toList();
        assertTrue(lines.get(lines.size() - 1).matches("コンソール / Console: https://\\S+/console/(home|setup)"), out);
    }

    @Test
    void plainHttpOnLoopbackStartsAndServesHttpWithTheDeviationShown() throws Exception {
        Path data = TestData.newFolder("http-");
        ServerConfig cfg = ServerConfig.fromArgs(List.of("--data", data.toString(), "--http", "--port", "0"), Map.of());
        assertEquals("127.0.0.1", cfg.bindAddress(), "--http binds to loopback by default");
        try (MamoriServer server = MamoriServer.start(cfg)) {
            assertTrue(server.baseUrl().startsWith("http://127.0.0.1:"), server.baseUrl());
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            server.printStartup(new PrintStream(buf, true, StandardCharsets.UTF_8));
            String out = buf.toString(StandardCharsets.UTF_8);
            assertTrue(out.contains("WARNING: plain HTTP"), out);
            assertTrue(out.contains("Mamori ready at http://127.0.0.1:"), out);
            assertFalse(Files.exists(data.resolve("tls").resolve("server.p12")), "no certificate is made for --http");

            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            String origin = "http://127.0.0.1:" + server.port();
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(origin + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertTrue(health.headers().firstValue("Strict-Transport-Security").isEmpty(),
                    "HSTS over plain HTTP means nothing");
            HttpResponse<String> anon = http.send(HttpRequest.newBuilder(URI.create(origin + "/fhir/Patient")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anon.statusCode(), "plain HTTP still needs a token");

            String token = server.clients().create("http-test", "system/*.*", "test").token();
            HttpResponse<String> created = http.send(HttpRequest.newBuilder(URI.create(origin + "/fhir/Patient"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/fhir+json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Patient\",\"active\":true}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(201, created.statusCode(), created.body());
            assertTrue(created.headers().firstValue("Location").orElse("").startsWith(origin + "/fhir/Patient/"),
                    created.headers().toString());
        }
    }

    @Test
    void helpListsEveryCommandAndUnknownCommandsExit2() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(0, Main.run(List.of("help"), new PrintStream(out), new PrintStream(new ByteArrayOutputStream()),
                Map.of()));
        List<String> missing = new ArrayList<>();
        for (String cmd : List.of("serve", "client create", "client list", "client revoke", "verify-records", "bench")) {
            if (!out.toString().contains(cmd)) {
                missing.add(cmd);
            }
        }
        assertEquals(List.of(), missing);
    }

    /** The downtime kit's options (issue 18 §3, BACKUP-12): every hour into the data folder, 3 kept; 0 is a deviation. */
    @Test
    void downtimeKitOptions() {
        ServerConfig c = parse("--data", "/srv/mamori/data");
        assertEquals(new ServerConfig.DowntimeOptions(60, java.nio.file.Path.of("/srv/mamori/data/downtime-kit"), 3),
                c.downtime());
        assertEquals(new ServerConfig.DowntimeOptions(30, java.nio.file.Path.of("/mnt/downtime-pc"), 5),
                parse("--downtime-minutes", "30", "--downtime-dir", "/mnt/downtime-pc", "--downtime-generations", "5")
                        .downtime());
        assertTrue(parse("--downtime-minutes", "0").deviations().stream().anyMatch(d -> d.contains("no downtime kit")));
        assertTrue(parse("--downtime-minutes", "240").deviations().stream().anyMatch(d -> d.contains("240 minutes")));
        assertTrue(refusal("--downtime-minutes", "-1").contains("--downtime-minutes"));
        assertTrue(refusal("--downtime-generations", "0").contains("--downtime-generations"));
    }
}
