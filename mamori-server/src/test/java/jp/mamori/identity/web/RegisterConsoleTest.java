package jp.mamori.identity.web;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registers (台帳) over HTTP (issue 20): an administrator adds, changes and retires a row with its history, a
 * refusal keeps what was typed, CSV export and a pasted import (a bad row refuses all); an auditor reads and exports
 * but cannot write; a physician is refused; every POST needs the form's token; hostile input is shown as text.
 */
class RegisterConsoleTest {
    private static Hospital h;

    @BeforeAll
    static void start() {
        h = Hospital.open();
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    private static long versions() {
        return h.<Long>one("SELECT count(*) FROM compliance_register_version");
    }

    @Test
    void anAdministratorAddsChangesAndRetiresARowWithHistoryAndCsv() {
        Browser b = h.admin.browser;
        Browser.Page home = b.get("/console/compliance");
        assertTrue(home.contains("href=\"/console/compliance/registers\""), "linked from the compliance home");
        Browser.Page list = b.get("/console/compliance/registers");
        assertEquals(200, list.status(), list::toString);
        assertTrue(list.contains("機器・ソフトウェア台帳") && list.contains("連絡体制図（緊急連絡網）")
                && list.contains("インシデント台帳"), list::toString);

        b.get("/console/compliance/register/new?r=contacts");
        // a refusal keeps what was typed
        Browser.Page refused = b.submit("/console/compliance/register/save", "f.organisation", "岡山県警察本部",
                "f.category", "police", "f.order", "2", "f.phone", "086-000-0000", "f.when", "", "review", "");
        assertEquals(400, refused.status(), refused::toString);
        assertTrue(refused.contains("連絡する場面・時機を入力してください") && refused.contains("岡山県警察本部")
                && refused.contains("086-000-0000"), refused::toString);
        Browser.Page saved = b.submit("/console/compliance/register/save", "f.organisation", "岡山県警察本部",
                "f.category", "police", "f.order", "2", "f.phone", "086-000-0000", "f.when",
                "ランサムウェアの被害を確認したとき\n<script>alert(1)</script>", "review", "");
        assertEquals(200, saved.status(), saved::toString);
        assertTrue(saved.path().endsWith("/register/row") && saved.contains("保存しました")
                && saved.contains("警察（都道府県警察）"), saved::toString);
        assertFalse(saved.body().contains("<script>alert(1)</script>"), "hostile text is shown as text");
        assertTrue(saved.contains("&lt;script&gt;"), saved::toString);
        // the change re-evaluates the probes at once (not at the next 5-minute round): the contact chart's evidence
        // no longer says it is empty but names what is still missing
        jp.mamori.compliance.Probes probes = h.server.server().probes();
        long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        java.util.Optional<jp.mamori.compliance.Evidence> contacts = probes.latest("registers.contacts");
        while (contacts.map(e -> e.status() == jp.mamori.compliance.Evidence.Status.UNKNOWN).orElse(true)
                && System.nanoTime() < until) {
            java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
            contacts = probes.latest("registers.contacts");
        }
        assertEquals(jp.mamori.compliance.Evidence.Status.FAIL, contacts.orElseThrow().status(),
                contacts.orElseThrow().summary());
        assertTrue(contacts.orElseThrow().summary().contains("事業者"), contacts.orElseThrow().summary());

        Browser.Page changed = b.submit("/console/compliance/register/save", "f.organisation", "岡山県警察本部",
                "f.category", "police", "f.order", "2", "f.phone", "086-111-1111", "f.when",
                "ランサムウェアの被害を確認したとき\n<script>alert(1)</script>", "review", "", "reason", "代表番号に変更");
        assertEquals(200, changed.status(), changed::toString);
        assertTrue(changed.contains("第2版") && changed.contains("変更した項目: 電話番号")
                && changed.contains("代表番号に変更"), changed::toString);
        Browser.Page table = b.get("/console/compliance/register?r=contacts");
        assertTrue(table.contains("086-111-1111") && table.contains("No. 1"), table::toString);
        assertFalse(b.get("/console/home").contains("見直し期限を過ぎた台帳の行"), "nothing overdue yet");
        // a row whose review date has passed is a reminder on the administrator's home
        b.get("/console/compliance/register/new?r=risks");
        Browser.Page risk = b.submit("/console/compliance/register/save", "f.risk", "ランサムウェアによる電子カルテ停止",
                "f.owner", "情報システム室", "f.likelihood", "medium", "f.impact", "high", "f.treatment", "reduce",
                "review", java.time.LocalDate.now(Hospital.JST).minusDays(1).toString());
        assertEquals(200, risk.status(), risk::toString);
        Browser.Page adminHome = b.get("/console/home");
        assertTrue(adminHome.contains("見直し期限を過ぎた台帳の行") && adminHome.body().contains(
                "href=\"/console/compliance/registers\""), "a reminder on the administrator's home: " + adminHome);

        // export: UTF-8 with BOM, Japanese headers, a download
        Browser.Page csv = b.get("/console/compliance/register/export?r=contacts");
        assertEquals(200, csv.status());
        assertTrue(csv.response().headers().firstValue("Content-Disposition").orElse("").startsWith("attachment"));
        String text = new String(csv.bytes(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("\uFEFF台帳番号,組織・部署,区分,連絡順"), text);

        // import pasted: a bad row refuses all, the text stays; a good file adds and changes
        b.get("/console/compliance/register/import?r=contacts");
        String bad = "台帳番号,組織・部署,区分,連絡順,電話番号,連絡する場面・時機\n"
                + ",厚生労働省 医政局,厚生労働省,3,03-5253-1111,被害の報告\n"
                + ",A社サポート,事業者,x,0120-000-000,障害のとき\n";
        long before = versions();
        Browser.Page no = b.submit("/console/compliance/register/import", "csv", bad);
        assertEquals(400, no.status(), no::toString);
        assertTrue(no.contains("3 行目: 連絡順は 0 以上の整数で入力してください") && no.contains("厚生労働省 医政局"),
                no::toString);
        assertEquals(before, versions(), "nothing written");
        Browser.Page yes = b.submit("/console/compliance/register/import", "csv", bad.replace(",x,", ",1,"));
        assertEquals(200, yes.status(), yes::toString);
        assertTrue(yes.contains("取り込みました: 追加 2 件、変更 0 件、変更なし 0 件"), yes::toString);
        // a file chosen in the form (multipart): the exported CSV as Excel saves it, BOM and all, changes nothing
        byte[] exported = b.get("/console/compliance/register/export?r=contacts").bytes();
        Browser.Page form = b.get("/console/compliance/register/import?r=contacts");
        assertTrue(form.body().contains("enctype=\"multipart/form-data\"") && form.body().contains("type=\"file\""),
                form::toString);
        long beforeFile = versions();
        Browser.Page file = b.submitMultipart("/console/compliance/register/import", Map.of("csv", ""),
                new Browser.FilePart("file", "contacts.csv", "text/csv", exported));
        assertEquals(200, file.status(), file::toString);
        assertTrue(file.contains("取り込みました: 追加 0 件、変更 0 件、変更なし"), file::toString);
        assertEquals(beforeFile, versions(), "an unchanged file writes nothing");

        // retire: a reason is required, kept on a refusal; the row leaves the list and keeps its history
        b.get("/console/compliance/register/row?r=contacts&n=1");
        Browser.Page noReason = b.submit("/console/compliance/register/retire", "reason", "");
        assertEquals(400, noReason.status(), noReason::toString);
        assertTrue(noReason.contains("理由を入力してください"), noReason::toString);
        Browser.Page retired = b.submit("/console/compliance/register/retire", "reason", "窓口の統合");
        assertEquals(200, retired.status(), retired::toString);
        assertTrue(retired.contains("行を廃止しました") && !retired.contains("岡山県警察本部"), retired::toString);
        Browser.Page old = b.get("/console/compliance/register/row?r=contacts&n=1");
        assertTrue(old.contains("この行は廃止されています") && old.contains("窓口の統合")
                && !old.body().contains("action=\"/console/compliance/register/save\""), old::toString);
    }

    @Test
    void anAuditorReadsAndExportsAPhysicianIsRefusedAndEveryPostNeedsTheToken() {
        h.server.server().registers().save(jp.mamori.audit.Actor.server("test"),
                jp.mamori.compliance.RegisterKind.RISKS, null, null, Map.of("risk", "停電", "owner", "施設課",
                        "likelihood", "low", "impact", "high", "treatment", "reduce"), "", null);
        Person auditor = h.staffWithRole("kansa.r", "監査室", "auditor");
        Person physician = h.staffWithRole("ishi.r", "内科", "physician");
        for (String path : List.of("/console/compliance/registers", "/console/compliance/register?r=risks",
                "/console/compliance/register/row?r=risks&n=1", "/console/compliance/register/export?r=risks")) {
            Browser.Page refused = physician.browser.get(path);
            assertEquals(403, refused.status(), path + ": " + refused);
            assertFalse(refused.contains("停電"), path);
            Browser.Page read = auditor.browser.get(path);
            assertEquals(200, read.status(), path + ": " + read);
            assertTrue(read.contains(path.endsWith("/registers") ? "リスク台帳" : "停電"), path);
        }
        Browser.Page row = auditor.browser.get("/console/compliance/register/row?r=risks&n=1");
        assertTrue(row.contains("閲覧のみです") && !row.body().contains("action=\"/console/compliance/register/save\""),
                row::toString);
        for (String path : List.of("/console/compliance/register/new?r=risks", "/console/compliance/register/import?r=risks")) {
            assertEquals(403, auditor.browser.get(path).status(), path);
        }
        long before = versions();
        Map<String, String> form = new LinkedHashMap<>(Map.of("r", "risks", "n", "1", "v", "1", "reason", "監査で不要",
                "csrf", row.csrf()));
        assertEquals(403, auditor.browser.post("/console/compliance/register/retire", form, Map.of()).status());
        assertEquals(403, auditor.browser.post("/console/compliance/register/import", Map.of("r", "risks", "csv",
                "リスク,責任者,顕在化率,影響度,対応\nx,y,高,高,低減\n", "csrf", row.csrf()), Map.of()).status());
        // an administrator's POST without the form's token is refused by the gate
        h.admin.browser.get("/console/compliance/register/row?r=risks&n=1");
        form.remove("csrf");
        assertEquals(403, h.admin.browser.post("/console/compliance/register/retire", form, Map.of()).status());
        assertEquals(before, versions());
        // hostile or unknown register and row: a plain not-found
        for (String path : List.of("/console/compliance/register?r=%3Cscript%3E", "/console/compliance/register/row?r=risks&n=99",
                "/console/compliance/register/row?r=risks&n=-1", "/console/compliance/register/row?r=risks&n=99999999999")) {
            Browser.Page odd = h.admin.browser.get(path);
            assertEquals(404, odd.status(), path + ": " + odd);
            assertFalse(odd.body().contains("<script>"));
        }
        // a stale version is refused with one line and the typed text kept
        h.admin.browser.get("/console/compliance/register/row?r=risks&n=1");
        Browser.Page stale = h.admin.browser.submit("/console/compliance/register/save", "v", "0", "f.risk", "停電",
                "f.owner", "情報システム室", "f.likelihood", "low", "f.impact", "high", "f.treatment", "reduce");
        assertEquals(400, stale.status(), stale::toString);
        assertTrue(stale.contains("この行は他の人が先に変更しました") && stale.contains("情報システム室"), stale::toString);
        // the form now edits the newest version: saving again is a deliberate choice and succeeds
        Browser.Page again = h.admin.browser.submit("/console/compliance/register/save", "f.risk", "停電",
                "f.owner", "情報システム室", "f.likelihood", "low", "f.impact", "high", "f.treatment", "reduce");
        assertEquals(200, again.status(), again::toString);
        assertTrue(again.contains("第2版") && again.contains("変更した項目: 責任者"), again::toString);
    }
}
