package jp.mamori.identity.web;

import jp.mamori.access.AccessAdmin;
import jp.mamori.access.AccessReviews;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.Probe;
import jp.mamori.compliance.Probes;
import jp.mamori.compliance.StandardProbes;
import jp.mamori.identity.Identity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live compliance probes on a running server (issue 20): turning a control off turns its probe red, and putting
 * it back turns it green; each change is a history row, an audit entry of the system, and for a FAIL an alert.
 */
class ComplianceProbesTest {
    private static Hospital h;
    private static Probes probes;
    private static Identity identity;

    @BeforeAll
    static void open() {
        h = Hospital.open(); // the test server runs with --no-backup
        probes = h.server.server().probes();
        identity = h.server.server().identity();
    }

    @AfterAll
    static void close() {
        h.close();
    }

    private static Evidence now(String probeId) {
        probes.evaluate();
        return probes.latest(probeId).orElseThrow();
    }

    /**
     * The "done": every item of the seeded checklists that Mamori's capabilities (probes, registers, documents,
     * its own disclosure) can speak to shows live evidence on a fresh server. The items left are named here with why,
     * so an item that loses its evidence, or a new one without any, fails this test.
     */
    @Test
    void everySeededChecklistItemMamoriCoversHasLiveEvidence() {
        probes.evaluate();
        java.util.Map<String, String> without = java.util.Map.of(
                "role-sharing/p1-a-3", "GOV-33: third-party provision records (no capability yet)",
                "role-sharing/p2-a-9", "EXT-4/5: external storage (Mamori stores on the institution's server)",
                "role-sharing/p2-a-9-2", "EXT-6/DISPOSAL-8: the external store's destruction",
                "role-sharing/p2-a-12", "VULN-9: the vendor's own proposals",
                "role-sharing/p2-b-5", "NET-10: the network's configuration (the institution's network)",
                "role-sharing/p2-c-3", "GOV-40: the operator's periodic reports",
                "onsite-inspection/p2-k-4", "MAL-3: virus checking on the institution's machines");
        jp.mamori.compliance.Frameworks fws = new jp.mamori.compliance.Frameworks(null).load();
        List<String> missing = new java.util.ArrayList<>();
        List<String> unexpected = new java.util.ArrayList<>();
        int items = 0;
        for (String id : List.of("role-sharing", "onsite-inspection")) {
            for (jp.mamori.compliance.Framework.Item it : fws.newest(id).orElseThrow().items()) {
                items++;
                boolean has = it.requirements().stream().anyMatch(q -> !probes.forRequirement(q).isEmpty());
                String key = id + "/" + it.id();
                if (!has && !without.containsKey(key)) {
                    missing.add(key + " " + it.title() + " " + it.requirements());
                } else if (has && without.containsKey(key)) {
                    unexpected.add(key);
                }
            }
        }
        assertEquals(List.of(), missing, "items without live evidence");
        assertEquals(List.of(), unexpected, "items listed as uncovered that now have evidence: take them off the list");
        assertEquals(54, items, "39 role-sharing and 15 inspection items");
    }

    @Test
    void anActivePartnerWithoutASecondFactorTurnsThePartnersProbeRed() throws Exception {
        String probe = "access.partners";
        UUID partner = h.createStaff("probe.partner", "", "type", "partner", "institution_name", "みどり在宅クリニック",
                "institution_code", "1312345678");
        assertEquals(Evidence.Status.UNKNOWN, now(probe).status(), "no active partner yet");
        String status = h.one("SELECT status FROM account WHERE account_id = ?", partner);
        h.execute("UPDATE account SET status = 'active' WHERE account_id = ?", partner);
        try {
            Evidence red = now(probe);
            assertEquals(Evidence.Status.FAIL, red.status(), red.summary());
            assertTrue(red.summary().contains("probe.partner") && red.summary().contains("二要素目のない連携先医療者 1 人"),
                    red.summary());
            assertTrue(red.summary().contains("有効な共有 0 件"), red.summary());
            assertTrue(probes.forRequirement("AUTH-11").stream().anyMatch(e -> e.probeId().equals(probe)));
        } finally {
            h.execute("UPDATE account SET status = ? WHERE account_id = ?", status, partner);
        }
        assertEquals(Evidence.Status.UNKNOWN, now(probe).status());
    }

