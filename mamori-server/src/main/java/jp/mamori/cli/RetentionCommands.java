package jp.mamori.cli;

import jp.mamori.audit.Actor;
import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.AuditTrail;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.retention.Retention;
import jp.mamori.retention.RetentionException;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * {@code mamori retention}: the rules, the candidates past retention, a batch's disposal certificate, and the check
 * of tombstones against the audit trail (ADR 0011). Proposing and approving are the console's, where each approval
 * needs a fresh second factor.
 */
final class RetentionCommands {
    static final String USAGE = """
              retention rules  --data DIR   the retention period of each kind of record and its legal basis
              retention candidates --data DIR [--after PATIENT_ID] [--limit N (50)]   patients past retention
              retention certificate --data DIR --batch N [--out FILE]   the disposal certificate (JSON)
              retention verify --data DIR   every tombstone against the disposal entries of the audit trail
            """;
    private static final List<String> COMMON = List.of("--data", "--db-url", "--db-user", "--db-password");
    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE.withZone(ZoneId.of("Asia/Tokyo"));

    private RetentionCommands() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws Exception {
        if (args.isEmpty()) {
            err.print(USAGE);
            return 2;
        }
        String sub = args.get(0);
        List<String> rest = args.subList(1, args.size());
        Args a = switch (sub) {
            case "rules", "verify" -> Args.parse(rest, COMMON, List.of());
            case "candidates" -> Args.parse(rest, concat("--after", "--limit"), List.of());
            case "certificate" -> Args.parse(rest, concat("--batch", "--out"), List.of());
            default -> null;
        };
        if (a == null) {
            err.println("mamori retention: unknown command '" + sub + "'");
            err.print(USAGE);
            return 2;
        }
        try (Main.Opened o = Main.Opened.open(a, env);
             AuditTrail trail = Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
            Retention r = new Retention(o.db, new AuditRecorder(trail), new AuditReports(o.db.dataSource(),
                    jp.mamori.config.ServerConfig.AuditOptions.DEFAULT), Clock.systemUTC());
            Actor tool = Actor.server("retention");
            try {
                return switch (sub) {
                    case "rules" -> rules(r, out);
                    case "candidates" -> candidates(r, a, out);
                    case "certificate" -> certificate(r, tool, a, out);
                    default -> verify(r, tool, out);
                };
            } catch (RetentionException e) {
                err.println("mamori retention " + sub + ": " + e.getMessage());
                return 2;
            }
        }
    }

    private static List<String> concat(String... more) {
        List<String> l = new java.util.ArrayList<>(COMMON);
        l.addAll(List.of(more));
        return l;
    }

    private static int rules(Retention r, PrintStream out) {
        for (Retention.Rule rule : r.rules()) {
            out.println(rule.nameJa() + " / " + rule.nameEn() + ": " + rule.years() + " 年 / years (法定 / statutory "
                    + rule.lawYears() + ") — " + rule.basisJa());
        }
        return 0;
    }

    private static int candidates(Retention r, Args a, PrintStream out) {
        int limit;
        try {
            limit = Integer.parseInt(a.value("--limit").orElse("50"));
        } catch (NumberFormatException e) {
            throw new ConfigException("--limit must be a number from 1 to 200 / --limit は 1〜200 の数です");
        }
        if (limit < 1 || limit > 200) {
            throw new ConfigException("--limit must be a number from 1 to 200 / --limit は 1〜200 の数です");
        }
        Retention.Page page = r.candidates(a.value("--after").orElse(null), limit);
        for (Retention.Candidate c : page.candidates()) {
            var f = c.facts();
            out.println(f.patientId() + "\t" + (f.name() == null ? "-" : f.name()) + "\tlast entry "
                    + DAY.format(f.lastEntry()) + "\tdisposable from " + DAY.format(f.due()) + "\t" + f.resources()
                    + " records, " + f.versions() + " versions" + (c.openBatch() > 0 ? "\tin open batch "
                    + c.openBatch() : ""));
        }
        out.println(page.candidates().size() + " candidates / 廃棄候補 " + page.candidates().size() + " 人"
                + (page.next() == null ? "" : "; more: --after " + page.next()));
        return 0;
    }

    private static int certificate(Retention r, Actor tool, Args a, PrintStream out) throws Exception {
        long batch;
        try {
            batch = Long.parseLong(a.required("--batch"));
        } catch (NumberFormatException e) {
            throw new ConfigException("--batch must be a batch number / --batch は廃棄バッチの番号です");
        }
        String json = r.certificate(tool, batch);
        if (a.value("--out").isPresent()) {
            Path p = Path.of(a.value("--out").get());
            if (Files.exists(p)) {
                throw new ConfigException(p + " exists already / すでにあります");
            }
            Files.writeString(p, json);
            out.println("disposal certificate of batch " + batch + " written to " + p + " / 廃棄証明を書き出しました");
        } else {
            out.println(json);
        }
        return 0;
    }

    private static int verify(Retention r, Actor tool, PrintStream out) {
        Retention.Report report = r.verify(tool);
        report.findings().forEach(f -> out.println("FINDING " + f));
        out.println("retention verify: " + report.disposals() + " disposals, " + report.tombstones() + " tombstones, "
                + report.namedResources() + " resources named by writes; " + (report.ok()
                ? "every tombstone matches the trail / 墓標と監査証跡は一致しました" : report.findings().size()
                + " findings / 不一致があります"));
        return report.ok() ? 0 : 1;
    }
}
