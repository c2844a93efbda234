package jp.mamori.cli;

import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.db.Secrets;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code mamori node add}: prepares the data folder of another {@code serve} process of the same installation
 * (issue 18 §1, ADR 0013, BACKUP-7). Several processes on one external database are one system: each keeps a data
 * folder of its own (its lock, its TLS certificate, its logs), but the keys that must be the same for the whole
 * installation come from the first node's folder, copied owner-only:
 * <ul>
 *   <li>{@code identity-keys}: the sealer of second factors and recovery secrets, which every process must open;</li>
 *   <li>{@code audit-signing-key} (and the public {@code audit-verifier-key}): the installation is ONE signer of the
 *       audit trail. Every appender seals its groups with this key and the checkpointer signs only groups sealed with
 *       it (ADR 0006), so a second key would make the leader refuse the other process's entries; one key also keeps
 *       the outside verifier's input one verifier key, whichever process signed. The key's name keeps the first
 *       node's host name: it names the installation, not the process;</li>
 *   <li>{@code downtime-keys}: the sealer of the wards' kit passwords, read by whichever process leads the kit;</li>
 *   <li>{@code backup-keys}, {@code seal-pin}, {@code backup-s3-credentials}, when the first node has them;</li>
 *   <li>{@code compliance-document-keys}: the key of the compliance documents (issue 20; their ciphertext is in the database), when it exists.</li>
 * </ul>
 * Not copied: the TLS key store and its password (each node may have its own certificate), the bootstrap secret (the
 * first administrator enrols once, on any node, against the one row in the database), the embedded database's
 * passwords. A folder whose database is embedded is refused: another process cannot reach it.
 */
final class NodeCommands {
    static final String USAGE = """
              node add         --from FIRST-DATA-DIR --data NEW-DATA-DIR
                               prepare the data folder of another serve process on the same external database:
                               copies the installation's keys (owner-only); then serve --data NEW-DATA-DIR --db-url ...
            """;

    /** The secrets the whole installation shares, under {@code <data>/secrets}; the first three are required. */
    static final List<String> SHARED_SECRETS = List.of("identity-keys", "audit-signing-key", "downtime-keys",
            "backup-keys", "seal-pin", "backup-s3-credentials", "compliance-document-keys");
    static final int REQUIRED = 2;
    /** Public or plain files at the data folder's top that name the installation. */
    static final List<String> SHARED_FILES = List.of("audit-verifier-key", "database.external");

    private NodeCommands() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws IOException {
        if (args.isEmpty() || !args.get(0).equals("add")) {
            err.println("mamori node: say add / node add と指定してください");
            err.print(USAGE);
            return 2;
        }
        Args a = Args.parse(args.subList(1, args.size()), List.of("--from", "--data"), List.of());
        Path from = Path.of(a.required("--from")).toAbsolutePath().normalize();
        Path to = Path.of(a.required("--data")).toAbsolutePath().normalize();
        List<String> copied = add(from, to);
        out.println("Prepared " + to + " as another node of the installation in " + from + " / 同じシステムの別ノードの"
                + "データフォルダを作成しました");
        out.println("Copied (owner-only): " + String.join(", ", copied));
        out.println("Start it on the same database as the first node, with the same MAMORI_DB_APP_PASSWORD:");
        out.println("  ./mamori serve --data " + to + " --db-url URL --db-user USER   (see docs/continuity.md)");
        return 0;
    }

    /** Copies the installation's secrets from {@code from} into the new folder {@code to}; returns what was copied. */
    static List<String> add(Path from, Path to) throws IOException {
        Path secrets = from.resolve("secrets");
        for (String required : SHARED_SECRETS.subList(0, REQUIRED)) {
            if (!Files.isRegularFile(secrets.resolve(required))) {
                throw new ConfigException(from + " は Mamori のデータフォルダではありません（" + required + " がありません）"
                        + " / " + from + " is not a started Mamori data folder (no secrets/" + required
                        + "): start the first node once, then add this one");
            }
        }
        if (Files.exists(from.resolve("pg").resolve("PG_VERSION"))
                && !Files.exists(from.resolve("database.external"))) {
            throw new ConfigException(from + " のデータベースは組み込み型で、他のプロセスからは使えません。先に外部の PostgreSQL"
                    + " へ移してください / the database of " + from + " is embedded in that folder and cannot be shared:"
                    + " move it to an external PostgreSQL first (backup restore ... --to-db-url), see docs/continuity.md");
        }
        if (to.equals(from) || to.startsWith(from) || from.startsWith(to)) {
            throw new ConfigException("--data は --from と別のフォルダにしてください / --data must be a folder apart from"
                    + " --from (each process has a data folder of its own)");
        }
        if (Files.exists(to)) {
            try (var s = Files.list(to)) {
                if (s.findAny().isPresent()) {
                    throw new ConfigException(to + " は空ではありません / " + to + " is not empty: give a new folder");
                }
            }
        }
        Path targetSecrets = to.resolve("secrets");
        Files.createDirectories(to);
        ownerOnlyFolder(to);
        List<String> copied = new ArrayList<>();
        for (String name : SHARED_SECRETS) {
            Path src = secrets.resolve(name);
            if (Files.isRegularFile(src)) {
                if (!Secrets.ownerOnly(src)) {
                    throw new ConfigException(src + " は所有者以外も読めます（chmod 600 にしてください） / " + src
                            + " is readable by others: chmod 600 it before copying");
                }
                Secrets.writeOwnerOnly(targetSecrets.resolve(name), Files.readString(src));
                copied.add("secrets/" + name);
            }
        }
        for (String name : SHARED_FILES) {
            Path src = from.resolve(name);
            if (Files.isRegularFile(src)) {
                Files.copy(src, to.resolve(name));
                copied.add(name);
            }
        }
        return copied;
    }

    private static void ownerOnlyFolder(Path p) throws IOException {
        try {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException ignored) {
            // Not a POSIX file system: rely on the folder's ACLs.
        }
    }
}