    @Test
    void anAccountWithoutASecondFactorTurnsMfaRedWithHistoryAuditAndAlertAndRetiringItTurnsItGreen() throws Exception {
        String probe = "identity.mfa-coverage";
        Person staff = h.enrolStaff("probe.mfa", "内科");
        Evidence green = now(probe);
        assertEquals(Evidence.Status.PASS, green.status(), green.summary());
        assertTrue(green.summary().startsWith("有効なアカウント "), green.summary());
        assertTrue(probes.forRequirement("AUTH-2").stream().anyMatch(e -> e.probeId().equals(probe)));

        identity.factors().removeTotp(staff.accountId, "test");
        Evidence red = now(probe);
        assertEquals(Evidence.Status.FAIL, red.status(), red.summary());
        assertTrue(red.summary().contains("なし 1 件（" + staff.loginId + "）"), red.summary());
        // the compliance console's item for AUTH-2 shows this probe's evidence, live
        Browser.Page item = h.admin.browser.get("/console/compliance/item?id=mamori-requirements&v=2026&item=AUTH-2");
        assertEquals(200, item.status(), item::toString);
        assertTrue(item.contains(staff.loginId) && item.contains("いいえ"), () -> "the live evidence on the item: " + item);
        assertEquals("/console/admin/accounts", red.detailPath());
        List<Probes.Change> history = probes.history(probe, 10);
        assertEquals(Evidence.Status.FAIL, history.get(0).status());
        assertEquals(Evidence.Status.PASS, history.get(1).status(), "the history shows when it changed");
        assertTrue(h.server.server().alerts().open().stream().anyMatch(a -> a.key().equals("compliance." + probe)),
                "a FAIL raises an alert");
        List<String> outcomes = auditEntries(probe, 2);
        assertEquals("error", outcomes.get(outcomes.size() - 1), "the change to FAIL is an audit entry: " + outcomes);

        identity.accounts().retire(staff.accountId, null, "退職のため（試験） / leaving (test)", "test");
        Evidence back = now(probe);
        assertEquals(Evidence.Status.PASS, back.status(), back.summary());
        assertEquals(Evidence.Status.PASS, probes.history(probe, 1).get(0).status());
        assertFalse(h.server.server().alerts().open().stream().anyMatch(a -> a.key().equals("compliance." + probe)),
                "the alert clears");
    }

    @Test
    void anMfaExceptionIsAmberAndOneWithoutARealCompensatingControlIsRed() throws Exception {
        String probe = "identity.mfa-coverage";
        Instant until = Instant.now().plus(Duration.ofDays(30));
        var ex = identity.mfaExceptions().grant("救急外来 端末", "10.20.30.0/24", "入室は IC カードと静脈認証で管理",
                until, "test");
        try {
            Evidence amber = now(probe);
            assertEquals(Evidence.Status.PARTIAL, amber.status(), amber.summary());
            assertTrue(amber.summary().contains("入室は IC カードと静脈認証で管理"), amber.summary());
            assertEquals("/console/admin/mfa-exceptions", amber.detailPath());
            // a control of blanks gets past the length check of the table, not past the probe
            sql("INSERT INTO mfa_exception (exception_id, name, address_range, compensating_control, granted_by,"
                    + " granted_at, expires_at) VALUES ('" + UUID.randomUUID() + "', '空欄の例外', '10.20.31.0/24',"
                    + " '            ', 'test', now(), now() + interval '1 day')");
            Evidence red = now(probe);
            assertEquals(Evidence.Status.FAIL, red.status(), red.summary());
            assertTrue(red.summary().contains("代替管理策の記載がない例外 1 件"), red.summary());
        } finally {
            for (var e : identity.mfaExceptions().list()) {
                if (e.revokedAt() == null) {
                    identity.mfaExceptions().revoke(e.id(), "test");
                }
            }
        }
        assertEquals(Evidence.Status.PASS, now(probe).status());
    }

