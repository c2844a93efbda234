package jp.mamori.audit.web;

import jp.mamori.access.Action;
import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditExport;
import jp.mamori.audit.AuditRecord;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.AuditUnavailable;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Identity;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static jp.mamori.web.console.Console.Access.USER;
import static jp.mamori.web.console.Html.esc;
import jp.mamori.identity.web.AuthPages;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;

/**
 * The audit console (AUDIT-2, AUDIT-7, AUDIT-8, AUDIT-10): reports over the trail with CSV, FHIR AuditEvent
 * exports, the review sign-off and its coverage, and the trail's status. Open to people whose roles hold the
 * {@code audit} category (監査担当) and to account administrators; every report viewed or exported is itself an
 * entry, written before the report is shown.
 */
public final class AuditPages {
    private static final int LIMIT = 5000;
    private final Identity id;
    private final Audit audit;
    private final Console console;

    public AuditPages(Identity id, Audit audit, Console console) {
        this.id = id;
        this.audit = audit;
        this.console = console;
    }

    public void register() {
        console.route("GET", "/console/audit", USER, false, auditor(Action.READ, this::home));
        console.route("GET", "/console/audit/report", USER, false, auditor(Action.READ, this::report));
        console.route("GET", "/console/audit/export", USER, true, auditor(Action.EXPORT, this::export));
        console.route("POST", "/console/audit/review", USER, true, auditor(Action.READ, this::signOff));
    }

    /** The route's rule: the audit category with {@code action}, or the account administrator role. */
    private Console.Page auditor(Action action, Console.Page page) {
        return r -> {
            Sessions.Session s = r.session();
            if (!s.hasRole(Accounts.ADMIN_ROLE) && !audit.permits(s.accountId(), action)) {
                return console.page(r.lang(), 403, r.t("権限がありません", "Not allowed"), r, Html.message("error",
                        "監査記録は監査担当者と管理者のみが閲覧できます / Only auditors and administrators may see the audit trail"));
            }
            return page.serve(r);
        };
    }

    /** Appends the entry for looking at the trail; the page is shown only once it is durable. */
    private void recordView(ConsoleRequest r, String action, String report, Map<String, String> params,
                            List<String> patients) {
        Sessions.Session s = r.session();
        Map<String, String> d = new LinkedHashMap<>(params);
        d.put("report", report);
        try {
            audit.trail().append(new AuditRecord(Instant.now(), s.principal(), "person", s.displayName(),
                    List.copyOf(s.roles()), null, patients, List.of(), action, "success", "audit", r.address(),
                    s.ref(), false, d));
        } catch (AuditUnavailable e) {
            throw e.toFhirError();
        }
    }

    private Reply home(ConsoleRequest r) {
        recordView(r, "audit.view", "home", Map.of(), List.of());
        StringBuilder b = new StringBuilder();
        var clock = audit.lastClock();
        b.append("<p>").append(r.t("記録件数", "Entries")).append(": ").append(audit.reports().size()).append("<br>")
                .append(r.t("時刻同期", "Clock")).append(": ").append(esc(clock == null ? "—" : clock.state() + " ("
                        + clock.source() + ")")).append("<br>")
                .append(r.t("保存期間", "Retention")).append(": ").append(audit.reports().options().retentionYears())
                .append(r.t("年（削除は行いません）", " years (nothing is deleted)")).append("</p>");
        checkpointStatus(r, b);
        b.append("<h2>").append(r.t("レポート", "Reports")).append("</h2>");
        b.append("<form method=\"get\" action=\"/console/audit/report\" class=\"stack\"><label>")
                .append(r.t("種類", "Report")).append(" <select name=\"kind\">");
        for (String[] k : kinds()) {
            b.append("<option value=\"").append(k[0]).append("\">").append(esc(r.t(k[1], k[2]))).append("</option>");
        }
        b.append("</select></label><label>").append(r.t("患者ID", "Patient id"))
                .append(" <input name=\"patient\"></label><label>").append(r.t("利用者（ログインID等）", "Person or client"))
                .append(" <input name=\"actor\"></label><label>").append(r.t("開始日", "From"))
                .append(" <input type=\"date\" name=\"from\"></label><label>").append(r.t("終了日", "To"))
                .append(" <input type=\"date\" name=\"to\"></label><button>").append(r.t("表示", "Show"))
                .append("</button></form>");
        LocalDate today = LocalDate.now(AuditReports.JST);
        List<AuditReports.CoverageDay> cov = audit.reports().coverage(today.minusDays(29), today);
        long reviewed = cov.stream().filter(AuditReports.CoverageDay::reviewed).count();
        b.append("<h2>").append(r.t("レビューの実施状況（30日）", "Review coverage (30 days)")).append("</h2><p>")
                .append(reviewed).append(" / ").append(cov.size()).append(r.t(" 日がレビュー済み", " days reviewed"))
                .append("</p><table><thead><tr><th>").append(r.t("日付", "Day")).append("</th><th>")
                .append(r.t("件数", "Entries")).append("</th><th>").append(r.t("レビュー", "Review"))
                .append("</th></tr></thead><tbody>");
        for (AuditReports.CoverageDay d : cov) {
            b.append("<tr><td>").append(d.day()).append("</td><td>").append(d.entries()).append("</td><td>")
                    .append(d.reviewed() ? r.t("済", "reviewed") + " #" + d.reviews() : r.t("未", "not reviewed"))
                    .append("</td></tr>");
        }
        b.append("</tbody></table>");
        b.append("<h2>").append(r.t("レビューの記録", "Sign off a review")).append("</h2>")
                .append("<form method=\"post\" action=\"/console/audit/review\" class=\"stack\">")
                .append(AuthPages.csrf(r)).append("<label>").append(r.t("開始日", "From"))
                .append(" <input type=\"date\" name=\"from\" required></label><label>").append(r.t("終了日", "To"))
                .append(" <input type=\"date\" name=\"to\" required></label><label>")
                .append(r.t("部署（空欄は全体）", "Department (empty: whole hospital)"))
                .append(" <input name=\"department\"></label><label>").append(r.t("所見", "Findings"))
                .append(" <textarea name=\"findings\" required maxlength=\"4000\"></textarea></label><button>")
                .append(r.t("レビュー済みとして記録", "Record as reviewed")).append("</button></form>");
        return console.page(r, r.t("監査記録", "Audit trail"), b.toString());
    }

