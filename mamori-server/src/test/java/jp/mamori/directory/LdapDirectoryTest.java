package jp.mamori.directory;

import jp.mamori.config.ConfigException;
import jp.mamori.config.DirectoryOptions;
import jp.mamori.config.ServerConfig;
import jp.mamori.testing.TestDirectory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The directory over real LDAP with TLS only (issue 21): LDAPS, StartTLS, and every way it is refused. */
class LdapDirectoryTest {
    private static TestDirectory ldap;

    @BeforeAll
    static void start() {
        ldap = TestDirectory.start();
        ldap.addPerson("tanaka.k", "departmentNumber: 内科");
        ldap.addPerson("suzuki.a", "pwdAccountLockedTime: 000001010000Z");
        ldap.addPerson("sato.m", "userAccountControl: 514");
        ldap.addPerson("ito.y", "nsAccountLock: true");
    }

    @AfterAll
    static void stop() {
        ldap.close();
    }

    private static DirectoryOptions options(String... args) {
        List<String> all = new ArrayList<>(List.of("--data", "target/ldap-test-data"));
        all.addAll(List.of(args));
        return ServerConfig.fromArgs(all, Map.of()).directory();
    }

    private static DirectoryException failure(DirectoryOptions o) {
        return assertThrows(DirectoryException.class, () -> new LdapDirectory(o).read());
    }

    @Test
    void readsEveryPersonOverLdapsWithTheirStableIdAndDisabledFlags() throws Exception {
        List<DirectoryEntry> entries = new LdapDirectory(options(ldap.options("--directory-department-attribute",
                "departmentNumber").toArray(String[]::new))).read();
        assertEquals(4, entries.size(), entries::toString);
        DirectoryEntry tanaka = entries.stream().filter(e -> "tanaka.k".equals(e.login())).findFirst().orElseThrow();
        assertFalse(tanaka.disabled());
        assertEquals(List.of("内科"), tanaka.departments());
        assertTrue(tanaka.entryId().matches("[0-9a-f-]{36}"), "entryUUID: " + tanaka.entryId());
        for (String who : List.of("suzuki.a", "sato.m", "ito.y")) {
            assertTrue(entries.stream().filter(e -> who.equals(e.login())).findFirst().orElseThrow().disabled(), who);
        }
    }

    @Test
    void startTlsOnLdapWorksAndAPlainServerIsRefused() throws Exception {
        List<String> o = new ArrayList<>(ldap.options());
        o.set(1, ldap.startTlsUrl());
        DirectoryOptions startTls = options(o.toArray(String[]::new));
        assertTrue(startTls.startTls());
        assertEquals(4, new LdapDirectory(startTls).read().size());
        o.set(1, ldap.plainUrl());
        DirectoryException e = assertThrows(DirectoryException.class, () -> new LdapDirectory(
                options(o.toArray(String[]::new))).check());
        assertEquals(DirectoryException.Kind.NO_STARTTLS, e.kind());
        assertTrue(e.getMessage().contains("平文の LDAP は使いません / ") && e.getMessage().contains("plain LDAP"),
                e.getMessage());
    }

