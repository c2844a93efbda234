package jp.mamori.access.web;

import jp.mamori.access.BreakGlass;
import jp.mamori.identity.Identity;
import jp.mamori.web.Reply;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.UUID;

import static jp.mamori.identity.web.AuthPages.csrf;
import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;
import static jp.mamori.web.console.Html.esc;
import static jp.mamori.web.console.Html.time;
import jp.mamori.identity.web.AuthPages;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;

/**
 * Break-glass (緊急時アクセス) in the console: a person starts it for one patient (the route asks for a fresh
 * second factor), sees their active uses and the banner on every page; the security manager's page lists
 * the notices, the review queue (escalated first) and reports.
 */
public final class BreakGlassPages {
    private final Identity id;
    private final BreakGlass breakGlass;
    private final Console console;

    public BreakGlassPages(Identity id, BreakGlass breakGlass, Console console) {
        this.id = id;
        this.breakGlass = breakGlass;
        this.console = console;
    }

    public void register() {
        // Every page of a person who holds an active use says so.
        console.banner(r -> banner(r, breakGlass.activeFor(r.session().accountId(), console.clock().instant())));
        console.route("GET", "/console/break-glass", USER, false, r -> mine(r, ""));
        console.route("POST", "/console/break-glass", USER, true, this::start);
        console.route("POST", "/console/break-glass/end", USER, false, this::end);
        console.route("GET", "/console/admin/break-glass", ADMIN, false, r -> admin(r, ""));
        console.route("POST", "/console/admin/break-glass/review", ADMIN, true, this::review);
        console.route("POST", "/console/admin/break-glass/notices-read", ADMIN, false, this::noticesRead);
    }

    static String reason(ConsoleRequest r, String code) {
        return switch (code) {
            case "emergency_treatment" -> r.t("救急対応", "Emergency treatment");
            case "unconscious_patient" -> r.t("意識障害等で本人確認・同意が困難", "Patient unconscious or unable to consent");
            case "covering_colleague" -> r.t("担当医・担当看護師の代行", "Covering for a colleague");
            case "other" -> r.t("その他", "Other");
            default -> code;
        };
    }

    static String outcome(ConsoleRequest r, String code) {
        return switch (code) {
            case "pending" -> r.t("未確認", "Not reviewed");
            case "appropriate" -> r.t("適切", "Appropriate");
            case "inappropriate" -> r.t("不適切", "Inappropriate");
            case "follow_up" -> r.t("要フォロー", "Needs follow-up");
            default -> code;
        };
    }