    @Test
    void aLeaverPastTheirRetirementTurnsTheAccountSweepRed() {
        Person leaver = h.enrolStaff("probe.leaver", "外科");
        Instant now = Instant.now();
        Probe p = StandardProbes.accountSweep(identity.accounts(), 90, true);
        assertEquals(Evidence.Status.PASS, p.evaluate(now).status(), p.evaluate(now).summary());
        identity.accounts().retire(leaver.accountId, now.plus(Duration.ofDays(1)), "退職予定 / leaving tomorrow", "test");
        Evidence late = p.evaluate(now.plus(Duration.ofDays(2))); // the sweep did not run: the account is still active
        assertEquals(Evidence.Status.FAIL, late.status(), late.summary());
        assertTrue(late.summary().startsWith("退職日を過ぎた有効なアカウント 1 件（" + leaver.loginId + "）"), late.summary());
        assertEquals(Evidence.Status.PASS, p.evaluate(now).status(), "before the retirement time nothing is late");
        assertEquals(Evidence.Status.PARTIAL, StandardProbes.accountSweep(identity.accounts(), 90, false)
                .evaluate(now).status(), "--unused-action report: unused accounts are only reported");
    }

    @Test
    void aDepartmentNeverReviewedIsRedInReviewAmberReviewedGreenAndOverdueAYearLaterRed() {
        AccessAdmin access = AccessAdmin.create(h.server.server().database().dataSource(), Clock.systemUTC());
        Probe p = StandardProbes.accessReviews(access.reviews(), Duration.ofDays(365));
        Instant now = Instant.now();
        Evidence never = p.evaluate(now);
        assertEquals(Evidence.Status.FAIL, never.status(), never.summary());
        assertTrue(never.summary().contains("未実施"), never.summary());
        List<AccessReviews.Standing> depts = access.reviews().standings();
        assertFalse(depts.isEmpty(), "the administrator's role is assigned in a department");
        List<UUID> started = depts.stream().map(d -> access.reviews().start(h.admin.accountId, d.department())).toList();
        Evidence open = p.evaluate(Instant.now());
        assertEquals(Evidence.Status.PARTIAL, open.status(), open.summary());
        for (UUID r : started) {
            for (AccessReviews.Item i : access.reviews().items(r)) {
                access.reviews().decide(h.admin.accountId, i.id(), "confirm", "業務上必要 / needed");
            }
            access.reviews().complete(h.admin.accountId, r);
        }
        Evidence done = p.evaluate(Instant.now());
        assertEquals(Evidence.Status.PASS, done.status(), done.summary());
        assertEquals(Evidence.Status.FAIL, p.evaluate(Instant.now().plus(Duration.ofDays(400))).status(),
                "a review older than the interval is overdue");
        assertEquals("/console/admin/access-review", done.detailPath());
    }

