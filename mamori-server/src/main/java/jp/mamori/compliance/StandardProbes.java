package jp.mamori.compliance;

import jp.mamori.access.AccessReviews;
import jp.mamori.access.BreakGlass;
import jp.mamori.audit.Checkpointer;
import jp.mamori.audit.TrailLedger;
import jp.mamori.chart.JpDates;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Factors;
import jp.mamori.identity.MfaExceptions;
import jp.mamori.ops.Checks;
import jp.mamori.ops.Health;
import jp.mamori.ops.HealthCheck;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The probes Mamori registers at start (issue 20): each judges one control from the capability that carries it out,
 * through that capability's public reads, or from the health report's lines where those already say it (the audit
 * trail, the backups, the downtime kit), so that the console and the compliance evidence never disagree.
 * <p>Summaries are one line, Japanese first ("日本語 / English"), with the figures that decide the status; they name
 * login ids and departments at most, never a patient.
 */
public final class StandardProbes {
    private static final JpDates JST = JpDates.tokyo();
    /** How many names a summary lists before "ほか n 件". */
    static final int NAMES = 5;
    /** A retirement time passed this long ago and not carried out means the account sweep is not working (ACCT-2). */
    static final Duration SWEEP_GRACE = Duration.ofMinutes(10);
    /** The default interval of the periodic access review per department (ACCESS-5: the institution's rules set it). */
    public static final Duration REVIEW_INTERVAL = Duration.ofDays(365);

    private StandardProbes() {
    }

    /** A probe from an id, its requirements and a function of the time. */
    record Simple(String id, Set<String> requirements, Function<Instant, Evidence> fn) implements Probe {
        @Override
        public Evidence evaluate(Instant now) {
            return fn.apply(now);
        }
    }

    static Probe of(String id, Set<String> requirements, Function<Instant, Evidence> fn) {
        return new Simple(id, Set.copyOf(requirements), fn);
    }

    // ---- identity ----------------------------------------------------------------------------------------------

    /**
     * Every active account has a second factor (AUTH-2, AUTH-3, AUTH-10), and every MFA exception in force names its
     * compensating control (AUTH-4). FAIL: an active account without a second factor, or an exception in force
     * without a described control; PARTIAL: exceptions in force (each one a deviation); else PASS.
     */
    public static Probe mfaCoverage(Accounts accounts, Factors factors, MfaExceptions exceptions) {
        String id = "identity.mfa-coverage";
        return of(id, Set.of("AUTH-2", "AUTH-3", "AUTH-4", "AUTH-10"), now -> {
            long active = accounts.list().stream().filter(a -> a.status() == Account.Status.ACTIVE
                    && a.type() != Account.Type.EMERGENCY).count();
            List<String> without = factors.activeWithoutSecondFactor();
            List<MfaExceptions.Exception> inForce = exceptions.list().stream().filter(e -> e.inForce(now)).toList();
            List<String> weak = inForce.stream().filter(e -> e.compensatingControl() == null
                    || e.compensatingControl().strip().length() < 10).map(MfaExceptions.Exception::name).toList();
            StringBuilder ja = new StringBuilder("有効なアカウント " + active + " 件のうち二要素認証あり "
                    + (active - without.size()) + " 件・なし " + without.size() + " 件");
            StringBuilder en = new StringBuilder((active - without.size()) + " of " + active
                    + " active accounts have a second factor, " + without.size() + " have none");
            if (!without.isEmpty()) {
                ja.append("（").append(names(without)).append("）");
                en.append(" (").append(names(without)).append(")");
            }
            ja.append("。二要素を求めない端末の例外 ").append(inForce.size()).append(" 件");
            en.append("; ").append(inForce.size()).append(" MFA exception(s) in force");
            if (!inForce.isEmpty()) {
                List<String> lines = inForce.stream().map(e -> e.name() + " " + e.addressRange() + "（代替管理策 / control: "
                        + (e.compensatingControl() == null || e.compensatingControl().isBlank() ? "なし / none"
                        : e.compensatingControl().strip()) + "）").toList();
                ja.append("：").append(names(lines));
                en.append(": see the list");
            }
            if (!weak.isEmpty()) {
                ja.append("。代替管理策の記載がない例外 ").append(weak.size()).append(" 件");
                en.append("; ").append(weak.size()).append(" without a compensating control");
            }
            Evidence.Status s = !without.isEmpty() || !weak.isEmpty() ? Evidence.Status.FAIL
                    : inForce.isEmpty() ? Evidence.Status.PASS : Evidence.Status.PARTIAL;
            String path = without.isEmpty() && !inForce.isEmpty() ? "/console/admin/mfa-exceptions"
                    : "/console/admin/accounts";
            return new Evidence(id, s, ja + " / " + en, path, now);
        });
    }

