package jp.mamori.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.AuthProvider;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Security;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's SoftHSM2 as a real PKCS#11 token for the tests (AUTH-7, SIGN-6). The build gives every test JVM one
 * {@code SOFTHSM2_CONF} in the build folder, and the library reads its token folder once, when a JVM first uses it: a
 * token made afterwards (by softhsm2-util, another process) stays invisible to that JVM. And each JVM has its own test
 * PKI, whose CA certificates a shared token would mix up (the key store finds a chain by the issuer's name). So each
 * test JVM has its own token, {@link #TOKEN}, made before this JVM first uses the library; each test class stores its
 * own keys on it under its own labels. Tokens of test JVMs that have ended are deleted (under a file lock, as the test
 * JVMs run at once). Skipped without SoftHSM2 unless {@code -Dmamori.requireSoftHsm=true} (CI installs softhsm2).
 */
public final class SoftHsm {
    public static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
    /** This JVM's token's label and its user PIN. */
    public static final String TOKEN = "mamori-test-" + ProcessHandle.current().pid();
    public static final String PIN = "246810";
    private static final Path UTIL = Path.of("/usr/bin/softhsm2-util");
    private static final String SO_PIN = "13579111";

    private SoftHsm() {
    }

    /** Skips the calling test class when SoftHSM2 is missing, or fails it under -Dmamori.requireSoftHsm=true. */
    public static void assumeAvailable() {
        String conf = System.getenv("SOFTHSM2_CONF");
        String why = !Files.isRegularFile(LIBRARY) || !Files.isExecutable(UTIL)
                ? "SoftHSM2 is not installed (apt-get install softhsm2)"
                : conf == null ? "SOFTHSM2_CONF is not set for this JVM (the build sets it)" : null;
        if (why != null && Boolean.getBoolean("mamori.requireSoftHsm")) {
            Assertions.fail(why + " (-Dmamori.requireSoftHsm=true, so it may not be skipped)");
        }
        Assumptions.assumeTrue(why == null, why + "; skipped");
    }

    /** The slot id of {@link #TOKEN}, made first if this JVM has none yet. */
    public static synchronized long token() throws Exception {
        Path conf = Path.of(System.getenv("SOFTHSM2_CONF"));
        Path tokens = conf.resolveSibling("tokens");
        Files.createDirectories(tokens);
        try (FileChannel lock = FileChannel.open(conf.resolveSibling("softhsm2.lock"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE); FileLock held = lock.lock()) {
            String text = "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n";
            if (!Files.isRegularFile(conf) || !Files.readString(conf).equals(text)) {
                Path tmp = Files.createTempFile(conf.getParent(), "softhsm2", ".conf");
                Files.writeString(tmp, text);
                Files.move(tmp, conf, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            for (String label : labels()) {
                if (label.startsWith("mamori-test-") && !label.equals(TOKEN) && !alive(label)) {
                    util("--delete-token", "--token", label);
                }
            }
            if (slot(TOKEN) < 0) {
                String out = util("--init-token", "--free", "--label", TOKEN, "--pin", PIN, "--so-pin", SO_PIN);
                Assertions.assertTrue(out.contains("has been initialized"), out);
            }
            long slot = slot(TOKEN);
            Assertions.assertTrue(slot >= 0, "no slot shows the token " + TOKEN);
            return slot;
        }
    }

    private static List<String> labels() throws Exception {
        List<String> out = new java.util.ArrayList<>();
        for (String line : util("--show-slots").split("\n")) {
            if (line.strip().startsWith("Label:")) {
                out.add(line.strip().substring(6).strip());
            }
        }
        return out;
    }

    /** Whether the test JVM that made the token still runs (a label not ours is taken as alive). */
    private static boolean alive(String label) {
        try {
            return ProcessHandle.of(Long.parseLong(label.substring("mamori-test-".length()))).map(ProcessHandle::isAlive)
                    .orElse(false);
        } catch (NumberFormatException e) {
            return true;
        }
    }

    /** The slot id of the token labelled {@code label}, as softhsm2-util shows it; -1 when there is none. */
    static long slot(String label) throws Exception {
        long slot = -1;
        for (String line : util("--show-slots").split("\n")) {
            if (line.startsWith("Slot ")) {
                slot = Long.parseLong(line.substring(5).strip());
            } else if (line.strip().startsWith("Label:") && line.strip().substring(6).strip().equals(label)) {
                return slot;
            }
        }
        return -1;
    }

    /**
     * Stores a key and its chain on the token under {@code keyLabel}, as a card issuer would, replacing a key an
     * earlier run stored under that label.
     */
    public static void store(String keyLabel, PrivateKey key, List<X509Certificate> chain) throws Exception {
        Provider p11 = Security.getProvider("SunPKCS11").configure("--name=mamori-import-" + keyLabel + "\nlibrary="
                + LIBRARY + "\nslot=" + token());
        KeyStore ks = KeyStore.getInstance("PKCS11", p11);
        ks.load(null, PIN.toCharArray());
        if (ks.containsAlias(keyLabel)) {
            ks.deleteEntry(keyLabel);
        }
        ks.setKeyEntry(keyLabel, key, null, chain.toArray(new X509Certificate[0]));
        ((AuthProvider) p11).logout();
    }

    private static String util(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(UTIL.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Assertions.assertTrue(p.waitFor(30, TimeUnit.SECONDS), "softhsm2-util did not end");
        Assertions.assertEquals(0, p.exitValue(), out);
        return out;
    }
}
