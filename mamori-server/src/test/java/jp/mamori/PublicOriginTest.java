package jp.mamori;

import jp.mamori.config.ServerConfig;
import jp.mamori.web.Tls;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The origin absolute URLs and the token audience use comes from the configuration alone. */
class PublicOriginTest {
    private static String origin(String... args) {
        return MamoriServer.publicOrigin(ServerConfig.fromArgs(List.of(args), Map.of()), "https", 8443);
    }

    @Test
    void publicUrlElseTheListenersAddressElseThisMachinesName() {
        assertEquals("https://mamori.example.jp", origin("--public-url", "https://mamori.example.jp/"));
        assertEquals("https://127.0.0.1:8443", origin("--bind", "127.0.0.1"));
        assertEquals("https://[::1]:8443", origin("--bind", "::1"));
        assertEquals("https://" + Tls.hostName() + ":8443", origin());
        assertEquals("https://" + Tls.hostName() + ":8443", origin("--bind", "::"));
    }
}
