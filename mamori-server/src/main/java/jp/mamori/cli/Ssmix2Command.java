package jp.mamori.cli;

import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.ssmix2.Ssmix2;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code mamori ssmix2 import DIR --data D} and {@code mamori ssmix2 export DIR --data D} (issue 23; STORE-2): an
 * SS-MIX2 standardized storage tree into Mamori, or Mamori's records out as one. One report line per file on stdout
 * (outcome, file, segment and field, reason; tab-separated), the summary last. Exit 0 when nothing was refused, 1 when
 * some file was refused (the others were imported), 2 for a usage error.
 */
final class Ssmix2Command {
    static final String USAGE = """
              ssmix2 import    DIR --data DATA [--max-file-bytes N (4194304)] [--quiet]
                               an SS-MIX2 standardized storage tree into Mamori (ADT-00, ADT-61, OMP-01, OMP-02,
                               OML-11), one message per transaction, idempotent; a line per file; exit 1 if any refused
              ssmix2 export    DIR --data DATA [--quiet]   patients, allergies, orders and lab results as an SS-MIX2
                               tree in ISO-2022-JP, into a new or empty folder
            """;
    private static final List<String> COMMON = List.of("--data", "--db-url", "--db-user", "--db-password");

    private Ssmix2Command() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws Exception {
        if (args.size() < 2 || !(args.get(0).equals("import") || args.get(0).equals("export"))
                || args.get(1).startsWith("-")) {
            err.println("mamori ssmix2: import DIR または export DIR を指定してください / say import DIR or export DIR");
            err.print(USAGE);
            return 2;
        }
        boolean importing = args.get(0).equals("import");
        Path dir = Path.of(args.get(1));
        List<String> names = new ArrayList<>(COMMON);
        names.add("--max-file-bytes");
        Args a = Args.parse(args.subList(2, args.size()), names, List.of("--quiet"));
        boolean quiet = a.flag("--quiet");
        long max = Ssmix2.DEFAULT_MAX_FILE_BYTES;
        if (a.value("--max-file-bytes").isPresent()) {
            try {
                max = Long.parseLong(a.value("--max-file-bytes").get());
            } catch (NumberFormatException e) {
                max = -1;
            }
            if (max < 1 || max > 256L * 1024 * 1024) {
                throw new ConfigException("--max-file-bytes は 1〜268435456 の整数です / --max-file-bytes must be a whole"
                        + " number from 1 to 268435456");
            }
        }
        if (importing && !Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new ConfigException("取り込むフォルダがありません / no folder at " + dir
                    + " (a symbolic link is not followed)");
        }
        try (Main.Opened opened = Main.Opened.open(a, env);
             AuditTrail trail = Audit.toolTrail(opened.db.dataSource(), opened.dataDir)) {
            Ssmix2 ssmix2 = new Ssmix2(opened.db.dataSource(), new AuditRecorder(trail));
            Ssmix2.Summary s = importing
                    ? ssmix2.importTree(dir, max, Main.tool("ssmix2-import", "ssmix2 import"), line -> {
                        if (!quiet || line.outcome() == Ssmix2.Outcome.REFUSED) {
                            out.println(line.text());
                        }
                    })
                    : ssmix2.exportTree(dir, Main.tool("ssmix2-export", "ssmix2 export"), line -> {
                        if (!quiet || line.outcome() == Ssmix2.Outcome.REFUSED) {
                            out.println(line.text());
                        }
                    });
            out.println(importing ? "ssmix2 import: " + s.text() : "ssmix2 export: " + s.exportText());
            return s.refused() == 0 ? 0 : 1;
        }
    }
}
