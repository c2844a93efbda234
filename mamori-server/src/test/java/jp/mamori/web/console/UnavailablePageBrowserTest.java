package jp.mamori.web.console;

import jp.mamori.testing.Browser;
import jp.mamori.testing.DebianPostgres;
import jp.mamori.testing.PackagedJar;
import jp.mamori.testing.ServeProcess;
import jp.mamori.testing.TcpProxy;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a person sees when the database cannot be reached (issue 18 §1: a failover or a cut network): in Chromium at
 * 1280, 768 and 390 px (screenshots target/screenshots/unavailable-*.png), a Japanese-first page that says to wait a
 * few seconds, go back and send again, with no stack trace or code; the page never scrolls sideways.
 */
class UnavailablePageBrowserTest {
    private static final String OWNER_PASSWORD = "owner-" + UUID.randomUUID();

    @Test
    void aPersonMeetingALostDatabaseIsToldToSendAgainInAFewSeconds() throws Exception {
        Browser.assumeAvailable();
        DebianPostgres.assumeAvailable();
        PackagedJar pj = new PackagedJar("unavailable");
        try (DebianPostgres pg = DebianPostgres.start(Map.of()); TcpProxy proxy = TcpProxy.to(pg.port())) {
            pg.createOwner("mamori_owner", OWNER_PASSWORD, "mamori");
            List<String> args = List.of("--http", "--db-url", "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/mamori",
                    "--db-user", "mamori_owner", "--db-password", OWNER_PASSWORD);
            try (ServeProcess m = ServeProcess.start(pj, "m", pj.data, args,
                    Map.of("MAMORI_DB_APP_PASSWORD", "app-" + UUID.randomUUID()));
                 Browser b = Browser.start(m.origin())) {
                b.open("/console/login");
                proxy.cut();
                b.open("/console/login"); // asks the database whether the first administrator is enrolled yet
                String text = b.text();
                assertTrue(text.contains("しばらくしてから再送してください"), text);
                assertTrue(text.contains("ブラウザの「戻る」"), text);
                assertFalse(text.contains("Exception") || text.contains("SQL") || text.contains("jp.mamori"), text);
                jp.mamori.testing.Screens.check(b, "unavailable");
                proxy.restore();
            }
        }
    }
}