    /** The verification status (AUDIT-3): the last signed checkpoint, its time-stamp and anchor, any problem. */
    private void checkpointStatus(ConsoleRequest r, StringBuilder b) {
        jp.mamori.audit.Checkpointer cp = audit.checkpointer();
        if (cp == null) {
            return;
        }
        jp.mamori.audit.Checkpointer.Status st = cp.status();
        b.append("<h2>").append(r.t("署名済みチェックポイント", "Signed checkpoint")).append("</h2><p>");
        if (st.last() == null) {
            b.append(r.t("まだありません", "none yet"));
        } else {
            var last = st.last();
            b.append(r.t("記録数", "Size")).append(": ").append(last.size()).append("<br>")
                    .append(r.t("署名時刻", "Signed")).append(": ").append(esc(last.signedAt().toString())).append("<br>")
                    .append(r.t("タイムスタンプ", "Time-stamp")).append(": ").append(esc(switch (last.tsaStatus()) {
                        case "ok" -> r.t("取得済み（RFC 3161）", "obtained (RFC 3161)");
                        case "failed" -> r.t("失敗", "failed") + " — " + last.tsaError();
                        default -> r.t("設定なし", "not configured");
                    })).append("<br>").append(r.t("アンカー", "Anchor")).append(": ")
                    .append(esc(last.anchorStatus().equals("ok") ? r.t("書込み済み", "written") + " (" + cp.anchor().dir()
                            + ")" : r.t("失敗", "failed") + " — " + last.anchorError())).append("<br>")
                    .append(r.t("検証鍵", "Verifier key")).append(": <code>")
                    .append(esc(cp.signer().verifierKey().format())).append("</code>");
        }
        b.append("</p>");
        if (st.problem() != null) {
            b.append(Html.message("error", "監査証跡の整合性に問題があります / Audit trail integrity problem: "
                    + st.problem()));
        }
    }

    private static List<String[]> kinds() {
        return List.of(new String[]{"patient", "患者ごとのアクセス履歴（開示用）", "Who accessed a patient (disclosure)"},
                new String[]{"actor", "利用者ごとの操作履歴", "What a person or client did"},
                new String[]{"window", "期間内のアクセス（時系列）", "Accesses in a window, in time order"},
                new String[]{"counts", "期間内の患者別アクセス件数", "Accesses per patient in a window"},
                new String[]{"break-glass", "緊急時アクセス", "Break-glass uses"},
                new String[]{"after-hours", "時間外アクセス", "After-hours accesses"},
                new String[]{"volume", "通常より多いアクセス", "Unusual volume per person"},
                new String[]{"same-name", "同姓の患者へのアクセス", "Patients with the staff member's family name"});
    }

    private record Window(Instant from, Instant to, LocalDate fromDay, LocalDate toDay) {
    }

