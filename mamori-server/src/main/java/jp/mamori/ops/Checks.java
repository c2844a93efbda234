package jp.mamori.ops;

import jp.mamori.audit.AuditTrail;
import jp.mamori.audit.Checkpointer;
import jp.mamori.audit.SiemForwarder;
import jp.mamori.audit.TrailLedger;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

import static jp.mamori.ops.HealthCheck.Result;

/**
 * The server's own health checks (issue 18 §5). Each answers in a few seconds at most and says what it found in one
 * line, Japanese first; none names a patient or discloses a secret (paths and host names are for the authenticated
 * report only, which the anonymous {@code /health} never shows).
 */
public final class Checks {
    /** A certificate expiring sooner than this is red (NET-14: renew before clients refuse the server). */
    public static final Duration CERTIFICATE_WARNING = Duration.ofDays(30);

    private Checks() {
    }

    /**
     * The database: reachable within a few seconds, and whether it is the primary or a standby in recovery
     * ({@code pg_is_in_recovery()}, DEGRADED-1, BACKUP-8): a standby serves reads only, which is amber.
     */
    public static HealthCheck database(DataSource ds, String description) {
        return HealthCheck.of("database", true, () -> {
            try (Connection c = ds.getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT pg_is_in_recovery(), host(inet_server_addr()),"
                         + " inet_server_port()")) {
                ps.setQueryTimeout(3);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    // the host in use, as the server itself answers (issue 18 §1: with several hosts in --db-url,
                    // which one pgjdbc found; after a promotion, the new primary)
                    String host = serverAddress(rs.getString(2), rs.getInt(3));
                    return rs.getBoolean(1)
                            ? Result.degraded("スタンバイ(参照のみ)に接続しています / connected to a standby (read-only): "
                            + host + description)
                            : Result.up("プライマリに接続しています / connected to the primary: " + host + description);
                }
            } catch (java.sql.SQLException | RuntimeException e) {
                return Result.down("データベースに接続できません / the database cannot be reached ("
                        + e.getClass().getSimpleName() + ")");
            }
        });
    }

    /** {@code host:port — } of the server answering ({@code [v6]:port} for IPv6); empty over a Unix socket. */
    static String serverAddress(String host, int port) {
        if (host == null) {
            return "";
        }
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port + " — ";
    }

    /**
     * Free space on the disk holding {@code folder}: below {@code minFree} red, below twice that amber (BACKUP-1: a
     * full disk stops the trail and the backups). A folder that does not exist yet is measured at its nearest parent.
     */
    public static HealthCheck disk(String name, Path folder, long minFree) {
        return HealthCheck.of(name, false, () -> {
            try {
                Path p = folder.toAbsolutePath();
                while (p != null && !Files.exists(p)) {
                    p = p.getParent();
                }
                if (p == null) {
                    return Result.down("フォルダがありません / the folder does not exist: " + folder);
                }
                FileStore fs = Files.getFileStore(p);
                long free = fs.getUsableSpace();
                long total = fs.getTotalSpace();
                String line = size(free) + " 空き / free of " + size(total) + " (" + folder + ")";
                if (free < minFree) {
                    return Result.down("空き容量が不足しています / low disk space: " + line + ", minimum " + size(minFree));
                }
                if (free < 2 * minFree) {
                    return Result.degraded("空き容量が少なくなっています / disk space running short: " + line);
                }
                return Result.up(line);
            } catch (IOException | RuntimeException e) {
                return Result.down("空き容量を確認できません / cannot read the free space of " + folder + ": "
                        + e.getClass().getSimpleName());
            }
        });
    }

    /**
     * The audit appender: entries waiting for the writer and its last group commit (AUDIT-1: no audit, no answer; a
     * full queue refuses requests). Over half full amber, over nine tenths red; failed groups are counted.
     */
    public static HealthCheck auditAppender(AuditTrail trail) {
        return HealthCheck.of("audit-appender", true, () -> {
            int queued = trail.queued();
            int cap = trail.capacity();
            AuditTrail.Stats s = trail.stats();
            String line = "待ち " + queued + " 件 / " + queued + " waiting of " + cap + "; " + s.transactions()
                    + " groups, " + s.failedBatches() + " failed";
            Instant last = trail.lastCommitAt();
            Result r = queued * 10L > cap * 9L ? Result.down("監査記録の待ち行列がほぼ満杯です / the audit queue is almost"
                    + " full: " + line) : queued * 2L > cap ? Result.degraded("監査記録の待ち行列が長くなっています / the"
                    + " audit queue is long: " + line) : Result.up(line);
            return r.at(last);
        });
    }

    /**
     * The checkpointer (AUDIT-3): its last signed checkpoint and anchor copy. Red when it found an integrity problem,
     * or when entries were committed more than three intervals (at least 30 s) after the last checkpoint and none was
     * signed since (stalled); amber when the anchor copy or the time-stamp of the last checkpoint failed.
     */
    public static HealthCheck checkpointer(Checkpointer cp, AuditTrail trail, Duration interval, Clock clock) {
        Duration allowed = interval.multipliedBy(3).compareTo(Duration.ofSeconds(30)) < 0 ? Duration.ofSeconds(30)
                : interval.multipliedBy(3);
        return HealthCheck.of("checkpointer", false, () -> {
            if (cp == null) {
                return Result.down("チェックポイントが署名されていません / checkpoints are not signed");
            }
            Checkpointer.Status st = cp.status();
            TrailLedger.Stored last = st.last();
            if (st.problem() != null) {
                return Result.down("監査証跡の整合性に問題があります / audit trail integrity: " + st.problem())
                        .at(last == null ? null : last.signedAt());
            }
            Instant committed = trail.lastCommitAt();
            Instant signed = last == null ? null : last.signedAt();
            Instant now = clock.instant();
            if (committed != null && (signed == null || committed.isAfter(signed))
                    && committed.plus(allowed).isBefore(now) && (signed == null || signed.plus(allowed).isBefore(now))) {
                return Result.down("チェックポイントの署名が止まっています / checkpoints have stalled: entries committed"
                        + " since the last one were not signed within " + allowed.toSeconds() + " s").at(signed);
            }
            if (last == null) {
                return Result.degraded("チェックポイントはまだありません / no checkpoint yet");
            }
            String line = "署名済み " + last.size() + " 件 / " + last.size() + " entries signed; anchor "
                    + cp.anchor().dir();
            if ("failed".equals(last.anchorStatus())) {
                return Result.degraded("アンカーフォルダに書けませんでした / the anchor copy failed: " + last.anchorError())
                        .at(signed);
            }
            return Result.up(line).at(signed);
        });
    }

    /** The time-stamp authority of the checkpoints (AUDIT-3): not configured amber; the last stamp failed red. */
    public static HealthCheck tsa(Optional<String> url, Checkpointer cp) {
        return HealthCheck.of("tsa", false, () -> {
            if (url.isEmpty()) {
                return Result.degraded("タイムスタンプ局が設定されていません / no time-stamp authority (--audit-tsa-url)");
            }
            TrailLedger.Stored last = cp == null ? null : cp.status().last();
            if (last == null || "none".equals(last.tsaStatus())) {
                return Result.degraded("まだタイムスタンプはありません / not used yet: " + url.get());
            }
            if ("failed".equals(last.tsaStatus())) {
                return Result.down("タイムスタンプを取得できませんでした / the last time-stamp failed: " + last.tsaError())
                        .at(last.signedAt());
            }
            return Result.up("直近のチェックポイントに付与済み / the last checkpoint is time-stamped: " + url.get())
                    .at(last.signedAt());
        });
    }

    /**
     * The SIEM link (AUDIT-8): not configured amber; entries waiting after a failure red; else the last success.
     *
     * @param notices where security notices go besides the log ({@code --notify-syslog}), for the line; may be empty
     */
    public static HealthCheck siem(SiemForwarder siem, Optional<String> notices) {
        return HealthCheck.of("siem", false, () -> {
            String n = notices.map(x -> "; notices to " + x).orElse("; notices to the log only");
            if (siem == null) {
                return Result.degraded("SIEM への転送が設定されていません / no SIEM forwarding (--audit-syslog-tls)" + n);
            }
            Instant last = siem.lastSentAt();
            String line = siem.target() + ": " + siem.sent() + " sent, " + siem.waiting() + " waiting, "
                    + siem.dropped() + " dropped" + n;
            if (siem.lastError() != null) {
                return Result.down("SIEM に届きません / the SIEM cannot be reached (" + siem.lastError() + "): " + line)
                        .at(last);
            }
            if (siem.dropped() > 0) {
                return Result.degraded("転送できずに捨てた記録があります / entries were dropped: " + line).at(last);
            }
            return Result.up(line).at(last);
        });
    }

    /**
     * The server's TLS certificate (NET-14): expiring within {@link #CERTIFICATE_WARNING} or expired red. Plain HTTP
     * (loopback only, itself a deviation at start) has no certificate to watch.
     */
    public static HealthCheck certificate(Supplier<X509Certificate> certificate, Clock clock) {
        return HealthCheck.of("certificate", false, () -> {
            X509Certificate c = certificate.get();
            if (c == null) {
                return Result.up("TLS なし(ループバックの平文 HTTP) / no TLS (plain HTTP on loopback)");
            }
            Instant until = c.getNotAfter().toInstant();
            Duration left = Duration.between(clock.instant(), until);
            if (left.isNegative()) {
                return Result.down("TLS 証明書の有効期限が切れています / the TLS certificate has expired").at(until);
            }
            if (left.compareTo(CERTIFICATE_WARNING) < 0) {
                return Result.down("TLS 証明書の有効期限まであと " + left.toDays() + " 日です / the TLS certificate expires in "
                        + left.toDays() + " days").at(until);
            }
            return Result.up("有効期限まで " + left.toDays() + " 日 / valid for " + left.toDays() + " more days").at(until);
        });
    }

    static String size(long bytes) {
        double g = bytes / (1024.0 * 1024 * 1024);
        if (g >= 1) {
            return String.format(Locale.ROOT, "%.1f GiB", g);
        }
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (1024.0 * 1024));
    }
}
