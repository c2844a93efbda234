package jp.mamori.identity.web;

import jp.mamori.cli.Main;
import jp.mamori.testing.pki.TestPki;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What the console's signing tests share (issue 17): the server options that trust the test PKI's root and use its
 * TSA, and the command line as an administrator runs it ({@code signing-key add}, {@code verify-signatures}).
 */
final class SigningSetup {

    private SigningSetup() {
    }

    record Cli(int code, String out) {
    }

    static Cli cli(Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            code = Main.run(List.of(args), o, o, env);
        }
        return new Cli(code, out.toString(StandardCharsets.UTF_8));
    }

    /** The folder holding the test PKI's root as PEM (made once per JVM). */
    static Path trustDir() {
        return TestPki.get().trustDir();
    }

    /** {@code --signature-trust-dir} (the test root) and {@code --signature-tsa-url} (the test TSA). */
    static List<String> options() throws Exception {
        return List.of("--signature-trust-dir", trustDir().toString(), "--signature-tsa-url",
                TestPki.get().tsaUrl().toString());
    }

    /** {@code mamori signing-key add --account LOGIN KEY...} with the PIN in MAMORI_SIGNING_PIN (none when null). */
    static Cli addKey(Hospital h, String login, String pin, String... key) throws Exception {
        List<String> args = new ArrayList<>(List.of("signing-key", "add", "--data", h.server.dataDir().toString(),
                "--account", login));
        args.addAll(List.of(key));
        args.addAll(options());
        return cli(pin == null ? Map.of() : Map.of("MAMORI_SIGNING_PIN", pin), args.toArray(String[]::new));
    }

    static Cli verifySignatures(Hospital h, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("verify-signatures", "--data", h.server.dataDir().toString()));
        args.addAll(options());
        args.addAll(List.of(more));
        return cli(Map.of(), args.toArray(String[]::new));
    }
}