    @Test
    void serveRefusesToStartOnPlainLdapInOneLine() throws Exception {
        List<String> o = new ArrayList<>(List.of("--data", jp.mamori.testing.TestData.newDatabaseFolder("dir-")
                .toString(), "--port", "0", "--bind", "127.0.0.1", "--no-backup"));
        List<String> d = new ArrayList<>(ldap.options());
        d.set(1, ldap.plainUrl());
        o.addAll(d);
        ServerConfig cfg = ServerConfig.fromArgs(o, Map.of());
        ConfigException e = assertThrows(ConfigException.class, () -> jp.mamori.MamoriServer.start(cfg, Map.of()));
        assertTrue(e.getMessage().contains("StartTLS") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void activeDirectoryEntriesAreKnownByObjectGuidAndSamAccountName() throws Exception {
        try (TestDirectory ad = TestDirectory.start(0, false)) {
            ad.addPerson("x1", "objectClass: user", "sAMAccountName: Tanaka.K", "userAccountControl: 512",
                    "objectGUID:: " + java.util.Base64.getEncoder().encodeToString(new byte[]{1, 2, 3, 4, 5, 6, 7, 8,
                            9, 10, 11, 12, 13, 14, 15, 16}));
            ad.addPerson("x2", "objectClass: user", "sAMAccountName: sato.m", "userAccountControl: 66050",
                    "objectGUID:: " + java.util.Base64.getEncoder().encodeToString(new byte[16]));
            List<DirectoryEntry> entries = new LdapDirectory(options(ad.options("--directory-login-attribute",
                    "sAMAccountName").toArray(String[]::new))).read();
            DirectoryEntry tanaka = entries.stream().filter(e -> "tanaka.k".equals(e.login())).findFirst()
                    .orElseThrow(() -> new AssertionError(entries.toString()));
            assertEquals("guid:0102030405060708090a0b0c0d0e0f10", tanaka.entryId());
            assertFalse(tanaka.disabled());
            assertTrue(entries.stream().filter(e -> "sato.m".equals(e.login())).findFirst().orElseThrow().disabled(),
                    "66050 = 0x10202: ACCOUNTDISABLE set");
        }
    }

    @Test
    void anAnswerCutShortByASizeLimitIsIncomplete() {
        try (TestDirectory limited = TestDirectory.start(2)) {
            for (String uid : List.of("a.one", "b.two", "c.three")) {
                limited.addPerson(uid);
            }
            DirectoryException e = failure(options(limited.options().toArray(String[]::new)));
            assertEquals(DirectoryException.Kind.INCOMPLETE, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("打ち切られました"), e.getMessage());
        }
    }

    @Test
    void aCertificateNotTrustedIsRefused() {
        List<String> o = new ArrayList<>(ldap.options());
        o.set(3, ldap.strangerPem().toString());
        assertEquals(DirectoryException.Kind.TLS, failure(options(o.toArray(String[]::new))).kind());
        o.set(1, ldap.startTlsUrl());
        assertEquals(DirectoryException.Kind.TLS, failure(options(o.toArray(String[]::new))).kind());
        // the JDK's own trust store does not know the test certificate either
        List<String> jdk = new ArrayList<>(ldap.options());
        jdk.subList(2, 4).clear();
        assertEquals(DirectoryException.Kind.TLS, failure(options(jdk.toArray(String[]::new))).kind());
    }

    @Test
    void aWrongPasswordAnUnreachableServerAndAMissingBaseAreFailures() {
        List<String> o = new ArrayList<>(ldap.options());
        o.set(7, ldap.wrongPasswordFile().toString());
        DirectoryException bind = failure(options(o.toArray(String[]::new)));
        assertEquals(DirectoryException.Kind.BIND, bind.kind());
        assertFalse(bind.getMessage().contains(TestDirectory.PASSWORD));
        List<String> gone = new ArrayList<>(ldap.options());
        gone.set(1, "ldaps://localhost:1");
        assertEquals(DirectoryException.Kind.UNREACHABLE, failure(options(gone.toArray(String[]::new))).kind());
        List<String> base = new ArrayList<>(ldap.options());
        base.set(9, "ou=nobody,dc=hospital,dc=jp");
        assertEquals(DirectoryException.Kind.FAILED, failure(options(base.toArray(String[]::new))).kind());
    }

    @Test
    void plainSchemesAndPasswordsOnTheCommandLineAreRefusedAtStart() {
        ConfigException http = assertThrows(ConfigException.class, () -> options("--directory-url",
                "http://localhost:389", "--directory-bind-dn", "cn=x", "--directory-password-file",
                ldap.passwordFile().toString(), "--directory-base", "dc=x"));
        assertTrue(http.getMessage().contains("ldaps://"), http.getMessage());
        assertThrows(ConfigException.class, () -> options("--directory-url", ldap.ldapsUrl(), "--directory-base",
                "dc=x", "--directory-bind-dn", "cn=x"));
        assertThrows(ConfigException.class, () -> options("--directory-password", "secret"));
        assertThrows(ConfigException.class, () -> options(ldap.options("--directory-filter", "objectClass=person")
                .toArray(String[]::new)));
        DirectoryOptions o = options(ldap.options().toArray(String[]::new));
        assertFalse(o.toString().contains(TestDirectory.PASSWORD), o.toString());
        assertEquals(15, o.intervalMinutes());
        assertEquals("uid", o.loginAttribute());
        assertEquals("(objectClass=person)", o.filter());
        assertFalse(options().enabled());
        assertNotEquals(List.of(), options(ldap.options("--directory-interval-minutes", "60").toArray(String[]::new))
                .deviations());
    }
}