    @Test
    void aBreakGlassUseNotReviewedInTimeTurnsRedAndItsReviewTurnsItGreen() {
        new Clinic(h).patient("pt-2001", "救急", "花子", "キュウキュウ", "ハナコ", "1970-02-03", "female");
        Person nurse = h.enrolStaff("probe.bg", "救急科");
        nurse.browser.get("/console/break-glass");
        Browser.Page p = nurse.browser.submit("/console/break-glass", "patient", "pt-2001", "reason",
                "unconscious_patient", "reason_text", "救急搬送、意識なし。既往歴と服薬の確認");
        if (p.path().equals(Hospital.STEP_UP_PATH)) {
            p = nurse.stepUpQuickly(nurse.browser);
        }
        assertEquals("/console/break-glass", p.path(), p::toString);
        jp.mamori.access.BreakGlass bg = new jp.mamori.access.BreakGlass(h.server.server().database().dataSource(),
                Clock.systemUTC(), jp.mamori.access.BreakGlass.Settings.DEFAULT, new jp.mamori.access.LogNotifier());
        Probe probe = StandardProbes.breakGlass(bg);
        Instant now = Instant.now();
        Evidence waiting = probe.evaluate(now);
        assertEquals(Evidence.Status.PASS, waiting.status(), "within the review time: " + waiting.summary());
        assertTrue(waiting.summary().startsWith("未レビューの緊急時アクセス 1 件"), waiting.summary());
        Evidence late = probe.evaluate(now.plus(Duration.ofHours(73)));
        assertEquals(Evidence.Status.FAIL, late.status(), late.summary());
        assertTrue(late.summary().contains("72 時間を過ぎたもの 1 件"), late.summary());

        UUID use = h.one("SELECT break_glass_id FROM break_glass WHERE account_id = ?", nurse.accountId);
        h.admin.browser.get("/console/admin/break-glass");
        Browser.Page reviewed = h.adminSubmit("/console/admin/break-glass/review", "id", use.toString(), "decision",
                "appropriate", "comment", "救急外来の受診記録と一致");
        assertEquals("/console/admin/break-glass", reviewed.path(), reviewed::toString);
        assertEquals(Evidence.Status.PASS, probe.evaluate(now.plus(Duration.ofHours(73))).status());
        assertEquals("/console/admin/break-glass", late.detailPath());
    }

    @Test
    void withNoBackupTheBackupsAreRedTheDeviationsAmberAndTheHistoryCannotBeRewritten() {
        Evidence backups = now("preservation.backups");
        assertEquals(Evidence.Status.FAIL, backups.status(), backups.summary());
        assertTrue(backups.summary().contains("--no-backup"), backups.summary());
        Evidence deviations = now("config.deviations");
        assertEquals(Evidence.Status.PARTIAL, deviations.status(), deviations.summary());
        Evidence tls = now("web.tls");
        assertEquals(Evidence.Status.PASS, tls.status(), tls.summary());
        Evidence trail = now("audit.trail");
        assertNotEquals(Evidence.Status.UNKNOWN, trail.status(), trail.summary());
        assertTrue(trail.summary().contains("チェックポイント"), trail.summary());
        assertEquals(36, probes.latest().size(), "every probe has evidence (sixteen standard, three of the vendor's,"
                + " eight of the registers, seven of the documents' kinds, two of maintenance)");
        assertEquals(Evidence.Status.PASS, now("access.sealed-grants").status(), "nothing widened behind the server");
        assertEquals(Evidence.Status.UNKNOWN, now("maintenance.work-orders").status(), "no vendor registered yet");
        assertEquals(Evidence.Status.UNKNOWN, now("documents.bcp").status(), "no BCP uploaded: not known, not failed");
        assertTrue(probes.latest(jp.mamori.compliance.EndOfSupport.ID).isPresent()
                && probes.latest("vendor.advisories").isPresent(), "the vendor's probes are registered");
        assertFalse(probes.history("preservation.backups", 5).isEmpty(), "the first status is stored");
        assertThrows(SQLException.class, () -> sql("UPDATE compliance_probe_change SET status = 'PASS'"));
        assertThrows(SQLException.class, () -> sql("DELETE FROM compliance_probe_change"));
    }

    private static void sql(String sql) throws SQLException {
        try (Connection c = h.server.superuserConnection(); Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        }
    }

    /** The outcomes of the trail's compliance.probe entries about {@code probe}, waiting for at least {@code n}. */
    private static List<String> auditEntries(String probe, int n) throws InterruptedException {
        List<String> out = List.of();
        for (int i = 0; i < 100 && out.size() < n; i++) {
            out = h.rows("SELECT outcome FROM audit_entry WHERE action = 'compliance.probe'"
                    + " AND convert_from(entry, 'UTF8')::jsonb -> 'detail' ->> 'probe' = ? ORDER BY seq", probe).stream().map((Map<String, Object> r) -> (String) r.get("outcome")).toList();
            if (out.size() < n) {
                Thread.sleep(100);
            }
        }
        return out;
    }
}