    /**
     * No leaver and no unused account remains active (ACCT-2, ACCT-4, AUTH-5): FAIL when a retirement time passed more
     * than {@link #SWEEP_GRACE} ago and the account is not retired, or when unused accounts are still active although
     * the sweep suspends them; PARTIAL when unused accounts are only reported ({@code --unused-action report}) or the
     * suspension is off; else PASS. Emergency accounts are unused by design and not counted.
     */
    public static Probe accountSweep(Accounts accounts, int unusedDays, boolean suspendUnused) {
        String id = "identity.account-sweep";
        return of(id, Set.of("ACCT-2", "ACCT-4", "AUTH-5"), now -> {
            List<Account> all = accounts.list();
            List<String> leavers = all.stream().filter(a -> a.status() != Account.Status.RETIRED && a.retireAt() != null
                    && a.retireAt().plus(SWEEP_GRACE).isBefore(now)).map(Account::loginId).toList();
            List<String> unused = accounts.unused(unusedDays).stream()
                    .filter(u -> u.account().type() != Account.Type.EMERGENCY).map(u -> u.account().loginId()).toList();
            String ja = "退職日を過ぎた有効なアカウント " + leavers.size() + " 件" + list(leavers) + "、" + unusedDays
                    + " 日以上未使用の有効なアカウント " + unused.size() + " 件" + list(unused) + "（未使用アカウントの自動停止: "
                    + (suspendUnused ? "有効" : "無効") + "）";
            String en = leavers.size() + " account(s) past their retirement still active, " + unused.size()
                    + " active account(s) unused for " + unusedDays + " days (automatic suspension "
                    + (suspendUnused ? "on" : "off") + ")";
            Evidence.Status s = !leavers.isEmpty() || (suspendUnused && !unused.isEmpty()) ? Evidence.Status.FAIL
                    : !unused.isEmpty() || !suspendUnused ? Evidence.Status.PARTIAL : Evidence.Status.PASS;
            return new Evidence(id, s, ja + " / " + en, leavers.isEmpty() ? "/console/admin/unused"
                    : "/console/admin/accounts", now);
        });
    }

    // ---- access ------------------------------------------------------------------------------------------------

    /**
     * Access rights per person and the periodic review per department (ACCESS-5, ACCESS-1, ACCESS-4, ACCT-1): every
     * department with role assignments in force was reviewed within {@code interval}. FAIL: a department overdue (or
     * never reviewed) with no review open; PARTIAL: every overdue department has a review in progress; else PASS.
     */
    public static Probe accessReviews(AccessReviews reviews, Duration interval) {
        String id = "access.reviews";
        return of(id, Set.of("ACCESS-1", "ACCESS-4", "ACCESS-5", "ACCT-1"), now -> {
            List<AccessReviews.Standing> all = reviews.standings();
            int assignments = all.stream().mapToInt(AccessReviews.Standing::assignments).sum();
            int people = all.stream().mapToInt(AccessReviews.Standing::people).sum();
            List<AccessReviews.Standing> overdue = all.stream().filter(d -> d.lastCompleted() == null
                    || d.lastCompleted().plus(interval).isBefore(now)).toList();
            long open = overdue.stream().filter(AccessReviews.Standing::open).count();
            List<String> names = overdue.stream().map(d -> d.department() + "（" + (d.lastCompleted() == null ? "未実施"
                    : "前回 " + JST.date(d.lastCompleted(), JpDates.Lang.JA)) + (d.open() ? "・実施中" : "") + "）")
                    .toList();
            String ja = "役割の割り当て " + assignments + " 件（部署ごとの延べ " + people + " 人、" + all.size()
                    + " 部署）。見直しの期限（" + interval.toDays() + " 日）を過ぎた部署 " + overdue.size() + " か所"
                    + list(names);
            String en = assignments + " role assignment(s) in " + all.size() + " department(s); " + overdue.size()
                    + " department(s) not reviewed within " + interval.toDays() + " days, " + open + " of them in review";
            Evidence.Status s = overdue.isEmpty() ? Evidence.Status.PASS
                    : open == overdue.size() ? Evidence.Status.PARTIAL : Evidence.Status.FAIL;
            return new Evidence(id, s, ja + " / " + en, "/console/admin/access-review", now);
        });
    }

    /**
     * Every break-glass use is reviewed in time (DEGRADED-3, AUDIT-2): FAIL when a use has waited longer than the
     * escalation age ({@code --break-glass-review-hours}) without a decision; else PASS with the uses waiting.
     */
    public static Probe breakGlass(BreakGlass breakGlass) {
        String id = "access.break-glass";
        return of(id, Set.of("DEGRADED-3", "AUDIT-2"), now -> {
            Duration limit = breakGlass.settings().escalateAfter();
            List<BreakGlass.Use> pending = breakGlass.pendingReviews();
            long undecided = pending.stream().filter(u -> u.reviewedAt() == null).count();
            long overdue = pending.stream().filter(u -> u.reviewedAt() == null
                    && !u.grant().startedAt().plus(limit).isAfter(now)).count();
            long followUp = pending.size() - undecided;
            String ja = "未レビューの緊急時アクセス " + undecided + " 件（うち " + limit.toHours() + " 時間を過ぎたもの "
                    + overdue + " 件）、要フォローアップ " + followUp + " 件";
            String en = undecided + " break-glass use(s) not reviewed (" + overdue + " older than " + limit.toHours()
                    + " h), " + followUp + " to follow up";
            return new Evidence(id, overdue > 0 ? Evidence.Status.FAIL : Evidence.Status.PASS, ja + " / " + en,
                    "/console/admin/break-glass", now);
        });
    }

