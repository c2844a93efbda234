package jp.mamori.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code mamori node add} (issue 18 §1): the second node's data folder gets the installation's keys, owner-only, and
 * nothing that belongs to one node; an embedded database, a folder that was never started, a folder in use and
 * others' read access are refused with one line each.
 */
class NodeAddTest {
    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(args), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Path firstNode(Path root) throws Exception {
        Path d1 = Files.createDirectories(root.resolve("d1"));
        Path s = Files.createDirectories(d1.resolve("secrets"));
        for (String f : List.of("identity-keys", "audit-signing-key", "downtime-keys", "compliance-document-keys",
                "tls-keystore-password", "bootstrap-secret")) {
            Files.writeString(s.resolve(f), f + " secret\n");
            Files.setPosixFilePermissions(s.resolve(f), PosixFilePermissions.fromString("rw-------"));
        }
        Files.writeString(d1.resolve("audit-verifier-key"), "mamori+abcd+KEY\n");
        Files.writeString(d1.resolve("database.external"), "jdbc:postgresql://db1,db2/mamori\n");
        return d1;
    }

    @Test
    void copiesTheInstallationKeysOwnerOnlyAndNothingOfTheNodeItself() throws Exception {
        Path root = Files.createTempDirectory("node-add");
        Path d1 = firstNode(root);
        Path d2 = root.resolve("d2");
        Run r = run("node", "add", "--from", d1.toString(), "--data", d2.toString());
        assertEquals(0, r.code(), r.err());
        for (String f : List.of("identity-keys", "audit-signing-key", "downtime-keys", "compliance-document-keys")) {
            Path copy = d2.resolve("secrets").resolve(f);
            assertEquals(f + " secret\n", Files.readString(copy));
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy)), f);
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d2.resolve("secrets"))));
        assertEquals("mamori+abcd+KEY\n", Files.readString(d2.resolve("audit-verifier-key")));
        assertTrue(Files.exists(d2.resolve("database.external")));
        assertFalse(Files.exists(d2.resolve("secrets").resolve("tls-keystore-password")), "each node its own TLS");
        assertFalse(Files.exists(d2.resolve("secrets").resolve("bootstrap-secret")), "the bootstrap runs once");
        assertTrue(r.out().contains("serve --data " + d2), r.out());

        Run again = run("node", "add", "--from", d1.toString(), "--data", d2.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("is not empty") && again.err().lines().count() == 1, again.err());
    }

    @Test
    void refusesAnEmbeddedDatabaseAFolderNeverStartedAndKeysOthersCanRead() throws Exception {
        Path root = Files.createTempDirectory("node-add");
        Path d1 = firstNode(root);
        Files.delete(d1.resolve("database.external"));
        Files.createDirectories(d1.resolve("pg"));
        Files.writeString(d1.resolve("pg").resolve("PG_VERSION"), "17\n");
        Run embedded = run("node", "add", "--from", d1.toString(), "--data", root.resolve("d2").toString());
        assertEquals(2, embedded.code());
        assertTrue(embedded.err().contains("embedded") && embedded.err().lines().count() == 1, embedded.err());
        assertFalse(Files.exists(root.resolve("d2")), "nothing written");

        Run never = run("node", "add", "--from", root.resolve("nothing").toString(), "--data",
                root.resolve("d3").toString());
        assertEquals(2, never.code());
        assertTrue(never.err().contains("is not a started Mamori data folder"), never.err());

        Path other = firstNode(Files.createTempDirectory("node-add"));
        Files.setPosixFilePermissions(other.resolve("secrets").resolve("identity-keys"),
                PosixFilePermissions.fromString("rw-r--r--"));
        Run readable = run("node", "add", "--from", other.toString(), "--data", root.resolve("d4").toString());
        assertEquals(2, readable.code());
        assertTrue(readable.err().contains("chmod 600"), readable.err());

        Run inside = run("node", "add", "--from", other.toString(), "--data", other.resolve("sub").toString());
        assertEquals(2, inside.code());
        assertTrue(inside.err().contains("apart from"), inside.err());

        Run help = run("node", "add", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("node add") && help.out().contains("--from"), help.out());
    }
}
