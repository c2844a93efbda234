package jp.mamori.cli;

import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.audit.Outcome;
import jp.mamori.chart.JpDates;
import jp.mamori.compliance.Advisories;
import jp.mamori.compliance.Sbom;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code mamori advisories}: vulnerability advisories carried over as a file (OSV or CycloneDX VEX JSON) for a server
 * without internet, matched against the build's SBOM (VULN-2, VULN-6). Each import is an audit entry
 * ({@code advisory.import}) with the OS user who ran it, as the other tools record theirs.
 */
final class AdvisoryCommands {
    static final String USAGE = """
              advisories import --data DIR FILE   import vulnerability advisories (OSV JSON: one, a list or
                               {"vulns": [...]}; or CycloneDX VEX JSON; at most 8 MiB) and match them against this
                               build's SBOM; recorded in the audit trail with the OS user
              advisories list  --data DIR   the imports, and each advisory that affects a component of this build
                               (open, or closed by a VEX statement not_affected / fixed)
              sbom             the SBOM of this build (CycloneDX JSON, also in the jar as META-INF/sbom/bom.json)
            """;
    private static final List<String> COMMON = List.of("--data", "--db-url", "--db-user", "--db-password");

    private AdvisoryCommands() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws Exception {
        if (args.isEmpty()) {
            err.println("mamori advisories: say import or list / import か list を指定してください");
            return 2;
        }
        String sub = args.get(0);
        List<String> rest = args.subList(1, args.size());
        return switch (sub) {
            case "import" -> importFile(rest, out, err, env);
            case "list" -> list(Args.parse(rest, List.of("--data"), List.of()), out, env);
            default -> {
                err.println("mamori advisories: unknown subcommand '" + sub + "'; say import or list"
                        + " / 不明なサブコマンドです");
                yield 2;
            }
        };
    }

    private static int importFile(List<String> args, PrintStream out, PrintStream err, Map<String, String> env)
            throws Exception {
        List<String> options = new ArrayList<>(args);
        String file = null;
        if (!options.isEmpty()) {
            String last = options.get(options.size() - 1);
            boolean valueOfOption = options.size() >= 2 && COMMON.contains(options.get(options.size() - 2));
            if (!last.startsWith("-") && !valueOfOption) {
                file = last;
                options.remove(options.size() - 1);
            }
        }
        Args a = Args.parse(options, COMMON, List.of());
        if (file == null) {
            throw new ConfigException("取り込むファイルを指定してください / name the file to import:"
                    + " mamori advisories import --data DIR FILE");
        }
        Optional<Sbom> sbom = Sbom.bundled();
        if (sbom.isEmpty()) {
            throw new ConfigException("このビルドには SBOM がありません / this build has no SBOM (build it with ./mvnw"
                    + " package, online once)");
        }
        try {
            Advisories.check(Path.of(file)); // refused before the database is opened
        } catch (Advisories.Refused e) {
            err.println("mamori advisories import: " + file + ": " + e.getMessage());
            return 2;
        }
        Path dataDir = Main.serveConfig(a, List.of("--data"), env).dataDir();
        Advisories advisories = new Advisories(dataDir, sbom, Clock.systemUTC());
        String by = "cli:" + System.getProperty("user.name", "unknown");
        try (Main.Opened o = Main.Opened.open(a, env);
             AuditTrail trail = Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
            Map.Entry<Advisories.Imported, Boolean> r;
            try {
                r = advisories.importFile(Path.of(file), by);
            } catch (Advisories.Refused e) {
                err.println("mamori advisories import: " + file + ": " + e.getMessage());
                return 2;
            }
            Advisories.Imported i = r.getKey();
            List<Advisories.Match> matches = advisories.matches();
            long open = matches.stream().filter(Advisories.Match::open).count();
            if (r.getValue()) {
                new AuditRecorder(trail).system("advisories import", AuditAction.ADVISORY_IMPORT, Outcome.SUCCESS,
                        Map.of("file", i.name(), "sha256", i.sha256(), "kind", i.kind(), "advisories",
                                String.valueOf(i.advisories()), "open", String.valueOf(open), "by", by));
                out.println("取り込みました / imported: " + i.name() + " (" + i.kind() + ", " + i.advisories()
                        + " advisories, SHA-256 " + i.sha256().substring(0, 16) + "…)");
            } else {
                out.println("取り込み済みです / already imported on " + JpDates.tokyo().dateTimeWithZone(i.at(),
                        JpDates.Lang.JA) + ": " + i.name());
            }
            out.println("このビルドで未対応 " + open + " 件 / open for this build: " + open
                    + " (mamori advisories list)");
        }
        return 0;
    }

    private static int list(Args a, PrintStream out, Map<String, String> env) throws Exception {
        Path dataDir = Main.serveConfig(a, List.of("--data"), env).dataDir();
        Advisories advisories = new Advisories(dataDir, Sbom.bundled(), Clock.systemUTC());
        JpDates dates = JpDates.tokyo();
        List<Advisories.Imported> imports = advisories.imports();
        out.println("取り込み / imports: " + imports.size());
        for (Advisories.Imported i : imports) {
            out.println("  " + dates.dateTimeWithZone(i.at(), JpDates.Lang.JA) + "  " + i.kind() + "  "
                    + i.name() + "  " + i.advisories() + " 件 / advisories  by " + i.by());
        }
        List<Advisories.Match> matches = advisories.matches();
        long open = matches.stream().filter(Advisories.Match::open).count();
        out.println("このビルドの構成要素に該当 / affecting components of this build: " + matches.size());
        for (Advisories.Match m : matches) {
            Sbom.Component c = m.component();
            String ids = m.aliases().isEmpty() ? m.id() : m.id() + " (" + String.join(", ", m.aliases()) + ")";
            out.println("  " + (m.open() ? "未対応 OPEN  " : "対応済 closed") + "  " + ids + "  " + m.severity() + "  "
                    + c.label() + " " + c.version() + (m.open() ? "" : "  [" + m.closedBy() + "]")
                    + (m.summary().isBlank() ? "" : "  " + oneLine(m.summary())));
        }
        out.println("未対応 " + open + " 件 / " + open + " open");
        return 0;
    }

    /** {@code mamori sbom}: prints the SBOM this build carries. */
    static int sbom(List<String> args, PrintStream out, PrintStream err) throws Exception {
        if (!args.isEmpty()) {
            throw new ConfigException("mamori sbom takes no options / オプションはありません");
        }
        try (var in = AdvisoryCommands.class.getClassLoader().getResourceAsStream(Sbom.RESOURCE)) {
            if (in == null) {
                err.println("mamori sbom: このビルドには SBOM がありません / this build has no SBOM");
                return 1;
            }
            out.write(in.readAllBytes());
            out.flush();
        }
        return 0;
    }

    private static String oneLine(String s) {
        String t = s.replaceAll("\\s+", " ").strip();
        return t.length() > 120 ? t.substring(0, 119) + "…" : t;
    }
}