    // ---- audit -------------------------------------------------------------------------------------------------

    /**
     * The audit trail (AUDIT-1, AUDIT-3, AUDIT-6, AUDIT-8), from the health report's lines: the appender, the
     * checkpointer (verified up to a signed checkpoint, its age), the time-stamp authority and the SIEM forwarding.
     * A red line is FAIL, an amber one PARTIAL (e.g. no SIEM configured); an anchor copy that failed is FAIL (the
     * tamper-evident copy outside the database is missing).
     *
     * @param cp the checkpointer, or null when checkpoints are not signed
     */
    public static Probe auditTrail(Supplier<Health.Report> health, Checkpointer cp) {
        String id = "audit.trail";
        return of(id, Set.of("AUDIT-1", "AUDIT-3", "AUDIT-6", "AUDIT-8", "AUDIT-9"), now -> {
            Health.Report r = health.get();
            Evidence e = fromLines(id, "監査証跡", "audit trail", r,
                    List.of("audit-appender", "checkpointer", "tsa", "siem"), "/console/admin/health", now);
            TrailLedger.Stored last = cp == null ? null : cp.status().last();
            String age = last == null ? "署名済みチェックポイントなし / no signed checkpoint"
                    : "最終チェックポイント " + JST.dateTimeWithZone(last.signedAt(), JpDates.Lang.JA) + "（"
                    + ago(last.signedAt(), now) + "）、" + last.size() + " 件まで検証済み / last checkpoint "
                    + ago(Duration.between(last.signedAt(), now)) + " ago, " + last.size() + " entries verified";
            Evidence.Status s = e.status();
            if (last != null && "failed".equals(last.anchorStatus())) {
                s = Evidence.Status.FAIL;
                age += "; アンカーの複製に失敗 / the anchor copy failed";
            }
            return new Evidence(id, s, age + "; " + e.summary(), e.detailPath(), now);
        });
    }