    private static Window window(ConsoleRequest r) {
        LocalDate today = LocalDate.now(AuditReports.JST);
        try {
            LocalDate from = r.param("from").isBlank() ? today.minusDays(30) : LocalDate.parse(r.param("from"));
            LocalDate to = r.param("to").isBlank() ? today : LocalDate.parse(r.param("to"));
            if (to.isBefore(from)) {
                throw new IllegalArgumentException();
            }
            return new Window(from.atStartOfDay(AuditReports.JST).toInstant(),
                    to.plusDays(1).atStartOfDay(AuditReports.JST).toInstant(), from, to);
        } catch (DateTimeParseException | IllegalArgumentException e) {
            throw jp.mamori.kernel.FhirError.badRequest("期間が正しくありません / The period is not valid (YYYY-MM-DD)");
        }
    }

    private List<AuditReports.Row> rows(String kind, ConsoleRequest r, Window w) {
        AuditReports rep = audit.reports();
        return switch (kind) {
            case "patient" -> rep.patientAccess(required(r, "patient"), w.from(), w.to(), LIMIT);
            case "actor" -> rep.actorActivity(required(r, "actor"), w.from(), w.to(), LIMIT);
            case "window" -> rep.window(w.from(), w.to(), LIMIT);
            case "break-glass" -> rep.breakGlass(w.from(), w.to(), LIMIT);
            case "after-hours" -> rep.afterHours(w.from(), w.to(), LIMIT);
            case "same-name" -> rep.sameFamilyName(w.from(), w.to(), LIMIT).stream().map(AuditReports.SameName::entry)
                    .toList();
            default -> throw jp.mamori.kernel.FhirError.badRequest("不明なレポートです / Unknown report");
        };
    }

    private static String required(ConsoleRequest r, String name) {
        String v = r.param(name).strip();
        if (v.isEmpty() || v.length() > 200) {
            throw jp.mamori.kernel.FhirError.badRequest(name + " を入力してください / Enter " + name);
        }
        return v;
    }