    /** The red banner for a person's active break-glass uses; "" when there are none. Other pages may include it. */
    static String banner(ConsoleRequest r, List<BreakGlass.Grant> grants) {
        if (grants.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder("<div class=\"break-glass-banner\" role=\"alert\" id=\"break-glass-banner\"><strong>")
                .append(esc(r.t("緊急時アクセス中", "Break-glass access in effect"))).append("</strong><ul>");
        for (BreakGlass.Grant g : grants) {
            b.append("<li>").append(esc(r.t("患者", "Patient"))).append(" <code>").append(esc(g.patientId()))
                    .append("</code> — ").append(esc(reason(r, g.reasonCode()))).append("：").append(esc(g.reasonText()))
                    .append(" — ").append(esc(r.t("期限 ", "until "))).append(esc(time(g.expiresAt()))).append("</li>");
        }
        return b.append("</ul><p>").append(esc(r.t("この間の操作はすべて記録され、後日確認されます。",
                "Everything done meanwhile is marked and will be reviewed."))).append(" <a href=\"/console/break-glass\">")
                .append(esc(r.t("詳細・終了", "Details and end"))).append("</a></p></div>").toString();
    }

    // ---- the person ---------------------------------------------------------------------------------------

    private Reply mine(ConsoleRequest r, String error) {
        Instant now = console.clock().instant();
        StringBuilder b = new StringBuilder(Html.message("error", error));
        b.append("<p>").append(esc(r.t("診療上の関係がない患者の記録を緊急に参照する場合に使います。理由を記入し、二要素目で確認すると、その患者"
                        + "1名の記録を" + hours(breakGlass.settings().grant()) + "時間参照できます。セキュリティ責任者に直ちに通知され、後日確認されます。",
                "For an emergency with a patient you have no care relationship with. Give the reason and confirm with your"
                        + " second factor to open that one patient's record for " + hours(breakGlass.settings().grant())
                        + " hours. The security manager is told at once and every use is reviewed."))).append("</p>");
        b.append("<section class=\"card\"><h2>").append(esc(r.t("緊急時アクセスを開始", "Start break-glass access")))
                .append("</h2><form method=\"post\" action=\"/console/break-glass\" class=\"stack\">").append(csrf(r))
                .append("<label>").append(esc(r.t("患者ID（FHIR Patient）", "Patient id (FHIR Patient)")))
                .append("<input name=\"patient\" required pattern=\"[A-Za-z0-9.\\-]{1,64}\" autocomplete=\"off\" value=\"")
                .append(esc(r.param("patient"))).append("\"></label><label>").append(esc(r.t("理由", "Reason")))
                .append("<select name=\"reason\" required>");
        for (String code : BreakGlass.REASONS) {
            b.append("<option value=\"").append(esc(code)).append("\"").append(code.equals(r.param("reason")) ? " selected" : "")
                    .append(">").append(esc(reason(r, code))).append("</option>");
        }
        b.append("</select></label><label>").append(esc(r.t("具体的な理由（10文字以上）", "The reason in your words (at least 10 characters)")))
                .append("<textarea name=\"reason_text\" required minlength=\"10\" maxlength=\"2000\">")
                .append(esc(r.param("reason_text"))).append("</textarea></label><button type=\"submit\" class=\"danger\">")
                .append(esc(r.t("二要素目で確認して開始", "Confirm with second factor and start"))).append("</button></form></section>");
        List<BreakGlass.Grant> active = breakGlass.activeFor(r.session().accountId(), now);
        b.append("<section class=\"card\"><h2>").append(esc(r.t("有効な緊急時アクセス", "Active break-glass access")))
                .append("</h2>");
        if (active.isEmpty()) {
            b.append("<p>").append(esc(r.t("ありません。", "None."))).append("</p>");
        } else {
            b.append("<table id=\"break-glass-active\"><thead><tr><th>").append(esc(r.t("患者ID", "Patient id")))
                    .append("</th><th>").append(esc(r.t("理由", "Reason"))).append("</th><th>").append(esc(r.t("期限", "Until")))
                    .append("</th><th>").append(esc(r.t("残り", "Time left"))).append("</th><th></th></tr></thead><tbody>");
            for (BreakGlass.Grant g : active) {
                long minutes = (g.timeLeft(now).toSeconds() + 59) / 60;
                b.append("<tr><td>").append(esc(g.patientId())).append("</td><td>").append(esc(reason(r, g.reasonCode())))
                        .append("：").append(esc(g.reasonText())).append("</td><td>").append(time(g.expiresAt()))
                        .append("</td><td>").append(esc(r.t("約" + minutes + "分", "about " + minutes + " min")))
                        .append("</td><td><form method=\"post\" action=\"/console/break-glass/end\">").append(csrf(r))
                        .append("<input type=\"hidden\" name=\"id\" value=\"").append(esc(g.id()))
                        .append("\"><button type=\"submit\" class=\"secondary\">").append(esc(r.t("終了", "End")))
                        .append("</button></form></td></tr>");
            }
            b.append("</tbody></table>");
        }
        b.append("</section>");
        return console.page(r, r.t("緊急時アクセス", "Break-glass access"), b.toString());
    }

    private Reply start(ConsoleRequest r) {
        try {
            breakGlass.start(r.session(), r.param("patient"), r.param("reason"), r.param("reason_text"), r.address(),
                    console.clock().instant());
            return Console.redirect("/console/break-glass");
        } catch (BreakGlass.Refused e) {
            return AuthPages.status(mine(r, e.getMessage()), 400);
        }
    }

    private Reply end(ConsoleRequest r) {
        try {
            breakGlass.end(uuid(r.param("id")), r.session(), console.clock().instant());
            return Console.redirect("/console/break-glass");
        } catch (BreakGlass.Refused e) {
            return AuthPages.status(mine(r, e.getMessage()), 400);
        }
    }

    // ---- the security manager -----------------------------------------------------------------------------

    private Reply admin(ConsoleRequest r, String error) {
        StringBuilder b = new StringBuilder(Html.message("error", error));
        long unread = breakGlass.unreadNotices();
        b.append("<section class=\"card\"><h2>").append(esc(r.t("通知", "Notices"))).append(" <span id=\"unread-notices\">")
                .append(esc(r.t("未読 " + unread + " 件", unread + " unread"))).append("</span></h2>");
        if (unread > 0) {
            b.append("<form method=\"post\" action=\"/console/admin/break-glass/notices-read\">").append(csrf(r))
                    .append("<button type=\"submit\" class=\"secondary\">").append(esc(r.t("すべて既読にする", "Mark all read")))
                    .append("</button></form>");
        }
        b.append("<table id=\"access-notices\"><thead><tr><th>").append(esc(r.t("日時", "When"))).append("</th><th>")
                .append(esc(r.t("内容", "Notice"))).append("</th><th>").append(esc(r.t("既読", "Read"))).append("</th></tr></thead><tbody>");
        for (BreakGlass.StoredNotice n : breakGlass.notices(50)) {
            b.append("<tr").append(n.readAt() == null ? " class=\"unread\"" : "").append("><td>").append(time(n.at()))
                    .append("</td><td>").append(esc(n.subject())).append("</td><td>")
                    .append(n.readAt() == null ? "" : esc(n.readBy()) + " " + time(n.readAt())).append("</td></tr>");
        }
        b.append("</tbody></table></section>");

        b.append("<section class=\"card\"><h2>").append(esc(r.t("確認待ち（エスカレーション済を先頭）", "Review queue (escalated first)")))
                .append("</h2><table id=\"break-glass-queue\"><thead><tr><th>").append(esc(r.t("利用者", "Person")))
                .append("</th><th>").append(esc(r.t("患者ID", "Patient id"))).append("</th><th>").append(esc(r.t("部署", "Department")))
                .append("</th><th>").append(esc(r.t("理由", "Reason"))).append("</th><th>").append(esc(r.t("開始", "Started")))
                .append("</th><th>").append(esc(r.t("記録された操作", "Accesses"))).append("</th><th>").append(esc(r.t("状態", "State")))
                .append("</th><th>").append(esc(r.t("判定", "Decision"))).append("</th></tr></thead><tbody>");
        for (BreakGlass.Use u : breakGlass.pendingReviews()) {
            BreakGlass.Grant g = u.grant();
            b.append("<tr").append(u.escalationLevel() > 0 ? " class=\"escalated\"" : "").append("><td>")
                    .append(esc(u.displayName())).append(" (").append(esc(u.loginId())).append(")</td><td>")
                    .append(esc(g.patientId())).append("</td><td>").append(esc(g.department())).append("</td><td>")
                    .append(esc(reason(r, g.reasonCode()))).append("：").append(esc(g.reasonText())).append("</td><td>")
                    .append(time(g.startedAt())).append("</td><td>").append(u.accesses()).append("</td><td>")
                    .append(esc(outcome(r, u.outcome())));
            if (u.escalationLevel() > 0) {
                b.append(" <strong class=\"flag\">").append(esc(r.t("エスカレーション " + u.escalationLevel(),
                        "Escalated " + u.escalationLevel()))).append("</strong>");
            }
            if (u.comment() != null) {
                b.append("<br>").append(esc(u.comment()));
            }
            b.append("</td><td>");
            if (u.grant().accountId().equals(r.session().accountId())) {
                b.append(esc(r.t("自分の利用は他の人が確認します", "Your own use: someone else reviews it")));
            } else {
                b.append("<form method=\"post\" action=\"/console/admin/break-glass/review\" class=\"stack\">").append(csrf(r))
                        .append("<input type=\"hidden\" name=\"id\" value=\"").append(esc(g.id())).append("\"><select name=\"decision\" required>");
                for (String d : BreakGlass.DECISIONS) {
                    b.append("<option value=\"").append(esc(d)).append("\">").append(esc(outcome(r, d))).append("</option>");
                }
                b.append("</select><input name=\"comment\" required minlength=\"5\" placeholder=\"")
                        .append(esc(r.t("コメント", "Comment"))).append("\"><button type=\"submit\">")
                        .append(esc(r.t("記録", "Record"))).append("</button></form>");
            }
            b.append("</td></tr>");
        }
        b.append("</tbody></table></section>");

        BreakGlass.Filter f;
        try {
            f = new BreakGlass.Filter(r.param("login_id"), r.param("patient"), r.param("department"), r.param("outcome"),
                    day(r.param("from"), 0), day(r.param("to"), 1));
        } catch (DateTimeParseException e) {
            f = BreakGlass.Filter.ALL;
            b.append(Html.message("error", "日付は YYYY-MM-DD で入力してください / Dates are YYYY-MM-DD"));
        }
        b.append("<section class=\"card\"><h2>").append(esc(r.t("報告", "Report"))).append("</h2>")
                .append("<form method=\"get\" action=\"/console/admin/break-glass\" class=\"inline\">")
                .append(filterField(r, "login_id", "利用者ID", "Login id", "text"))
                .append(filterField(r, "patient", "患者ID", "Patient id", "text"))
                .append(filterField(r, "department", "部署", "Department", "text"))
                .append("<label>").append(esc(r.t("結果", "Outcome"))).append("<select name=\"outcome\"><option value=\"\">")
                .append(esc(r.t("すべて", "Any"))).append("</option>");
        for (String o : BreakGlass.OUTCOMES) {
            b.append("<option value=\"").append(esc(o)).append("\"").append(o.equals(r.param("outcome")) ? " selected" : "")
                    .append(">").append(esc(outcome(r, o))).append("</option>");
        }
        b.append("</select></label>").append(filterField(r, "from", "開始日", "From", "date"))
                .append(filterField(r, "to", "終了日", "To", "date")).append("<button type=\"submit\">")
                .append(esc(r.t("表示", "Show"))).append("</button></form>");
        List<BreakGlass.Use> uses;
        try {
            uses = breakGlass.report(f);
        } catch (BreakGlass.Refused e) {
            uses = List.of();
            b.append(Html.message("error", e.getMessage()));
        }
        b.append("<table id=\"break-glass-report\"><thead><tr><th>").append(esc(r.t("利用者", "Person"))).append("</th><th>")
                .append(esc(r.t("患者ID", "Patient id"))).append("</th><th>").append(esc(r.t("部署", "Department")))
                .append("</th><th>").append(esc(r.t("理由", "Reason"))).append("</th><th>").append(esc(r.t("期間", "Period")))
                .append("</th><th>").append(esc(r.t("操作数", "Accesses"))).append("</th><th>").append(esc(r.t("結果", "Outcome")))
                .append("</th><th>").append(esc(r.t("確認者", "Reviewer"))).append("</th></tr></thead><tbody>");
        for (BreakGlass.Use u : uses) {
            BreakGlass.Grant g = u.grant();
            b.append("<tr><td>").append(esc(u.loginId())).append("</td><td>").append(esc(g.patientId())).append("</td><td>")
                    .append(esc(g.department())).append("</td><td>").append(esc(reason(r, g.reasonCode()))).append("</td><td>")
                    .append(time(g.startedAt())).append("〜").append(time(u.endedAt() != null ? u.endedAt() : g.expiresAt()))
                    .append("</td><td>").append(u.accesses()).append("</td><td>").append(esc(outcome(r, u.outcome())))
                    .append("</td><td>").append(esc(u.reviewer())).append(" ").append(u.reviewedAt() == null ? "" : time(u.reviewedAt()))
                    .append("</td></tr>");
        }
        b.append("</tbody></table></section>");
        return console.page(r, r.t("緊急時アクセスの確認", "Break-glass review"), b.toString());
    }

    private Reply review(ConsoleRequest r) {
        try {
            breakGlass.review(uuid(r.param("id")), r.session(), r.param("decision"), r.param("comment"));
            return Console.redirect("/console/admin/break-glass");
        } catch (BreakGlass.Refused e) {
            return AuthPages.status(admin(r, e.getMessage()), 400);
        }
    }

    private Reply noticesRead(ConsoleRequest r) {
        breakGlass.markNoticesRead(r.session().principal());
        return Console.redirect("/console/admin/break-glass");
    }

    // ---- pieces -------------------------------------------------------------------------------------------

    private static String filterField(ConsoleRequest r, String name, String ja, String en, String type) {
        return "<label>" + esc(r.t(ja, en)) + "<input name=\"" + name + "\" type=\"" + type + "\" value=\""
                + esc(r.param(name)) + "\"></label>";
    }

    /** The start of the day (plus {@code plusDays}) in Japan; null when blank. */
    private static Instant day(String s, int plusDays) {
        if (s == null || s.isBlank()) {
            return null;
        }
        return LocalDate.parse(s.strip()).plusDays(plusDays).atStartOfDay(Html.JST).toInstant();
    }

    private static UUID uuid(String s) {
        try {
            return UUID.fromString(s);
        } catch (IllegalArgumentException e) {
            throw new BreakGlass.Refused("緊急時アクセスの記録が見つかりません / No such break-glass use");
        }
    }

    private static long hours(Duration d) {
        return d.toHours();
    }
}