    /** The host clock is synchronised (AUDIT-4): synchronised PASS, unsynchronised FAIL, not known UNKNOWN. */
    public static Probe clock(Supplier<String[]> lastClockState) {
        String id = "audit.clock";
        return of(id, Set.of("AUDIT-4"), now -> {
            String[] st = lastClockState.get();
            if (st == null) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "時刻同期はまだ確認されていません / the clock has not been"
                        + " checked yet", "/console/audit", now);
            }
            return switch (st[0]) {
                case "synchronized" -> new Evidence(id, Evidence.Status.PASS, "時刻は同期されています（" + st[1]
                        + "） / the host clock is synchronised (" + st[1] + ")", "/console/audit", now);
                case "unsynchronized" -> new Evidence(id, Evidence.Status.FAIL, "時刻が同期されていません（" + st[1]
                        + "） / the host clock is not synchronised (" + st[1] + ")", "/console/audit", now);
                default -> new Evidence(id, Evidence.Status.UNKNOWN, "時刻同期を確認できません（" + st[1]
                        + "） / the clock's synchronisation cannot be confirmed (" + st[1] + ")", "/console/audit", now);
            };
        });
    }

    // ---- TLS ---------------------------------------------------------------------------------------------------

    /**
     * The listener's TLS profile as the server uses it.
     *
     * @param protocols the protocols offered, e.g. {@code TLSv1.3}; empty for plain HTTP
     * @param notAfter  the certificate's expiry; null for plain HTTP
     */
    public record TlsProfile(List<String> protocols, Instant notAfter) {
        public TlsProfile {
            protocols = List.copyOf(protocols);
        }
    }

    /**
     * The listener (NET-1, NET-3, NET-7, CRYPTO-1): TLS 1.2 and 1.3 only and a certificate valid for more than
     * {@link Checks#CERTIFICATE_WARNING}. FAIL: plain HTTP, an older protocol offered, or the certificate expiring
     * within that time or expired.
     */
    public static Probe tls(Supplier<TlsProfile> profile) {
        String id = "web.tls";
        return of(id, Set.of("NET-1", "NET-3", "NET-6", "NET-7", "NET-9", "CRYPTO-1"), now -> {
            TlsProfile p = profile.get();
            if (p == null || p.protocols().isEmpty() || p.notAfter() == null) {
                return new Evidence(id, Evidence.Status.FAIL, "TLS なし（平文 HTTP、ループバックのみ） / no TLS (plain"
                        + " HTTP on loopback, --http)", "/console/admin/health", now);
            }
            List<String> old = p.protocols().stream().filter(x -> !x.equals("TLSv1.3") && !x.equals("TLSv1.2")).toList();
            long days = Duration.between(now, p.notAfter()).toDays();
            String proto = String.join("・", p.protocols().stream().map(x -> x.replace("TLSv", "TLS ")).toList());
            String until = JST.date(p.notAfter(), JpDates.Lang.JA);
            Evidence.Status s = !old.isEmpty() || Duration.between(now, p.notAfter())
                    .compareTo(Checks.CERTIFICATE_WARNING) < 0 ? Evidence.Status.FAIL : Evidence.Status.PASS;
            String ja = "プロトコル " + proto + (old.isEmpty() ? " のみ" : "（古いプロトコルを含む）") + "、証明書の有効期限 "
                    + until + (p.notAfter().isBefore(now) ? "（期限切れ）" : "（残り " + days + " 日）");
            String en = "protocols " + String.join(", ", p.protocols()) + (old.isEmpty() ? " only" : " (older ones offered)")
                    + ", certificate " + (p.notAfter().isBefore(now) ? "expired" : "valid for " + days + " more days");
            return new Evidence(id, s, ja + " / " + en, "/console/admin/health", now);
        });
    }

    // ---- preservation ------------------------------------------------------------------------------------------

    /**
     * Backups (BACKUP-1, BACKUP-2, BACKUP-4, BACKUP-5), from the health report's {@code backup} line: the last base
     * backup, WAL shipping and the last restore drill (pgBackRest for an external database). FAIL when backups are
     * off ({@code offReason}) or the line is red; PARTIAL when amber (no backup yet, a drill overdue, no offline copy,
     * an external database's backups not watched).
     *
     * @param offReason why no backups are taken (e.g. {@code --no-backup}), or null when they are
     */
    public static Probe backups(Supplier<Health.Report> health, String offReason) {
        String id = "preservation.backups";
        return of(id, Set.of("BACKUP-1", "BACKUP-2", "BACKUP-4", "BACKUP-5", "BACKUP-6", "BACKUP-7"), now -> {
            if (offReason != null) {
                return new Evidence(id, Evidence.Status.FAIL, "バックアップを取得していません / no backups are taken: "
                        + offReason, "/console/admin/backups", now);
            }
            return fromLines(id, "バックアップ", "backups", health.get(), List.of("backup", "disk-backup"),
                    "/console/admin/backups", now);
        });
    }

    // ---- deviations --------------------------------------------------------------------------------------------

    /**
     * Deviations from the secure defaults (SUPPLY-14, SUPPLY-16), as the administrator's home lists them: none PASS;
     * otherwise PARTIAL with the list (each one a deliberate, logged choice; the control it weakens has its own probe,
     * which is red when it matters, e.g. plain HTTP turns {@code web.tls} red).
     */
    public static Probe deviations(Supplier<List<String>> deviations) {
        String id = "config.deviations";
        return of(id, Set.of("SUPPLY-14", "SUPPLY-16"), now -> {
            List<String> d = deviations.get();
            if (d.isEmpty()) {
                return new Evidence(id, Evidence.Status.PASS, "安全な既定値からの逸脱はありません / no deviations from the"
                        + " secure defaults", "/console/home#deviations", now);
            }
            return new Evidence(id, Evidence.Status.PARTIAL, "安全な既定値からの逸脱 " + d.size() + " 件 / " + d.size()
                    + " deviation(s) from the secure defaults: " + String.join("; ", d), "/console/home#deviations", now);
        });
    }

    // ---- continuity --------------------------------------------------------------------------------------------

    /**
     * Readiness for degraded mode (DEGRADED-1, DEGRADED-4, DEGRADED-7, BACKUP-12), from the health report's
     * {@code downtime-kit} and {@code audit-journal} lines: every ward's downtime kit fresh, no audit journal left
     * unmerged. FAIL: a stale kit or a ward without a kit password, or journals left unmerged after degraded mode
     * ended ({@code unmergedAfterDegraded}); PARTIAL: the kit off, or entries held while degraded now.
     *
     * @param unmergedAfterDegraded how many journal files wait to be merged although entries go to the trail again
     */
    public static Probe downtimeReadiness(Supplier<Health.Report> health, Supplier<Integer> unmergedAfterDegraded) {
        String id = "continuity.readiness";
        return of(id, Set.of("DEGRADED-1", "DEGRADED-4", "DEGRADED-7", "BACKUP-12"), now -> {
            Evidence e = fromLines(id, "縮退運用の準備", "degraded-mode readiness", health.get(),
                    List.of("downtime-kit", "audit-journal"), "/console/admin/downtime", now);
            Integer n = unmergedAfterDegraded.get();
            if (n != null && n > 0) {
                return new Evidence(id, Evidence.Status.FAIL, "未統合の監査ジャーナル " + n + " 件 / " + n
                        + " audit journal(s) not merged; " + e.summary(), "/console/admin/health", now);
            }
            return e;
        });
    }

    /**
     * Monitoring and notification (NET-13, AUDIT-9): the health checks, the alerts and the access watch run in every
     * process; what decides this control is whether a notice reaches someone outside the server. PASS when a SIEM
     * receives the trail and the notices over TLS syslog and its health line is up; PARTIAL when nothing outside
     * receives them (notices stay in the log and on the administrator's console), or when alerts are open; FAIL when
     * the SIEM is configured but does not receive.
     *
     * @param outsideReceiver where notices go outside the server (e.g. {@code siem.example:6514}), or null
     * @param openAlerts      how many alerts are open now
     */
    public static Probe monitoring(Supplier<Health.Report> health, String outsideReceiver,
                                   Supplier<Integer> openAlerts) {
        String id = "ops.monitoring";
        return of(id, Set.of("NET-13", "AUDIT-9"), now -> {
            Health.Report r = health.get();
            Integer open = openAlerts.get();
            String alerts = open == null ? "" : open == 0 ? "; 未解決の警告なし / no open alerts"
                    : "; 未解決の警告 " + open + " 件 / " + open + " open alert(s)";
            if (r == null) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "稼働監視：稼働状況を確認できません / monitoring: no"
                        + " health report", "/console/admin/health", now);
            }
            long down = r.lines().stream().filter(l -> l.result().status() == HealthCheck.Status.DOWN).count();
            String checks = "稼働状況 " + r.lines().size() + " 項目を監視中（異常 " + down + " 項目） / " + r.lines().size()
                    + " health checks watched, " + down + " down";
            if (outsideReceiver == null) {
                return new Evidence(id, Evidence.Status.PARTIAL, checks + "; 通知の外部送信先（SIEM）が未設定：警告はログと管理画面のみ"
                        + " / no outside receiver (SIEM): notices stay in the log and the console" + alerts,
                        "/console/admin/health", now);
            }
            Health.Line siem = r.line("siem");
            if (siem != null && siem.result().status() == HealthCheck.Status.DOWN) {
                return new Evidence(id, Evidence.Status.FAIL, checks + "; SIEM（" + outsideReceiver + "）へ送信できません / the"
                        + " SIEM does not receive: " + siem.result().summary() + alerts, "/console/admin/health", now);
            }
            return new Evidence(id, open != null && open > 0 ? Evidence.Status.PARTIAL : Evidence.Status.PASS,
                    checks + "; 通知は SIEM（" + outsideReceiver + "）へ送信 / notices go to the SIEM" + alerts,
                    "/console/admin/health", now);
        });
    }

    /**
     * Redundancy for continuity of care (BACKUP-7, BACKUP-8): whether the database has a standby the server follows
     * (several hosts in the JDBC URL, ADR 0013), so that care goes on in degraded mode and patches can be applied to
     * one machine at a time. PASS with two or more database hosts; PARTIAL with one (the embedded database or a single
     * external server: recovery is by restore from backups and takes longer; a deliberate choice for a small clinic).
     *
     * @param databaseHosts how many database hosts the server is configured with (1 for the embedded database)
     * @param embedded      whether the database is the embedded one
     */
    public static Probe redundancy(int databaseHosts, boolean embedded) {
        String id = "continuity.redundancy";
        return of(id, Set.of("BACKUP-7", "BACKUP-8"), now -> {
            if (databaseHosts >= 2) {
                return new Evidence(id, Evidence.Status.PASS, "データベース " + databaseHosts + " 台（主系と待機系）：障害時は縮退運用で"
                        + "参照を続け、昇格後に自動で復帰 / " + databaseHosts + " database hosts (primary and standby)",
                        "/console/admin/health", now);
            }
            return new Evidence(id, Evidence.Status.PARTIAL, (embedded ? "内蔵データベース 1 台" : "データベース 1 台")
                    + "：待機系なし。障害時はバックアップからの復元で再開 / " + (embedded ? "the embedded database" : "one"
                    + " database host") + ", no standby: recovery is by restore from backups (docs/continuity.md)",
                    "/console/admin/health", now);
        });
    }

    /** How many hosts a PostgreSQL JDBC URL names ({@code jdbc:postgresql://H1:5432,H2:5432/db}); 1 when unclear. */
    public static int databaseHosts(String jdbcUrl) {
        if (jdbcUrl == null || !jdbcUrl.startsWith("jdbc:postgresql://")) {
            return 1;
        }
        String rest = jdbcUrl.substring("jdbc:postgresql://".length());
        int end = rest.indexOf('/');
        String hosts = end < 0 ? rest : rest.substring(0, end);
        int q = hosts.indexOf('?');
        if (q >= 0) {
            hosts = hosts.substring(0, q);
        }
        return Math.max(1, (int) java.util.Arrays.stream(hosts.split(",")).filter(h -> !h.isBlank()).count());
    }

    /**
     * Remote maintenance only with the institution's permission, on routes it knows, reported afterwards (MAINT-1,
     * MAINT-4, MAINT-5, MAINT-14, ACCESS-6; issue 19): the vendors and their remote-maintenance routes registered, every
     * work request decided before its window, every work report submitted and approved in time. External access itself
     * is enforced by construction (a vendor's session works only inside an approved window, from its approved source:
     * {@code maintenance.MaintenanceGate}); the summary says so. UNKNOWN with no vendor registered (the system cannot
     * tell whether there is none); FAIL while a work report is late (the escalation: a FAIL raises an alert); PARTIAL
     * while requests wait for a decision or a vendor has no route; PASS otherwise.
     *
     * @param counts  vendors, routes, vendors without a route, requests waiting for a decision
     * @param overdue the late work reports, each "日本語 / English"
     */
    public static Probe maintenanceWork(Supplier<long[]> counts, Supplier<List<String>> overdue) {
        String id = "maintenance.work-orders";
        String path = "/console/maintenance";
        return of(id, Set.of("MAINT-1", "MAINT-4", "MAINT-5", "MAINT-14", "ACCESS-6"), now -> {
            long[] c;
            List<String> late;
            try {
                c = counts.get();
                late = overdue.get();
            } catch (RuntimeException e) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "保守の記録を読めません / cannot read the maintenance"
                        + " records", path, now);
            }
            long vendors = c[0], routes = c[1], withoutRoute = c[2], waiting = c[3];
            if (vendors == 0) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "保守事業者が登録されていません。事業者とリモート保守の経路を登録して"
                        + "ください（保守用アカウントは承認された作業時間帯に承認された接続元からのみ作業できます） / no maintenance"
                        + " vendor registered: register the vendors and their routes (vendor accounts work only inside an"
                        + " approved window, from its approved source)", path, now);
            }
            String figures = "保守事業者 " + vendors + " 社・リモート保守の経路 " + routes + " 件、承認待ちの作業申請 " + waiting
                    + " 件、期限を過ぎた作業報告 " + late.size() + " 件 / " + vendors + " vendor(s), " + routes
                    + " route(s), " + waiting + " request(s) waiting, " + late.size() + " work report(s) late";
            if (!late.isEmpty()) {
                return new Evidence(id, Evidence.Status.FAIL, figures + ": " + String.join("; ", late.subList(0,
                        Math.min(3, late.size()))) + (late.size() > 3 ? " …" : ""), path, now);
            }
            if (waiting > 0 || withoutRoute > 0) {
                return new Evidence(id, Evidence.Status.PARTIAL, figures + (withoutRoute > 0 ? "; 経路が未登録の事業者 "
                        + withoutRoute + " 社 / " + withoutRoute + " vendor(s) without a route" : ""), path, now);
            }
            return new Evidence(id, Evidence.Status.PASS, figures, path, now);
        });
    }

    /**
     * Leavers removed promptly through the institution's directory (ACCT-2; issue 21): UNKNOWN with no directory
     * configured (leavers are then suspended by hand, which the system cannot see) or before the first run; FAIL while
     * the newest run failed (unreachable, refused, or the guard against suspending many at once: nobody was suspended,
     * so a leaver may still be working); PARTIAL when the last success is older than twice the interval (the schedule
     * is not running); PASS otherwise, with the figures.
     */
    public static Probe directory(Supplier<jp.mamori.directory.DirectorySync.State> state, Duration interval) {
        String id = "identity.directory";
        String path = "/console/admin/directory";
        return of(id, Set.of("ACCT-2"), now -> {
            jp.mamori.directory.DirectorySync.State st;
            try {
                st = state.get();
            } catch (RuntimeException e) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "ディレクトリ連携の記録を読めません / cannot read the"
                        + " directory sync's records", path, now);
            }
            if (st == null || !st.configured()) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "ディレクトリ連携は設定されていません。退職者のIDは手作業で停止して"
                        + "ください / no directory configured: suspend leavers' IDs by hand", null, now);
            }
            if (st.failing()) {
                String why = st.lastFailure().map(jp.mamori.directory.DirectorySync.Run::reason).orElse("");
                return new Evidence(id, Evidence.Status.FAIL, "ディレクトリ同期が失敗しています（誰も停止していません） / the"
                        + " directory sync is failing (nobody was suspended): " + why, path, now);
            }
            if (st.lastSuccess().isEmpty()) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "ディレクトリ同期はまだ実行されていません / the directory sync"
                        + " has not run yet", path, now);
            }
            Instant last = st.lastSuccess().get().finishedAt();
            String figures = "連携 " + st.linkedPeople() + " 人、同期で停止 " + st.suspendedBySync() + " 人、最終同期 "
                    + JpDates.tokyo().dateTime(last, JpDates.Lang.JA) + " / " + st.linkedPeople() + " linked, "
                    + st.suspendedBySync() + " suspended by the sync, last run " + last;
            if (last.isBefore(now.minus(interval.multipliedBy(2)))) {
                return new Evidence(id, Evidence.Status.PARTIAL, "同期が予定どおり行われていません / the sync has not run on"
                        + " schedule: " + figures, path, now);
            }
            return new Evidence(id, Evidence.Status.PASS, figures, path, now);
        });
    }

    /**
     * {@code identity.oidc} (issue 21; AUTH-2, AUTH-1): sign-in through the institution's identity provider and its
     * second-factor rule. UNKNOWN without a provider (local sign-in only); PARTIAL while the provider does not answer
     * (local sign-in with two factors still works); PASS with the rule in words: the provider's MFA counts only by the
     * registered acr/amr values, otherwise Mamori's own second factor is asked.
     */
    public static Probe oidc(Supplier<jp.mamori.federation.Federation.Summary> state) {
        String id = "identity.oidc";
        String path = "/console/admin/federation";
        return of(id, Set.of("AUTH-2", "AUTH-1"), now -> {
            jp.mamori.federation.Federation.Summary st;
            try {
                st = state.get();
            } catch (RuntimeException e) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "外部IDプロバイダの登録を読めません / cannot read the"
                        + " identity provider's registration", path, now);
            }
            if (st == null || !st.enabled()) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "外部IDプロバイダでのサインインは使っていません（ローカルの"
                        + "パスワードと二要素目のみ） / no identity provider: local sign-in with two factors only", null, now);
            }
            String rule = st.mfaAcr().isEmpty() && st.mfaAmr().isEmpty()
                    ? "IDプロバイダの多要素認証は数えず、常にMamoriの二要素目を求める / the provider's MFA never counts:"
                    + " Mamori's second factor is always asked"
                    : "IDトークンの acr " + st.mfaAcr() + " または amr " + st.mfaAmr() + " のときのみ多要素認証済み、それ以外は"
                    + "Mamoriの二要素目 / MFA only with acr " + st.mfaAcr() + " or amr " + st.mfaAmr()
                    + ", otherwise Mamori's second factor";
            String figures = st.issuer() + "、連携 " + st.links() + " 人 / " + st.links() + " linked";
            if (st.down()) {
                return new Evidence(id, Evidence.Status.PARTIAL, "外部IDプロバイダに接続できません（ローカルのサインインは"
                        + "使えます） / the identity provider cannot be reached (local sign-in works): " + st.downReason()
                        + "; " + rule, path, now);
            }
            return new Evidence(id, Evidence.Status.PASS, rule + "; " + figures, path, now);
        });
    }

    /**
     * {@code access.sealed-grants} (issue 21; ACCESS-6, AUTH-11, AUDIT-1): what an app or a partner clinician may reach
     * has not been widened behind the server's back. Each SMART app (redirect URIs, maximum scopes, credentials), each
     * grant (its scopes) and each partner share (its end date, categories) carries a seal made with identity's key
     * file, which the database superuser does not hold; FAIL names every row that no longer matches, PASS gives the
     * count. The same check runs in {@code ./mamori verify-records}.
     */
    public static Probe sealedGrants(javax.sql.DataSource ds, jp.mamori.identity.SecretSealer keys) {
        String id = "access.sealed-grants";
        return of(id, Set.of("ACCESS-6", "AUTH-11", "AUDIT-1"), now -> {
            jp.mamori.smart.Smart.SealCheck apps;
            jp.mamori.access.PartnerShares.SealCheck shares;
            try {
                apps = jp.mamori.smart.Smart.verifySeals(ds, keys);
                shares = jp.mamori.access.PartnerShares.verifySeals(ds, keys);
            } catch (RuntimeException e) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "連携アプリと連携先共有の封印を確認できません / cannot check"
                        + " the seals of apps, grants and partner shares", null, now);
            }
            List<String> bad = new ArrayList<>(apps.findings());
            bad.addAll(shares.findings());
            long n = apps.checked() + shares.checked();
            if (!bad.isEmpty()) {
                return new Evidence(id, Evidence.Status.FAIL, bad.size() + " 件がMamoriの封印と一致しません（データベースで"
                        + "直接変更された可能性） / " + bad.size() + " of " + n + " rows differ from Mamori's seal (changed"
                        + " in the database directly?): " + String.join("; ", bad.subList(0, Math.min(5, bad.size()))),
                        null, now);
            }
            return new Evidence(id, Evidence.Status.PASS, "連携アプリ・同意・連携先共有 " + n + " 件がすべて封印と一致 / all "
                    + n + " apps, grants and partner shares match their seals", null, now);
        });
    }

    /**
     * {@code access.partners} (issue 21; AUTH-11): partner clinicians of other institutions. FAIL while an active
     * partner account holds no second factor (it could not sign in, but its enrolment is unfinished: a partner always
     * needs two factors); PASS with the figures otherwise: partners, shares in force (each with an end date at most a
     * year away, a database CHECK), shares ended within 90 days (no longer granting: the decision reads the end at the
     * request's time) and those ending within 14 days, the reviewers' report being the detail page. UNKNOWN without
     * partner accounts.
     */
    public static Probe partners(Accounts accounts, Factors factors,
                                 Function<Instant, List<jp.mamori.access.PartnerShares.Share>> recentShares) {
        String id = "access.partners";
        String path = "/console/admin/partners";
        return of(id, Set.of("AUTH-11"), now -> {
            List<Account> partners = accounts.list().stream().filter(a -> a.type() == Account.Type.PARTNER
                    && a.status() == Account.Status.ACTIVE).toList();
            if (partners.isEmpty()) {
                return new Evidence(id, Evidence.Status.UNKNOWN, "連携先医療者のアカウントはありません / no partner"
                        + " clinician accounts", path, now);
            }
            Set<String> logins = new java.util.HashSet<>();
            partners.forEach(a -> logins.add(a.loginId()));
            List<String> without = factors.activeWithoutSecondFactor().stream().filter(logins::contains).toList();
            List<jp.mamori.access.PartnerShares.Share> shares = recentShares.apply(now);
            long inForce = shares.stream().filter(x -> x.inForceAt(now)).count();
            long ended = shares.stream().filter(x -> x.revokedAt() == null && !x.endsAt().isAfter(now)).count();
            long revoked = shares.stream().filter(x -> x.revokedAt() != null).count();
            long soon = shares.stream().filter(x -> x.inForceAt(now) && x.endsAt().isBefore(now.plus(Duration.ofDays(14))))
                    .count();
            String figures = "連携先医療者 " + partners.size() + " 人、有効な共有 " + inForce + " 件（すべて終了日あり、うち14日以内に終了 "
                    + soon + " 件）、90日以内に終了 " + ended + " 件・取消 " + revoked + " 件（いずれも閲覧不可） / "
                    + partners.size() + " partners, " + inForce + " shares in force (all with an end date; " + soon
                    + " ending within 14 days), " + ended + " ended and " + revoked + " revoked within 90 days (no"
                    + " longer granting)";
            if (!without.isEmpty()) {
                return new Evidence(id, Evidence.Status.FAIL, "二要素目のない連携先医療者 " + without.size() + " 人 / "
                        + without.size() + " partner(s) without a second factor: " + String.join(", ", without)
                        + "; " + figures, path, now);
            }
            return new Evidence(id, Evidence.Status.PASS, "全員が二要素認証 / all with two factors; " + figures, path,
                    now);
        });
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /** Evidence from health lines: the worst of them (UP PASS, DEGRADED PARTIAL, DOWN FAIL; none there UNKNOWN). */
    static Evidence fromLines(String id, String titleJa, String titleEn, Health.Report report, List<String> names,
                              String path, Instant now) {
        if (report == null) {
            return new Evidence(id, Evidence.Status.UNKNOWN, titleJa + "：稼働状況を確認できません / " + titleEn
                    + ": no health report", path, now);
        }
        Evidence.Status s = Evidence.Status.PASS;
        int up = 0;
        int found = 0;
        List<String> notUp = new ArrayList<>();
        for (String n : names) {
            Health.Line l = report.line(n);
            if (l == null) {
                continue;
            }
            found++;
            HealthCheck.Status hs = l.result().status();
            s = Evidence.worse(s, switch (hs) {
                case UP -> Evidence.Status.PASS;
                case DEGRADED -> Evidence.Status.PARTIAL;
                case DOWN -> Evidence.Status.FAIL;
            });
            if (hs == HealthCheck.Status.UP) {
                up++;
            } else {
                notUp.add(label(n) + "：" + l.result().summary());
            }
        }
        if (found == 0) {
            return new Evidence(id, Evidence.Status.UNKNOWN, titleJa + "：該当する稼働状況がありません / " + titleEn
                    + ": not in the health report", path, now);
        }
        String head = titleJa + "：確認 " + found + " 項目中 正常 " + up + " 項目 / " + titleEn + ": " + up + " of " + found
                + " checks up";
        if (notUp.isEmpty()) {
            List<String> all = new ArrayList<>();
            for (String n : names) {
                Health.Line l = report.line(n);
                if (l != null) {
                    all.add(label(n) + "：" + l.result().summary());
                }
            }
            return new Evidence(id, s, head + "; " + String.join("; ", all), path, now);
        }
        return new Evidence(id, s, head + "; " + String.join("; ", notUp), path, now);
    }

    /** The health line's name as a person reads it, Japanese (the line's own summary follows in both languages). */
    static String label(String line) {
        return switch (line) {
            case "audit-appender" -> "監査記録の書き込み";
            case "checkpointer" -> "チェックポイント";
            case "tsa" -> "タイムスタンプ";
            case "siem" -> "SIEM への転送";
            case "backup" -> "バックアップ";
            case "disk-backup" -> "バックアップ先の空き容量";
            case "downtime-kit" -> "縮退用資料";
            case "audit-journal" -> "監査ジャーナル";
            default -> line;
        };
    }

    static String names(List<String> names) {
        if (names.size() <= NAMES) {
            return String.join("、", names);
        }
        return String.join("、", names.subList(0, NAMES)) + " ほか " + (names.size() - NAMES) + " 件 / and "
                + (names.size() - NAMES) + " more";
    }

    private static String list(List<String> names) {
        return names.isEmpty() ? "" : "（" + names(names) + "）";
    }

    private static String ago(Instant then, Instant now) {
        Duration d = Duration.between(then, now);
        if (d.isNegative()) {
            d = Duration.ZERO;
        }
        return d.toDays() > 0 ? d.toDays() + " 日前" : d.toHours() > 0 ? d.toHours() + " 時間前" : d.toMinutes() + " 分前";
    }

    private static String ago(Duration d) {
        if (d.isNegative()) {
            d = Duration.ZERO;
        }
        return d.toDays() > 0 ? d.toDays() + " d" : d.toHours() > 0 ? d.toHours() + " h" : d.toMinutes() + " min";
    }
}
