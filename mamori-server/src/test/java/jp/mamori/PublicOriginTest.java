package jp.mamori;

import jp.mamori.config.ServerConfig;
import jp.mamori.web.Tls;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void theConsoleAlsoAcceptsThisMachinesAddressesAsLiteralsTheWayBrowsersWriteThem() {
        assertEquals(List.of("https://10.0.0.5:8443"), MamoriServer.addressOrigins("10.0.0.5", "https", 8443));
        assertEquals(List.of("https://[::1]:8443"), MamoriServer.addressOrigins("::1", "https", 8443));
        List<String> all = MamoriServer.addressOrigins("0.0.0.0", "https", 8443);
        assertTrue(all.contains("https://127.0.0.1:8443"), all.toString());
        assertEquals("fe80::1", MamoriServer.rfc5952("fe80:0:0:0:0:0:0:1"));
        assertEquals("2001:db8::1:0:0:1", MamoriServer.rfc5952("2001:db8:0:0:1:0:0:1"));
        assertEquals("2001:db8:0:1:1:1:1:1", MamoriServer.rfc5952("2001:db8:0:1:1:1:1:1"));
        assertEquals("::", MamoriServer.rfc5952("0:0:0:0:0:0:0:0"));
    }
}
