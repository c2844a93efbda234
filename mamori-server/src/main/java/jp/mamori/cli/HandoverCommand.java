package jp.mamori.cli;

import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.bulk.Handover;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * {@code mamori handover export|verify|import DIR} (issue 23; DISPOSAL-7): the contract-end hand-over of the whole
 * record store as NDJSON with a signed manifest, its verification (signature, every file's hash, missing and extra
 * files), and its import into a fresh Mamori. Exit 0 when all is well, 1 when verification found a problem or the import
 * refused a resource, 2 for a usage error.
 */
final class HandoverCommand {
    static final String USAGE = """
              handover export  DIR --data DATA [--max-file-bytes N (67108864)]   every current record as NDJSON
                               with a manifest of SHA-256 hashes signed by the installation's hand-over key
              handover verify  DIR [--key PUBFILE]   the signature, every file's hash, missing and extra files
              handover import  DIR --data DATA [--key PUBFILE]   a verified hand-over into this (fresh) Mamori
            """;
    private static final List<String> COMMON = List.of("--data", "--db-url", "--db-user", "--db-password");

    private HandoverCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws Exception {
        if (args.size() < 2 || !List.of("export", "verify", "import").contains(args.get(0))
                || args.get(1).startsWith("-")) {
            err.println("mamori handover: export DIR、verify DIR、import DIR のいずれかを指定してください / say export DIR,"
                    + " verify DIR or import DIR");
            err.print(USAGE);
            return 2;
        }
        String what = args.get(0);
        Path dir = Path.of(args.get(1));
        List<String> names = new ArrayList<>(COMMON);
        names.add("--max-file-bytes");
        names.add("--key");
        Args a = Args.parse(args.subList(2, args.size()), names, List.of());
        PublicKey trusted = a.value("--key").isPresent() ? publicKey(Path.of(a.value("--key").get())) : null;
        if (what.equals("verify")) {
            Handover.Verification v = Handover.verify(dir, trusted);
            for (String p : v.problems()) {
                out.println("NG\t" + p);
            }
            out.println((v.ok() ? "OK: 署名とすべてのファイルのハッシュが一致しました / the signature and every file's hash"
                    + " match" : "NG: " + v.problems().size() + " 件の問題 / problems") + " (" + v.entries().size()
                    + " files, manifest sha256 " + v.manifestSha256() + ", key " + v.keyFingerprint() + ")");
            return v.ok() ? 0 : 1;
        }
        long max = 64L * 1024 * 1024;
        if (a.value("--max-file-bytes").isPresent()) {
            try {
                max = Long.parseLong(a.value("--max-file-bytes").get());
            } catch (NumberFormatException e) {
                max = -1;
            }
            if (max < 1024 || max > 1L << 30) {
                throw new ConfigException("--max-file-bytes は 1024〜1073741824 の整数です / --max-file-bytes must be a"
                        + " whole number from 1024 to 1073741824");
            }
        }
        if (what.equals("import") && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new ConfigException("取り込むフォルダがありません / no folder at " + dir);
        }
        try (Main.Opened opened = Main.Opened.open(a, env);
             AuditTrail trail = Audit.toolTrail(opened.db.dataSource(), opened.dataDir)) {
            Handover h = new Handover(opened.db.dataSource(), new AuditRecorder(trail), opened.dataDir);
            if (what.equals("export")) {
                Handover.Summary s = h.export(dir, max, Main.tool("handover-export", "handover export"));
                out.println("handover export: " + s.text());
                return 0;
            }
            int[] refused = {0};
            Handover.Summary s = h.importFrom(dir, trusted, Main.tool("handover-import", "handover import"), line -> {
                refused[0]++;
                out.println(line);
            });
            out.println("handover import: " + s.text() + (refused[0] == 0 ? "" : "; " + refused[0] + " refused"));
            return refused[0] == 0 ? 0 : 1;
        }
    }

    private static PublicKey publicKey(Path f) {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(Base64.getDecoder()
                    .decode(Files.readString(f, StandardCharsets.US_ASCII).trim())));
        } catch (Exception e) {
            throw new ConfigException("--key は signing-key.pub と同じ形式の Ed25519 公開鍵です / --key must be an Ed25519"
                    + " public key as in " + Handover.PUBLIC_KEY + ": " + f);
        }
    }
}
