package jp.mamori.testing;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;
import com.unboundid.ldap.sdk.Attribute;
import com.unboundid.ldap.sdk.LDAPException;
import com.unboundid.ldap.sdk.Modification;
import com.unboundid.ldap.sdk.ModificationType;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;

/**
 * A real LDAP directory for tests (issue 21): UnboundID's in-memory directory server with an LDAPS listener, an LDAP
 * listener that offers StartTLS, and a plain listener that does not, all on loopback with a certificate made here for
 * {@code localhost}. {@link #trustPem()} trusts it; {@link #strangerPem()} is another certificate that does not.
 */
public final class TestDirectory implements AutoCloseable {
    public static final String BASE = "ou=people,dc=hospital,dc=jp";
    public static final String BIND_DN = "cn=mamori,dc=hospital,dc=jp";
    public static final String PASSWORD = "directory-secret-21";

    private final InMemoryDirectoryServer server;
    private final Path dir;

    private TestDirectory(InMemoryDirectoryServer server, Path dir) {
        this.server = server;
        this.dir = dir;
    }

    public static TestDirectory start() {
        return start(0);
    }

    /** The same with a server-side size limit ({@code 0}: none), as AD's MaxPageSize or an OpenLDAP limit. */
    public static TestDirectory start(int maxSizeLimit) {
        return start(maxSizeLimit, true);
    }

    /**
     * @param entryUuid whether the server gives each entry an {@code entryUUID} (OpenLDAP does; AD does not, its
     *                  entries carry {@code objectGUID} as the test adds it)
     */
    public static TestDirectory start(int maxSizeLimit, boolean entryUuid) {
        try {
            Path dir = Files.createTempDirectory("mamori-ldap");
            KeyPair kp = ecKey();
            X509Certificate cert = selfSigned(kp, "CN=ldap.hospital.example.jp");
            Files.writeString(dir.resolve("ca.pem"), pem(cert));
            KeyPair other = ecKey();
            Files.writeString(dir.resolve("stranger.pem"), pem(selfSigned(other, "CN=someone-else.example.jp")));
            Files.writeString(dir.resolve("password"), PASSWORD + "\n");
            Files.writeString(dir.resolve("wrong-password"), "not-the-password\n");
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("ldap", kp.getPrivate(), "pw".toCharArray(), new X509Certificate[]{cert});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, "pw".toCharArray());
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), null, null);
            InMemoryDirectoryServerConfig cfg = new InMemoryDirectoryServerConfig("dc=hospital,dc=jp");
            cfg.setSchema(null); // AD's attributes (sAMAccountName, userAccountControl, objectGUID) as well
            cfg.addAdditionalBindCredentials(BIND_DN, PASSWORD);
            cfg.setMaxSizeLimit(maxSizeLimit);
            cfg.setGenerateOperationalAttributes(entryUuid);
            InetAddress lo = InetAddress.getLoopbackAddress();
            cfg.setListenerConfigs(
                    InMemoryListenerConfig.createLDAPSConfig("ldaps", lo, 0, ctx.getServerSocketFactory(), null),
                    InMemoryListenerConfig.createLDAPConfig("starttls", lo, 0, ctx.getSocketFactory()),
                    InMemoryListenerConfig.createLDAPConfig("plain", lo, 0, null));
            InMemoryDirectoryServer s = new InMemoryDirectoryServer(cfg);
            s.add("dn: dc=hospital,dc=jp", "objectClass: top", "objectClass: domain", "dc: hospital");
            s.add("dn: " + BASE, "objectClass: top", "objectClass: organizationalUnit", "ou: people");
            s.startListening();
            return new TestDirectory(s, dir);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static KeyPair ecKey() throws Exception {
        KeyPairGenerator kpg = KeyPairGenerator.getInstance("EC");
        kpg.initialize(new ECGenParameterSpec("secp256r1"));
        return kpg.generateKeyPair();
    }

    private static X509Certificate selfSigned(KeyPair kp, String dn) throws Exception {
        X500Name name = new X500Name(dn);
        Instant now = Instant.now();
        var b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new SecureRandom()),
                Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(Duration.ofDays(1))), name,
                kp.getPublic());
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA")
                .build(kp.getPrivate())));
    }

    private static String pem(X509Certificate c) throws Exception {
        return "-----BEGIN CERTIFICATE-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(c.getEncoded()) + "\n-----END CERTIFICATE-----\n";
    }

    public Path trustPem() {
        return dir.resolve("ca.pem");
    }

    public Path strangerPem() {
        return dir.resolve("stranger.pem");
    }

    public Path passwordFile() {
        return dir.resolve("password");
    }

    public Path wrongPasswordFile() {
        return dir.resolve("wrong-password");
    }

    public String ldapsUrl() {
        return "ldaps://localhost:" + server.getListenPort("ldaps");
    }

    public String startTlsUrl() {
        return "ldap://localhost:" + server.getListenPort("starttls");
    }

    public String plainUrl() {
        return "ldap://localhost:" + server.getListenPort("plain");
    }

    /** The {@code --directory-*} options of {@code serve} for this directory over LDAPS, then {@code extra}. */
    public List<String> options(String... extra) {
        List<String> out = new ArrayList<>(List.of("--directory-url", ldapsUrl(), "--directory-ca",
                trustPem().toString(), "--directory-bind-dn", BIND_DN, "--directory-password-file",
                passwordFile().toString(), "--directory-base", BASE));
        out.addAll(List.of(extra));
        return out;
    }

    /** An OpenLDAP-style person: {@code uid}, with {@code attrs} as "name: value" lines. Returns the DN. */
    public String addPerson(String uid, String... attrs) {
        String dn = "uid=" + uid + "," + BASE;
        List<String> ldif = new ArrayList<>(List.of("dn: " + dn, "objectClass: top", "objectClass: person",
                "objectClass: inetOrgPerson", "uid: " + uid, "cn: " + uid, "sn: " + uid));
        ldif.addAll(List.of(attrs));
        try {
            server.add(ldif.toArray(String[]::new));
        } catch (LDAPException | com.unboundid.ldif.LDIFException e) {
            throw new IllegalStateException(e);
        }
        return dn;
    }

    public void delete(String dn) {
        try {
            server.delete(dn);
        } catch (LDAPException e) {
            throw new IllegalStateException(e);
        }
    }

    public void replace(String dn, String attribute, String... values) {
        try {
            server.modify(dn, new Modification(ModificationType.REPLACE, attribute, values));
        } catch (LDAPException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Renames the entry (a new RDN, the login attribute unchanged); returns the new DN. */
    public String rename(String dn, String newRdn) {
        try {
            server.modifyDN(dn, newRdn, true);
        } catch (LDAPException e) {
            throw new IllegalStateException(e);
        }
        return newRdn + "," + BASE;
    }

    public String attribute(String dn, String name) {
        try {
            Attribute a = server.getEntry(dn, name).getAttribute(name);
            return a == null ? null : a.getValue();
        } catch (LDAPException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        server.shutDown(true);
    }
}
