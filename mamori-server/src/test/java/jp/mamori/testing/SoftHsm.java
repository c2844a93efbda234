package jp.mamori.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * {@code SOFTHSM2_CONF} in the build folder (the library reads it once per JVM), so the test JVMs running at once share
 * one token folder: each test class initialises only its own token, by its own label, and never clears the folder.
 * Skipped without SoftHSM2 unless {@code -Dmamori.requireSoftHsm=true} (CI installs softhsm2).
 */
public final class SoftHsm {
    public static final Path LIBRARY = Path.of("/usr/lib/softhsm/libsofthsm2.so");
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

    /**
     * A fresh token labelled {@code label} with the user PIN {@code pin}: one left by an earlier run under that label
     * is deleted first; the other tokens in the folder are left alone. Returns the token's slot id.
     */
    public static synchronized long initToken(String label, char[] pin) throws Exception {
        Path conf = Path.of(System.getenv("SOFTHSM2_CONF"));
        Path tokens = conf.resolveSibling("tokens");
        Files.createDirectories(tokens);
        String text = "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n";
        if (!Files.isRegularFile(conf) || !Files.readString(conf).equals(text)) {
            // replaced whole, so a JVM starting beside this one never reads half a file
            Path tmp = Files.createTempFile(conf.getParent(), "softhsm2", ".conf");
            Files.writeString(tmp, text);
            Files.move(tmp, conf, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
        if (slot(label) >= 0) {
            util("--delete-token", "--token", label);
        }
        String out = util("--init-token", "--free", "--label", label, "--pin", new String(pin), "--so-pin", SO_PIN);
        Assertions.assertTrue(out.contains("has been initialized"), out);
        long slot = slot(label);
        Assertions.assertTrue(slot >= 0, () -> "no slot shows the token " + label);
        return slot;
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

    /** Stores a key and its chain on the token in {@code slot} under {@code keyLabel}, as a card issuer would. */
    public static void store(long slot, char[] pin, String keyLabel, PrivateKey key, List<X509Certificate> chain)
            throws Exception {
        Provider p11 = Security.getProvider("SunPKCS11").configure("--name=mamori-import-" + keyLabel + "\nlibrary="
                + LIBRARY + "\nslot=" + slot);
        KeyStore ks = KeyStore.getInstance("PKCS11", p11);
        ks.load(null, pin);
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
