package jp.mamori.compliance;

import jp.mamori.ops.Health;
import jp.mamori.ops.HealthCheck;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probes that judge from the health report, the configuration and TLS, and the registry, with a fixed clock. */
class StandardProbesTest {
    private static final Instant NOW = Instant.parse("2026-12-07T03:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);

    /** A health report whose lines say what {@code lines} holds now (name -> result). */
    private static Health health(Map<String, AtomicReference<HealthCheck.Result>> lines) {
        Health h = new Health(CLOCK);
        lines.forEach((name, r) -> h.register(HealthCheck.of(name, false, r::get)));
        return h;
    }

    @Test
    void theAuditTrailTurnsRedWithItsCheckpointerAndAmberWithoutSiem() {
        var cp = new AtomicReference<>(HealthCheck.Result.up("署名済み 10 件 / 10 entries signed").at(NOW));
        var siem = new AtomicReference<>(HealthCheck.Result.up("siem.example:6514: 10 sent"));
        Health h = health(Map.of("audit-appender", new AtomicReference<>(HealthCheck.Result.up("待ち 0 件")),
                "checkpointer", cp, "tsa", new AtomicReference<>(HealthCheck.Result.up("stamped")), "siem", siem));
        Probe p = StandardProbes.auditTrail(h::fresh, null);
        assertEquals(Evidence.Status.PASS, p.evaluate(NOW).status());

        siem.set(HealthCheck.Result.degraded("SIEM への転送が設定されていません / no SIEM forwarding"));
        Evidence amber = p.evaluate(NOW);
        assertEquals(Evidence.Status.PARTIAL, amber.status());
        assertTrue(amber.summary().contains("SIEM への転送が設定されていません"), amber.summary());

        cp.set(HealthCheck.Result.down("チェックポイントの署名が止まっています / checkpoints have stalled"));
        Evidence red = p.evaluate(NOW);
        assertEquals(Evidence.Status.FAIL, red.status(), "a stopped checkpointer turns the trail red");
        assertTrue(red.summary().startsWith("署名済みチェックポイントなし"), red.summary());
        assertTrue(red.summary().contains("チェックポイントの署名が止まっています"), red.summary());
        assertEquals("/console/admin/health", red.detailPath());
        assertTrue(p.requirements().containsAll(Set.of("AUDIT-3", "AUDIT-6")));
    }

    @Test
    void backupsOffAreRedAStaleBackupRedAndAFreshOneGreen() {
        var line = new AtomicReference<>(HealthCheck.Result.up("直近のバックアップ / newest backup").at(NOW));
        Health h = health(Map.of("backup", line));
        assertEquals(Evidence.Status.FAIL, StandardProbes.backups(h::fresh, "backups are off (--no-backup)")
                .evaluate(NOW).status(), "--no-backup turns the backups red");
        Probe on = StandardProbes.backups(h::fresh, null);
        assertEquals(Evidence.Status.PASS, on.evaluate(NOW).status());
        line.set(HealthCheck.Result.degraded("完了したバックアップはまだありません / no finished backup yet"));
        assertEquals(Evidence.Status.PARTIAL, on.evaluate(NOW).status());
        line.set(HealthCheck.Result.down("直近のバックアップが古すぎます / the newest backup is older than 36 hours"));
        Evidence red = on.evaluate(NOW);
        assertEquals(Evidence.Status.FAIL, red.status());
        assertEquals("/console/admin/backups", red.detailPath());
    }

    @Test
    void degradedReadinessIsRedForAStaleKitOrAnUnmergedJournal() {
        var kit = new AtomicReference<>(HealthCheck.Result.up("縮退用資料は最新です / every ward's downtime kit is fresh"));
        Health h = health(Map.of("downtime-kit", kit,
                "audit-journal", new AtomicReference<>(HealthCheck.Result.up("ローカル保存なし / nothing held"))));
        AtomicReference<Integer> unmerged = new AtomicReference<>(0);
        Probe p = StandardProbes.downtimeReadiness(h::fresh, unmerged::get);
        assertEquals(Evidence.Status.PASS, p.evaluate(NOW).status());
        unmerged.set(2);
        Evidence journal = p.evaluate(NOW);
        assertEquals(Evidence.Status.FAIL, journal.status());
        assertTrue(journal.summary().startsWith("未統合の監査ジャーナル 2 件"), journal.summary());
        unmerged.set(0);
        kit.set(HealthCheck.Result.down("1 か所の縮退用資料が古いか、パスワード未設定で作成できません / 1 ward(s) with a stale kit"));
        assertEquals(Evidence.Status.FAIL, p.evaluate(NOW).status());
    }

    @Test
    void tlsIsRedOnPlainHttpAnOldProtocolOrACertificateAboutToExpire() {
        AtomicReference<StandardProbes.TlsProfile> profile = new AtomicReference<>(new StandardProbes.TlsProfile(
                List.of("TLSv1.3", "TLSv1.2"), NOW.plus(Duration.ofDays(200))));
        Probe p = StandardProbes.tls(profile::get);
        Evidence ok = p.evaluate(NOW);
        assertEquals(Evidence.Status.PASS, ok.status(), ok.summary());
        assertTrue(ok.summary().startsWith("プロトコル TLS 1.3・TLS 1.2 のみ、証明書の有効期限 2027年"), ok.summary());
        assertTrue(ok.summary().contains("残り 200 日"), ok.summary());
        profile.set(null);
        assertEquals(Evidence.Status.FAIL, p.evaluate(NOW).status(), "--http: no TLS");
        profile.set(new StandardProbes.TlsProfile(List.of("TLSv1.3", "TLSv1.1"), NOW.plus(Duration.ofDays(200))));
        assertEquals(Evidence.Status.FAIL, p.evaluate(NOW).status());
        profile.set(new StandardProbes.TlsProfile(List.of("TLSv1.3"), NOW.plus(Duration.ofDays(10))));
        assertEquals(Evidence.Status.FAIL, p.evaluate(NOW).status());
    }

    @Test
    void deviationsAreAmberWithTheirList() {
        AtomicReference<List<String>> d = new AtomicReference<>(List.of());
        Probe p = StandardProbes.deviations(d::get);
        assertEquals(Evidence.Status.PASS, p.evaluate(NOW).status());
        d.set(List.of("plain HTTP on loopback (--http)", "backups are off (--no-backup)"));
        Evidence e = p.evaluate(NOW);
        assertEquals(Evidence.Status.PARTIAL, e.status());
        assertTrue(e.summary().startsWith("安全な既定値からの逸脱 2 件"), e.summary());
        assertTrue(e.summary().contains("--http"), e.summary());
    }

    @Test
    void monitoringIsAmberWithoutAnOutsideReceiverRedWhenTheSiemDoesNotReceiveAndGreenWhenItDoes() {
        var siem = new AtomicReference<>(HealthCheck.Result.up("siem.example:6514: 10 sent"));
        Health h = health(Map.of("siem", siem, "database", new AtomicReference<>(HealthCheck.Result.up("ok"))));
        AtomicReference<Integer> open = new AtomicReference<>(0);
        Evidence none = StandardProbes.monitoring(h::fresh, null, open::get).evaluate(NOW);
        assertEquals(Evidence.Status.PARTIAL, none.status());
        assertTrue(none.summary().contains("未設定"), none.summary());
        Probe p = StandardProbes.monitoring(h::fresh, "siem.example:6514", open::get);
        assertEquals(Evidence.Status.PASS, p.evaluate(NOW).status());
        open.set(2);
        Evidence withAlerts = p.evaluate(NOW);
        assertEquals(Evidence.Status.PARTIAL, withAlerts.status());
        assertTrue(withAlerts.summary().contains("未解決の警告 2 件"), withAlerts.summary());
        open.set(0);
        siem.set(HealthCheck.Result.down("siem.example:6514 unreachable"));
        assertEquals(Evidence.Status.FAIL, p.evaluate(NOW).status());
        assertTrue(p.requirements().containsAll(Set.of("NET-13", "AUDIT-9")));
    }

    @Test
    void maintenanceIsUnknownWithoutVendorsAmberWhileARequestWaitsAndGreenWhenAllIsDecided() {
        AtomicReference<long[]> c = new AtomicReference<>(new long[] {0, 0, 0, 0});
        AtomicReference<List<String>> late = new AtomicReference<>(List.of());
        Probe p = StandardProbes.maintenanceWork(c::get, late::get);
        assertEquals(Evidence.Status.UNKNOWN, p.evaluate(NOW).status());
        c.set(new long[] {1, 2, 0, 1});
        Evidence waiting = p.evaluate(NOW);
        assertEquals(Evidence.Status.PARTIAL, waiting.status());
        assertTrue(waiting.summary().contains("承認待ちの作業申請 1 件"), waiting.summary());
        c.set(new long[] {2, 2, 1, 0});
        assertEquals(Evidence.Status.PARTIAL, p.evaluate(NOW).status(), "a vendor without a route");
        c.set(new long[] {1, 2, 0, 0});
        assertEquals(Evidence.Status.PASS, p.evaluate(NOW).status());
        assertTrue(p.requirements().containsAll(Set.of("MAINT-1", "MAINT-5", "MAINT-14", "ACCESS-6")));
        late.set(List.of("作業報告 2026-0003 の提出が期限を過ぎています / the work report of 2026-0003 is late"));
        Evidence overdue = p.evaluate(NOW);
        assertEquals(Evidence.Status.FAIL, overdue.status(), "a late work report escalates");
        assertTrue(overdue.summary().contains("2026-0003") && overdue.summary().contains("期限を過ぎた作業報告 1 件"),
                overdue.summary());
    }

    @Test
    void theDirectoryIsRedWhileItsSyncFailsAndAmberWhenItStopsRunning() {
        jp.mamori.directory.DirectorySync.Run ok = new jp.mamori.directory.DirectorySync.Run(1, NOW.minusSeconds(120),
                NOW.minusSeconds(119), "schedule", "system:directory", true, null, 40, 38, 1, 0);
        jp.mamori.directory.DirectorySync.Run bad = new jp.mamori.directory.DirectorySync.Run(2, NOW.minusSeconds(60),
                NOW.minusSeconds(59), "schedule", "system:directory", false, "ディレクトリに接続できません / unreachable",
                0, 38, 0, 0);
        AtomicReference<jp.mamori.directory.DirectorySync.State> st = new AtomicReference<>(
                new jp.mamori.directory.DirectorySync.State(false, java.util.Optional.empty(),
                        java.util.Optional.empty(), false, 0, 0, 0));
        Probe p = StandardProbes.directory(st::get, Duration.ofMinutes(15));
        assertEquals(Evidence.Status.UNKNOWN, p.evaluate(NOW).status(), "no directory: leavers by hand");
        st.set(new jp.mamori.directory.DirectorySync.State(true, java.util.Optional.of(ok), java.util.Optional.empty(),
                false, 38, 1, 0));
        Evidence pass = p.evaluate(NOW);
        assertEquals(Evidence.Status.PASS, pass.status(), pass.summary());
        assertTrue(pass.summary().contains("連携 38 人、同期で停止 1 人"), pass.summary());
        st.set(new jp.mamori.directory.DirectorySync.State(true, java.util.Optional.of(ok), java.util.Optional.of(bad),
                true, 38, 1, 0));
        Evidence fail = p.evaluate(NOW);
        assertEquals(Evidence.Status.FAIL, fail.status());
        assertTrue(fail.summary().contains("unreachable"), fail.summary());
        st.set(new jp.mamori.directory.DirectorySync.State(true, java.util.Optional.of(ok), java.util.Optional.of(bad),
                false, 38, 1, 0));
        assertEquals(Evidence.Status.PARTIAL, p.evaluate(NOW.plus(Duration.ofHours(1))).status(),
                "the last success an hour ago with a 15-minute interval: not on schedule");
        assertTrue(p.requirements().contains("ACCT-2"));
    }

    @Test
    void theIdentityProvidersRuleIsTheEvidenceAndItsOutageIsAmber() {
        AtomicReference<jp.mamori.federation.Federation.Summary> st = new AtomicReference<>(
                new jp.mamori.federation.Federation.Summary(false, false, null, List.of(), List.of(), 0, null));
        Probe p = StandardProbes.oidc(st::get);
        assertEquals(Evidence.Status.UNKNOWN, p.evaluate(NOW).status(), "no provider: local sign-in only");
        st.set(new jp.mamori.federation.Federation.Summary(true, false, null, List.of(), List.of("otp"), 12,
                "https://idp.hospital.example.jp/realms/hospital"));
        Evidence pass = p.evaluate(NOW);
        assertEquals(Evidence.Status.PASS, pass.status(), pass.summary());
        assertTrue(pass.summary().contains("amr [otp]") && pass.summary().contains("連携 12 人"), pass.summary());
        st.set(new jp.mamori.federation.Federation.Summary(true, false, null, List.of(), List.of(), 12, "https://idp"));
        assertTrue(p.evaluate(NOW).summary().contains("常にMamoriの二要素目"), "with no rule the provider's MFA never"
                + " counts");
        st.set(new jp.mamori.federation.Federation.Summary(true, true, "ConnectException", List.of(), List.of("otp"), 12,
                "https://idp"));
        Evidence down = p.evaluate(NOW);
        assertEquals(Evidence.Status.PARTIAL, down.status());
        assertTrue(down.summary().contains("ローカルのサインインは使えます"), down.summary());
        assertTrue(p.requirements().contains("AUTH-2"));
    }

    @Test
    void redundancyIsGreenOnlyWithAStandbyTheServerFollows() {
        assertEquals(2, StandardProbes.databaseHosts("jdbc:postgresql://db1:5432,db2:5432/mamori?targetServerType=primary"));
        assertEquals(1, StandardProbes.databaseHosts("jdbc:postgresql://db1/mamori"));
        assertEquals(1, StandardProbes.databaseHosts(null));
        assertEquals(Evidence.Status.PASS, StandardProbes.redundancy(2, false).evaluate(NOW).status());
        Evidence embedded = StandardProbes.redundancy(1, true).evaluate(NOW);
        assertEquals(Evidence.Status.PARTIAL, embedded.status());
        assertTrue(embedded.summary().startsWith("内蔵データベース 1 台"), embedded.summary());
    }

    @Test
    void theClockIsRedWhenUnsynchronisedAndUnknownWhenNobodyAnswers() {
        AtomicReference<String[]> st = new AtomicReference<>(new String[] {"synchronized", "chronyc"});
        Probe p = StandardProbes.clock(st::get);
        assertEquals(Evidence.Status.PASS, p.evaluate(NOW).status());
        st.set(new String[] {"unsynchronized", "timedatectl"});
        assertEquals(Evidence.Status.FAIL, p.evaluate(NOW).status());
        st.set(new String[] {"unknown", "none answered"});
        assertEquals(Evidence.Status.UNKNOWN, p.evaluate(NOW).status());
        st.set(null);
        assertEquals(Evidence.Status.UNKNOWN, p.evaluate(NOW).status());
    }

    @Test
    void theRegistryKeepsTheLatestPerProbeAndAnswersByRequirement() {
        AtomicReference<Evidence.Status> s = new AtomicReference<>(Evidence.Status.PASS);
        Probes probes = new Probes(null, null, null, CLOCK).ledBy(() -> false); // nothing stored: no leader
        probes.register(StandardProbes.of("test.one", Set.of("AUTH-2", "ACCT-2"),
                now -> new Evidence("test.one", s.get(), "一 / one", "/console/admin/accounts", now)));
        probes.register(StandardProbes.of("test.broken", Set.of("AUTH-2"), now -> {
            throw new IllegalStateException("boom");
        }));
        assertThrows(IllegalArgumentException.class, () -> probes.register(StandardProbes.of("test.one", Set.of(),
                now -> null)), "ids are unique");
        List<Evidence> auth = probes.forRequirement("AUTH-2");
        assertEquals(List.of("test.one", "test.broken"), auth.stream().map(Evidence::probeId).toList());
        assertEquals(Evidence.Status.UNKNOWN, auth.get(1).status(), "a probe that throws is UNKNOWN");
        assertEquals(NOW, auth.get(0).at());
        assertEquals(List.of("test.one"), probes.forRequirement("ACCT-2").stream().map(Evidence::probeId).toList());
        assertEquals(List.of(), probes.forRequirement("GOV-1"));
        assertEquals(List.of(), probes.forRequirement(null));
        s.set(Evidence.Status.FAIL);
        assertEquals(Evidence.Status.PASS, probes.latest("test.one").orElseThrow().status(), "kept until evaluated");
        probes.evaluate();
        assertEquals(Evidence.Status.FAIL, probes.forRequirement("ACCT-2").get(0).status());
    }
}
