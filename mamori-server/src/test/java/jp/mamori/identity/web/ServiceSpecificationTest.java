package jp.mamori.identity.web;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mamori's own サービス仕様適合開示書 (SDS) over HTTP (issue 20; GOV-36, GOV-39): generated from the running
 * configuration (a deviation shows as one), the requirement → code → test mapping in the jar and the live probes; as a
 * page and as CSV for Excel; read by administrators and auditors, refused to a physician.
 */
class ServiceSpecificationTest {
    private static Hospital h;

    @BeforeAll
    static void start() {
        h = Hospital.open(List.of("--session-idle-minutes", "30"));
    }

    @AfterAll
    static void stop() {
        h.close();
    }

    @Test
    void theDisclosureIsGeneratedFromTheMappingTheSettingsAndTheLiveEvidence() {
        Browser b = h.admin.browser;
        Browser.Page home = b.get("/console/compliance");
        assertTrue(home.contains("/console/compliance/sds"), "linked from the compliance home: " + home);
        Browser.Page sds = b.get("/console/compliance/sds");
        assertEquals(200, sds.status(), sds::toString);
        // the product, the settings that decide answers, this server's deviation (a longer idle lock) marked
        assertTrue(sds.contains("Mamori 0.1.0") && sds.contains("稼働中の設定") && sds.contains("30 分"), sds::toString);
        assertTrue(sds.body().contains("<dd class=\"state-warn\">30 分"), "a weaker idle lock is marked: " + sds);
        // a requirement the mapping covers: its coverage, implementation and code; one it does not: the institution's
        int auth1 = sds.body().indexOf("id=\"AUTH-1\"");
        assertTrue(auth1 > 0, sds::toString);
        int next = sds.body().indexOf("class=\"compliance-item\"", auth1 + 10);
        String auth1Row = sds.body().substring(auth1, next);
        assertTrue(auth1Row.contains(">対応<") && auth1Row.contains("Console.java"), auth1Row);
        assertTrue(sds.contains("製品の機能なし（医療機関等の運用で対応）"), sds::toString);
        // the live evidence of a probe shows beside the requirement it answers (the probes run 15 s after start:
        // wait for them rather than asserting on an empty registry)
        h.server.server().probes().evaluate();
        jp.mamori.compliance.Evidence disclosure = h.server.server().probes().latest("vendor.disclosure").orElseThrow();
        assertEquals(jp.mamori.compliance.Evidence.Status.PASS, disclosure.status(), disclosure.summary());
        assertTrue(disclosure.summary().contains("要件 257 件のうち 対応 "), disclosure.summary());
        Browser.Page again = b.get("/console/compliance/sds?coverage=PROVIDED");
        int auth2 = again.body().indexOf("id=\"AUTH-2\"");
        assertTrue(auth2 > 0, again::toString);
        assertTrue(again.body().indexOf("システムの確認", auth2) > 0, again::toString);
        assertFalse(again.contains("id=\"GOV-33\""), "filtered to what the product provides (third-party provision"
                + " is the institution's): " + again);

        Browser.Page csv = b.get("/console/compliance/sds.csv");
        assertEquals(200, csv.status(), csv::toString);
        String text = new String(csv.bytes(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("\uFEFF\"要件ID / requirement\""), text.substring(0, 80));
        assertTrue(text.contains("\"AUTH-1\"") && text.contains("\"対応 / provided\""), "CSV rows");
        assertTrue(text.lines().count() > 250, "one row per requirement of the catalogue");
        assertTrue(csv.response().headers().firstValue("Content-Disposition").orElse("").startsWith("attachment"));
    }

    @Test
    void auditorsReadAndAPhysicianIsRefused() {
        Person auditor = h.staffWithRole("kansa.s", "監査室", "auditor");
        Person physician = h.staffWithRole("ishi.s", "内科", "physician");
        for (String path : List.of("/console/compliance/sds", "/console/compliance/sds.csv")) {
            assertEquals(200, auditor.browser.get(path).status(), path);
            Browser.Page refused = physician.browser.get(path);
            assertEquals(403, refused.status(), path + ": " + refused);
            assertFalse(refused.contains("AUTH-1"), refused::toString);
        }
    }
}
