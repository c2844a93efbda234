package jp.mamori.web.console;

import jp.mamori.identity.Accounts;
import jp.mamori.identity.Sessions;

/** The page shell every console page shares: header, navigation, language switch, idle lock. */
final class Layout {
    private Layout() {
    }

    /** @param banner HTML shown above the page on every page while it applies (break-glass), or "" */
    static String render(ConsoleRequest.Lang lang, String title, ConsoleRequest r, String banner, String body,
                         long idleSeconds) {
        Sessions.Session s = r == null ? null : r.session();
        boolean in = s != null && s.stage() == Sessions.Stage.AUTHENTICATED && !s.locked();
        StringBuilder sb = new StringBuilder(4096);
        sb.append("<!DOCTYPE html>\n<html lang=\"").append(lang == ConsoleRequest.Lang.JA ? "ja" : "en").append("\">")
                .append("<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<title>").append(Html.esc(title)).append(" — 守り Mamori</title>")
                .append("<link rel=\"stylesheet\" href=\"/console/static/console.css\">")
                .append("<script src=\"/console/static/console.js\" defer></script>")
                .append("<script src=\"/console/static/passkeys.js\" defer></script></head>");
        sb.append("<body").append(in ? " data-idle-seconds=\"" + idleSeconds + "\"" : "").append(">");
        sb.append("<header class=\"top\"><a class=\"brand\" href=\"/console\">守り <span>Mamori</span></a>");
        if (in) {
            sb.append("<nav><a href=\"/console/home\">").append(lang.t("ホーム", "Home")).append("</a>");
            if (s.readsPatientData()) {
                sb.append("<a href=\"/console/patients\">").append(lang.t("患者", "Patients")).append("</a>");
            }
            sb
                    .append("<a href=\"/console/me\">").append(lang.t("マイアカウント", "My account")).append("</a>")
                    .append("<a href=\"/console/break-glass\">").append(lang.t("緊急時アクセス", "Break-glass")).append("</a>");
            if (s.hasRole(Accounts.ADMIN_ROLE)) {
                sb.append("<a href=\"/console/admin/accounts\">").append(lang.t("アカウント管理", "Accounts")).append("</a>")
                        .append("<a href=\"/console/admin/break-glass\">").append(lang.t("緊急時アクセス確認", "Break-glass review"))
                        .append("</a><a href=\"/console/admin/access\">").append(lang.t("アクセス権", "Access")).append("</a>");
            }
            sb.append("</nav><div class=\"who\">").append(Html.esc(s.displayName())).append(" (")
                    .append(Html.esc(s.loginId())).append(")");
            if (s.amr().contains("emergency")) {
                sb.append(" <strong class=\"flag\">").append(lang.t("非常時用", "EMERGENCY")).append("</strong>");
            }
            sb.append("<form method=\"post\" action=\"/console/lock\" id=\"lock-form\"><input type=\"hidden\" name=\"csrf\" value=\"")
                    .append(Html.esc(r.csrf())).append("\"><button type=\"submit\">").append(lang.t("ロック", "Lock"))
                    .append("</button></form>")
                    .append("<form method=\"post\" action=\"/console/logout\"><input type=\"hidden\" name=\"csrf\" value=\"")
                    .append(Html.esc(r.csrf())).append("\"><button type=\"submit\">").append(lang.t("ログアウト", "Log out"))
                    .append("</button></form></div>");
        }
        String here = r == null ? "/console/home" : Console.safeNext(r.path());
        sb.append("<a class=\"lang\" href=\"/console/lang?to=").append(lang == ConsoleRequest.Lang.JA ? "en" : "ja")
                .append("&amp;next=").append(Html.esc(java.net.URLEncoder.encode(here, java.nio.charset.StandardCharsets.UTF_8)))
                .append("\">").append(lang == ConsoleRequest.Lang.JA ? "English" : "日本語").append("</a></header>");
        sb.append(banner);
        sb.append("<main><h1>").append(Html.esc(title)).append("</h1>").append(body).append("</main>");
        sb.append("<footer>守り Mamori — ").append(lang.t("医療情報システムの安全管理に関するガイドライン準拠",
                "built to Japan's medical information security guideline")).append("</footer></body></html>");
        return sb.toString();
    }
}
