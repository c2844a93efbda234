package jp.mamori.signatures;

import jp.mamori.cli.Main;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestServer;
import jp.mamori.testing.pki.TestPki;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mamori signing-key} and {@code mamori verify-signatures} with bad input: each refusal is one line naming
 * what is wrong, a non-zero exit, no stack trace, and nothing registered.
 */
class SignatureCliTest {
    private static TestServer server;
    private static Path trust;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(List.of());
        trust = TestPki.get().trustDir();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    record Run(int code, String out, String err) {
        String all() {
            return out + err;
        }
    }

    private static Run run(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(List.of(args), o, e, env);
        }
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static String[] add(String... more) {
        List<String> a = new ArrayList<>(List.of("signing-key", "add", "--data", server.dataDir().toString(),
                "--signature-trust-dir", trust.toString()));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    private static void oneLine(Run r, int code, String says) {
        assertEquals(code, r.code(), r.all());
        assertTrue(r.all().contains(says), r.all());
        assertFalse(r.all().contains("Exception") || r.all().contains("\tat "), "no stack trace: " + r.all());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void badInputToSigningKeyAddIsOneLineAndRegistersNothing() throws Exception {
        oneLine(run(Map.of(), add("--pkcs12", "/nonexistent.p12")), 2, "--account");
        oneLine(run(Map.of(), add("--account", "nobody")), 2, "--pkcs12 FILE か --pkcs11");
        oneLine(run(Map.of(), add("--account", "nobody", "--pkcs12", "a.p12", "--pkcs11", "l:t:k")), 2,
                "どちらか一つ");
        oneLine(run(Map.of(), add("--account", "nobody", "--pkcs11", "only-two:parts")), 2, "LIBRARY:TOKEN:KEY");
        Path garbage = Files.write(TestData.newFolder("garbage-").resolveSibling("garbage.p12"),
                new byte[]{1, 2, 3, 4, 5});
        Run notAKey = run(Map.of("MAMORI_SIGNING_PIN", "1234"), add("--account", "nobody", "--pkcs12",
                garbage.toString()));
        assertTrue(notAKey.code() != 0, notAKey.all());
        assertFalse(notAKey.all().contains("\tat "), notAKey.all());
        Path empty = Files.createDirectories(TestData.newFolder("empty-trust-"));
        Run noTrust = run(Map.of(), "signing-key", "add", "--data", server.dataDir().toString(),
                "--signature-trust-dir", empty.toString(), "--account", "x", "--pkcs12", garbage.toString());
        oneLine(noTrust, 2, "信頼する認証局の証明書がありません");
        Run list = run(Map.of(), "signing-key", "list", "--data", server.dataDir().toString());
        assertEquals(0, list.code(), list.all());
        assertTrue(list.out().contains("signing-key: 0 keys"), list.out());
    }

    @Test
    void verifySignaturesRefusesMalformedFiltersAndPassesWithNothingSigned() {
        oneLine(run(Map.of(), "verify-signatures", "--data", server.dataDir().toString(), "--signature-trust-dir",
                trust.toString(), "--document", "Composition/../../etc"), 2, "--document");
        oneLine(run(Map.of(), "verify-signatures", "--data", server.dataDir().toString(), "--signature-trust-dir",
                trust.toString(), "--patient", "'; DROP TABLE x; --"), 2, "--patient");
        Run none = run(Map.of(), "verify-signatures", "--data", server.dataDir().toString(), "--signature-trust-dir",
                trust.toString());
        assertEquals(0, none.code(), none.all());
        assertTrue(none.out().contains("0 signed versions"), none.out());
    }
}