    private static Map<String, String> params(ConsoleRequest r, Window w) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("from", w.fromDay().toString());
        p.put("to", w.toDay().toString());
        for (String k : List.of("patient", "actor")) {
            if (!r.param(k).isBlank()) {
                p.put(k, r.param(k).strip());
            }
        }
        return p;
    }

    private Reply report(ConsoleRequest r) {
        String kind = r.param("kind");
        Window w = window(r);
        Map<String, String> p = params(r, w);
        List<String> patients = kind.equals("patient") ? List.of(required(r, "patient")) : List.of();
        StringBuilder b = new StringBuilder();
        String title = kinds().stream().filter(k -> k[0].equals(kind)).map(k -> r.t(k[1], k[2])).findFirst()
                .orElseThrow(() -> jp.mamori.kernel.FhirError.badRequest("不明なレポートです / Unknown report"));
        b.append("<p>").append(esc(w.fromDay())).append(" – ").append(esc(w.toDay()));
        p.forEach((k, v) -> {
            if (!k.equals("from") && !k.equals("to")) {
                b.append(" / ").append(esc(k)).append(": ").append(esc(v));
            }
        });
        b.append("</p>");
        if (kind.equals("counts")) {
            recordView(r, "audit.report", kind, p, patients);
            b.append("<table><thead><tr><th>").append(r.t("患者", "Patient")).append("</th><th>")
                    .append(r.t("アクセス件数", "Accesses")).append("</th><th>").append(r.t("利用者数", "People"))
                    .append("</th></tr></thead><tbody>");
            for (AuditReports.PatientCount c : audit.reports().countsPerPatient(w.from(), w.to())) {
                b.append("<tr><td>").append(esc(c.patient())).append("</td><td>").append(c.accesses())
                        .append("</td><td>").append(c.people()).append("</td></tr>");
            }
            b.append("</tbody></table>");
            return console.page(r, title, b.toString());
        }
        if (kind.equals("volume")) {
            recordView(r, "audit.report", kind, p, patients);
            b.append("<p>").append(r.t("本人の1日あたり件数の中央値の ", "Days above ")).append(audit.reports().options()
                    .volumeFactor()).append(r.t(" 倍を超えた日", " times the person's median daily count")).append("</p>");
            b.append("<table><thead><tr><th>").append(r.t("利用者", "Person")).append("</th><th>")
                    .append(r.t("日付", "Day")).append("</th><th>").append(r.t("件数", "Count")).append("</th><th>")
                    .append(r.t("中央値", "Median")).append("</th></tr></thead><tbody>");
            for (AuditReports.UnusualDay d : audit.reports().unusualVolume(w.from(), w.to())) {
                b.append("<tr><td>").append(esc(d.display() == null ? d.actor() : d.display())).append("</td><td>")
                        .append(d.day()).append("</td><td>").append(d.count()).append("</td><td>").append(d.median())
                        .append("</td></tr>");
            }
            b.append("</tbody></table>");
            return console.page(r, title, b.toString());
        }
        List<AuditReports.Row> rows = rows(kind, r, w);
        recordView(r, "audit.report", kind, p, patients);
        String q = query(kind, p);
        b.append("<p><a class=\"button secondary\" href=\"/console/audit/export?format=csv&amp;").append(q)
                .append("\">CSV</a> <a class=\"button secondary\" href=\"/console/audit/export?format=ndjson&amp;")
                .append(q).append("\">FHIR AuditEvent (NDJSON)</a></p>");
        b.append("<table><thead><tr><th>#</th><th>").append(r.t("日時", "Time")).append("</th><th>")
                .append(r.t("利用者", "Who")).append("</th><th>").append(r.t("役割・部署", "Role, department"))
                .append("</th><th>").append(r.t("患者", "Patient")).append("</th><th>").append(r.t("操作", "Action"))
                .append("</th><th>").append(r.t("対象", "Resources")).append("</th><th>").append(r.t("結果", "Outcome"))
                .append("</th><th>").append(r.t("目的", "Purpose")).append("</th><th>").append(r.t("接続元", "From"))
                .append("</th></tr></thead><tbody>");
        for (AuditReports.Row e : rows) {
            b.append("<tr").append(e.breakGlass() ? " class=\"break-glass\"" : "").append("><td>").append(e.seq())
                    .append("</td><td>").append(Html.time(e.at())).append("</td><td>")
                    .append(esc(e.display() == null ? e.actor() : e.display() + " (" + e.actor() + ")"))
                    .append("</td><td>").append(esc(String.join(" ", e.roles()) + (e.department() == null ? ""
                            : " / " + e.department()))).append("</td><td>").append(esc(String.join(" ", e.patients())))
                    .append("</td><td>").append(esc(e.action())).append("</td><td>")
                    .append(esc(String.join(" ", e.resources()))).append("</td><td>").append(esc(e.outcome()))
                    .append("</td><td>").append(esc(e.purpose())).append("</td><td>").append(esc(e.address()))
                    .append("</td></tr>");
        }
        b.append("</tbody></table>");
        if (rows.size() >= LIMIT) {
            b.append(Html.message("info", "先頭の " + LIMIT + " 件のみ表示しています。期間を絞ってください / Only the first "
                    + LIMIT + " entries are shown; narrow the period"));
        }
        return console.page(r, title, b.toString());
    }

    private static String query(String kind, Map<String, String> p) {
        StringBuilder sb = new StringBuilder("kind=").append(kind);
        p.forEach((k, v) -> sb.append("&amp;").append(k).append('=').append(esc(java.net.URLEncoder.encode(v,
                java.nio.charset.StandardCharsets.UTF_8))));
        return sb.toString();
    }

    private Reply export(ConsoleRequest r) {
        String kind = r.param("kind");
        String format = r.param("format");
        Window w = window(r);
        Map<String, String> p = params(r, w);
        p.put("format", format);
        List<AuditReports.Row> rows = rows(kind, r, w);
        recordView(r, "export", kind, p, kind.equals("patient") ? List.of(required(r, "patient")) : List.of());
        String name = "mamori-audit-" + kind + "-" + w.fromDay() + "-" + w.toDay();
        AuditExport x = new AuditExport(console.hostName());
        return switch (format) {
            case "csv" -> Reply.of(200, "text/csv;charset=UTF-8", AuditExport.csv(rows))
                    .header("Content-Disposition", "attachment; filename=\"" + name + ".csv\"");
            case "ndjson" -> Reply.of(200, "application/fhir+ndjson;charset=UTF-8", x.ndjson(rows))
                    .header("Content-Disposition", "attachment; filename=\"" + name + ".ndjson\"");
            case "bundle" -> Reply.of(200, "application/fhir+json;charset=UTF-8", x.bundleJson(rows))
                    .header("Content-Disposition", "attachment; filename=\"" + name + ".json\"");
            default -> throw jp.mamori.kernel.FhirError.badRequest("format は csv, ndjson, bundle のいずれかです"
                    + " / format must be csv, ndjson or bundle");
        };
    }

    private Reply signOff(ConsoleRequest r) {
        Sessions.Session s = r.session();
        try {
            LocalDate from = LocalDate.parse(r.param("from"));
            LocalDate to = LocalDate.parse(r.param("to"));
            audit.reports().signOff(audit.trail(), from, to, r.param("department"), r.param("findings"), s.principal(),
                    s.displayName(), r.address());
        } catch (DateTimeParseException | IllegalArgumentException e) {
            return console.page(r.lang(), 400, r.t("エラー", "Error"), r, Html.message("error",
                    e instanceof DateTimeParseException ? "期間が正しくありません / The period is not valid" : e.getMessage()));
        } catch (AuditUnavailable e) {
            throw e.toFhirError();
        }
        return Console.redirect("/console/audit");
    }
}
