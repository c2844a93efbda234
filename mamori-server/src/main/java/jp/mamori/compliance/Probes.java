package jp.mamori.compliance;

import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.db.Tx;
import jp.mamori.ops.Alerts;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The registry of live probes (issue 20, "Evidence that maintains itself"): every {@link Probe} registered at start,
 * evaluated every few minutes and on demand, the latest {@link Evidence} of each kept in memory.
 * <p>Each change of a probe's status (its first evaluation included) is stored in {@code compliance_probe_change}
 * (append-only, V24) so that a checklist item's history shows when it changed, and recorded in the audit trail as the
 * server's own entry ({@code compliance.probe}, GOV-5: results documented so that third parties can verify them). A
 * probe at FAIL keeps an alert open through {@link Alerts} (AUDIT-8, NET-13) until it is no longer FAIL.
 * <p>With several processes on one database, only the one that {@link #ledBy leads} stores changes, writes the audit
 * entries and raises alerts; every process keeps its own latest evidence.
 */
public final class Probes implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Probes.class);
    /** How often the probes run by default. */
    public static final Duration DEFAULT_EVERY = Duration.ofMinutes(5);
    /** The prefix of this registry's alert keys. */
    public static final String ALERT_PREFIX = "compliance.";
    static final int MAX_SUMMARY = 4000;

    /** One stored change of a probe's status. */
    public record Change(long seq, String probeId, Evidence.Status status, String summary, Instant at) {
    }

    private final List<Probe> probes = new CopyOnWriteArrayList<>();
    private final Map<String, Evidence> latest = new ConcurrentHashMap<>();
    /** The last status stored per probe (read from the table on first use, so a restart records no false change). */
    private final Map<String, Evidence.Status> stored = new ConcurrentHashMap<>();
    private final DataSource ds;
    private final AuditRecorder recorder;
    private final Alerts alerts;
    private final Clock clock;
    private volatile BooleanSupplier leads = () -> true;
    private ScheduledExecutorService timer;

    /**
     * @param recorder where status changes are recorded; null: not recorded (tools, tests of single probes)
     * @param alerts   where a FAIL raises an alert; null: no alerts
     */
    public Probes(DataSource ds, AuditRecorder recorder, Alerts alerts, Clock clock) {
        this.ds = ds;
        this.recorder = recorder;
        this.alerts = alerts;
        this.clock = clock;
    }

    /** Adds a probe; its id must be new. */
    public Probes register(Probe probe) {
        if (probes.stream().anyMatch(p -> p.id().equals(probe.id()))) {
            throw new IllegalArgumentException("a probe named " + probe.id() + " is registered already");
        }
        probes.add(probe);
        return this;
    }

    /** Adds each of {@code more} ({@link #register}; e.g. the registers' and the documents' probes). */
    public Probes registerAll(List<? extends Probe> more) {
        more.forEach(this::register);
        return this;
    }

    /** The registered probes, in the order registered. */
    public List<Probe> probes() {
        return List.copyOf(probes);
    }

    /** Stores changes, audits and alerts only while {@code leads} says this process leads (ADR 0013). */
    public Probes ledBy(BooleanSupplier leads) {
        this.leads = leads;
        return this;
    }

    /** Runs {@link #evaluate} every {@code every}, the first after {@code first}. */
    public synchronized Probes start(Duration first, Duration every) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mamori-compliance-probes");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            try {
                evaluate();
            } catch (RuntimeException e) {
                log.warn("compliance: probe run failed: {}", e.toString());
            }
        }, first.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    /**
     * Runs every probe now (also on demand) and returns their evidence in the order registered. A probe that throws
     * is UNKNOWN. A change of status is stored, audited and alerted (see the class comment).
     */
    public synchronized List<Evidence> evaluate() {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        List<Evidence> out = new ArrayList<>();
        boolean leading = leads.getAsBoolean();
        for (Probe p : probes) {
            Evidence e;
            try {
                e = p.evaluate(now);
                if (e == null) {
                    e = unknown(p.id(), "結果がありません / the probe gave no result", now);
                }
            } catch (RuntimeException ex) {
                log.warn("compliance: probe {} failed: {}", p.id(), ex.toString());
                e = unknown(p.id(), "確認できません / cannot be checked: " + ex.getClass().getSimpleName(), now);
            }
            latest.put(p.id(), e);
            out.add(e);
            if (leading) {
                try {
                    record(e);
                } catch (RuntimeException ex) {
                    log.warn("compliance: the change of probe {} could not be recorded: {}", p.id(), ex.toString());
                }
            }
        }
        return out;
    }

    private static Evidence unknown(String id, String summary, Instant now) {
        return new Evidence(id, Evidence.Status.UNKNOWN, summary, null, now);
    }

    private void record(Evidence e) {
        Evidence.Status before = stored.computeIfAbsent(e.probeId(), id -> lastStored(id).orElse(null));
        if (before != e.status()) {
            String summary = clip(e.summary());
            Tx.inTransaction(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO compliance_probe_change (probe_id, status,"
                        + " summary, at) VALUES (?, ?, ?, ?)")) {
                    ps.setString(1, e.probeId());
                    ps.setString(2, e.status().name());
                    ps.setString(3, summary);
                    ps.setTimestamp(4, Timestamp.from(e.at()));
                    ps.executeUpdate();
                }
                return null;
            });
            stored.put(e.probeId(), e.status());
            log.info("compliance: probe {} {} -> {}: {}", e.probeId(), before == null ? "(first)" : before, e.status(),
                    summary);
            if (recorder != null) {
                Map<String, String> detail = new LinkedHashMap<>();
                detail.put("probe", e.probeId());
                detail.put("from", before == null ? "none" : before.name());
                detail.put("to", e.status().name());
                detail.put("summary", summary.length() > 1000 ? summary.substring(0, 1000) : summary);
                recorder.system("compliance", AuditAction.COMPLIANCE_PROBE, Outcome.of(e.status() != Evidence.Status.FAIL),
                        detail);
            }
        }
        if (alerts != null) {
            String key = ALERT_PREFIX + e.probeId();
            Map<String, String> f = Map.of("probe", e.probeId(), "status", e.status().name());
            if (e.status() == Evidence.Status.FAIL) {
                alerts.raise(key, "compliance.failed", f, "安全管理の確認項目が不適合です / compliance probe failed: "
                        + e.probeId() + ": " + e.summary());
            } else {
                alerts.clear(key, "compliance.recovered", f, "安全管理の確認項目が回復しました / compliance probe"
                        + " recovered: " + e.probeId() + ": " + e.summary());
            }
        }
    }

    private static String clip(String s) {
        String t = s.isBlank() ? "-" : s;
        return t.length() > MAX_SUMMARY ? t.substring(0, MAX_SUMMARY - 1) + "…" : t;
    }

    private Optional<Evidence.Status> lastStored(String probeId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT status FROM compliance_probe_change WHERE probe_id = ?"
                    + " ORDER BY seq DESC LIMIT 1")) {
                ps.setString(1, probeId);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(Evidence.Status.valueOf(rs.getString(1))) : Optional.empty();
                }
            }
        });
    }

    /** The latest evidence of every probe, in the order registered; evaluates first when nothing ran yet. */
    public List<Evidence> latest() {
        if (latest.isEmpty() && !probes.isEmpty()) {
            return evaluate();
        }
        List<Evidence> out = new ArrayList<>();
        for (Probe p : probes) {
            Evidence e = latest.get(p.id());
            if (e != null) {
                out.add(e);
            }
        }
        return out;
    }

    /** The latest evidence of probe {@code probeId}, if it ran. */
    public Optional<Evidence> latest(String probeId) {
        return Optional.ofNullable(latest.get(probeId));
    }

    /**
     * The latest evidence of every probe that names {@code requirementId} (e.g. {@code AUTH-2}), in the order
     * registered; empty for a requirement no probe answers. The compliance console's evidence source.
     */
    public List<Evidence> forRequirement(String requirementId) {
        if (requirementId == null) {
            return List.of();
        }
        List<String> ids = probes.stream().filter(p -> p.requirements().contains(requirementId)).map(Probe::id).toList();
        if (ids.isEmpty()) {
            return List.of();
        }
        return latest().stream().filter(e -> ids.contains(e.probeId())).toList();
    }

    /** The stored changes of {@code probeId}, newest first, at most {@code limit}. */
    public List<Change> history(String probeId, int limit) {
        return Tx.read(ds, c -> {
            List<Change> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT seq, probe_id, status, summary, at FROM"
                    + " compliance_probe_change WHERE probe_id = ? ORDER BY seq DESC LIMIT ?")) {
                ps.setString(1, probeId);
                ps.setInt(2, Math.max(1, Math.min(limit, 1000)));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Change(rs.getLong(1), rs.getString(2), Evidence.Status.valueOf(rs.getString(3)),
                                rs.getString(4), rs.getTimestamp(5).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
