package jp.mamori.audit;

import jp.mamori.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The audit capability of a running server: the trail and its appender, the FHIR API's choke point, the
 * reports, SIEM forwarding and the periodic clock check. Started once with the server; records its own start
 * (with the configuration in force) and stop.
 */
public final class Audit implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Audit.class);

    private final DataSource ds;
    private final AuditTrail trail;
    private final AuditRecorder recorder;
    private final AuditReports reports;
    private final SiemForwarder siem;
    private final ScheduledExecutorService clock;
    private volatile ClockCheck.Status lastClock;
    private Checkpointer checkpointer;
    private volatile java.util.function.BooleanSupplier deriverLeads = () -> true;

    private Audit(DataSource ds, AuditTrail trail, AuditReports reports, SiemForwarder siem,
                  ScheduledExecutorService clock) {
        this.ds = ds;
        this.trail = trail;
        this.recorder = new AuditRecorder(trail);
        this.reports = reports;
        this.siem = siem;
        this.clock = clock;
    }

    /**
     * Starts the trail, records the start with the configuration and the clock status, and schedules the clock
     * check. {@code config} is the non-secret summary to record; {@code deviations} the configuration's.
     */
    public static Audit start(DataSource ds, ServerConfig.AuditOptions o, String hostname, String version,
                              List<String> deviations) {
        return start(ds, o, hostname, version, deviations, null);
    }

    /**
     * As above, and with {@code dataDir} (not null) signs checkpoints with the key in its secrets, anchored in
     * {@code --audit-anchor-dir} (default {@code <data>/audit-anchor}) and time-stamped by {@code --audit-tsa-url}.
     */
    public static Audit start(DataSource ds, ServerConfig.AuditOptions o, String hostname, String version,
                              List<String> deviations, java.nio.file.Path dataDir) {
        return start(ds, o, hostname, version, deviations, dataDir, new jp.mamori.access.LogNotifier());
    }

    /** As above; integrity problems the checkpointer finds also go to {@code notifier} as security notices. */
    public static Audit start(DataSource ds, ServerConfig.AuditOptions o, String hostname, String version,
                              List<String> deviations, java.nio.file.Path dataDir,
                              jp.mamori.access.SecurityNotifier notifier) {
        return start(ds, o, hostname, version, deviations, dataDir, notifier, null);
    }

    /**
     * As above, following {@code availability} (issue 18 §2, ADR 0013 "Journal"): while it is degraded every entry
     * goes to a local journal in {@code <data>/audit-journal} (from the start entry on when the process starts
     * degraded); leaving degraded mode first merges the journals into the main trail (a preparer: leaving waits for
     * it, and a database that still refuses keeps the process degraded); a process that starts normal merges the
     * journals an earlier run left before anything else. A group the database refuses with a retryable failure
     * before the monitor noticed enters degraded mode and is journaled. Null: no journal (as before).
     */
    public static Audit start(DataSource ds, ServerConfig.AuditOptions o, String hostname, String version,
                              List<String> deviations, java.nio.file.Path dataDir,
                              jp.mamori.access.SecurityNotifier notifier, jp.mamori.db.Availability availability) {
        // the checkpointer's key seals every group the trail stores, so that the checkpointer signs only those
        Checkpointer cp = dataDir == null ? null : checkpointer(ds, o, hostname, dataDir).notifying(notifier);
        AuditTrail trail = new AuditTrail(ds, AuditTrail.Settings.DEFAULT, cp == null ? null : GroupSeal.of(cp.signer()));
        SiemForwarder siem = null;
        if (o.syslogTls().isPresent()) {
            siem = new SiemForwarder(o.syslogHost(), o.syslogPort(), hostname, SiemForwarder.trusting(o.syslogCa()));
            trail.onAppended(siem::offer);
        }
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mamori-audit-clock");
            t.setDaemon(true);
            return t;
        });
        Audit a = new Audit(ds, trail, new AuditReports(ds, o), siem, clock);
        boolean degraded = false;
        if (availability != null && cp != null) {
            trail.journalTo(new JournalKeeper(AuditJournal.folder(dataDir), hostname, cp.signer(), notifier,
                    AuditTrail.Settings.DEFAULT.maxBatch()));
            degraded = availability.degraded();
            if (degraded) {
                trail.startJournaling();
            } else {
                try {
                    int merged = trail.mergeJournals();
                    if (merged > 0) {
                        log.warn("audit: {} entries of journals left by an earlier run were merged", merged);
                    }
                } catch (RuntimeException e) {
                    log.error("audit: journals left by an earlier run could not be merged yet: {}", e.toString());
                }
            }
            availability.onChange(s -> {
                if (s.degraded()) {
                    trail.startJournaling();
                }
            });
            availability.beforeLeaving(trail::mergeJournals);
            trail.onDatabaseRefused(t -> {
                if (!availability.degraded()) {
                    availability.enterDegraded("the database refused the audit trail's write: " + t);
                }
            });
        }
        try {
            Map<String, String> cfg = new LinkedHashMap<>();
            cfg.put("version", version);
            cfg.put("retentionYears", Integer.toString(o.retentionYears()));
            cfg.put("siem", o.syslogTls().orElse("none"));
            cfg.put("deviations", String.join(" | ", deviations));
            if (dataDir != null) {
                a.checkpointer = cp.recordingTo(trail);
                cfg.put("checkpointSeconds", Integer.toString(o.checkpointSeconds()));
                cfg.put("anchor", a.checkpointer.anchor().dir().toString());
                cfg.put("tsa", o.tsaUrl().orElse("none"));
                cfg.put("verifierKey", a.checkpointer.signer().verifierKey().format());
                log.info("audit: checkpoints signed by {} every {} s, anchored in {}",
                        a.checkpointer.signer().verifierKey().format(), o.checkpointSeconds(),
                        a.checkpointer.anchor().dir());
            }
            a.recorder.system("server", AuditAction.SERVER_START, Outcome.SUCCESS, cfg);
            a.checkClock();
            if (a.checkpointer != null) {
                if (!degraded) {
                    a.checkpointer.checkpoint(); // a read-only database takes none; the journal holds the entries
                }
                a.checkpointer.start(java.time.Duration.ofSeconds(o.checkpointSeconds()));
            }
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        ReportDeriver deriver = new ReportDeriver(ds);
        clock.scheduleWithFixedDelay(() -> {
            if (a.deriverLeads.getAsBoolean()) { // one process derives for the installation (issue 18 §1)
                deriver.run();
            }
        }, ReportDeriver.PERIOD_MILLIS, ReportDeriver.PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        clock.scheduleWithFixedDelay(() -> {
            try {
                a.checkClock();
            } catch (RuntimeException e) {
                log.warn("audit: the clock check could not be recorded: {}", e.toString());
            }
        }, o.clockCheckMinutes(), o.clockCheckMinutes(), TimeUnit.MINUTES);
        return a;
    }

    /**
     * Puts the jobs that must run once per installation under leadership (issue 18 §1, ADR 0013): the checkpointer
     * signs, and the report deriver derives, only while their gate says this process leads them. The appenders stay
     * per process (several appenders on one chain, ADR 0006).
     */
    public Audit ledBy(java.util.function.BooleanSupplier checkpointerLeads,
                       java.util.function.BooleanSupplier deriverLeads) {
        if (checkpointer != null) {
            checkpointer.ledBy(checkpointerLeads);
        }
        this.deriverLeads = deriverLeads;
        return this;
    }

    /** Records whether the host clock is synchronised now. */
    public ClockCheck.Status checkClock() {
        ClockCheck.Status s = ClockCheck.now();
        lastClock = s;
        recorder.system("clock", AuditAction.CLOCK_CHECK, Outcome.of(s.synced()),
                Map.of("state", s.state(), "source", s.source()));
        return s;
    }

    /** The checkpointer for the data folder {@code dataDir}: its key, anchor folder and TSA as configured. */
    public static Checkpointer checkpointer(DataSource ds, ServerConfig.AuditOptions o, String hostname,
                                            java.nio.file.Path dataDir) {
        jp.mamori.ledger.NoteSigner signer = SigningKey.loadOrCreate(dataDir, hostname + "/mamori-audit");
        Anchor anchor = new Anchor(o.anchorDir().orElse(dataDir.resolve("audit-anchor")));
        TimeStamper tsa = o.tsaUrl().map(u -> new TimeStamper(java.net.URI.create(u), java.time.Duration.ofSeconds(10)))
                .orElse(null);
        return new Checkpointer(ds, signer, anchor, tsa);
    }

    /**
     * A trail for a command-line tool that records one run (verification, export): its groups are sealed with the
     * data folder's key like the server's, so that a checkpoint may cover them.
     */
    public static AuditTrail toolTrail(DataSource ds, java.nio.file.Path dataDir) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return new AuditTrail(ds, AuditTrail.Settings.DEFAULT,
                GroupSeal.of(SigningKey.loadOrCreate(dataDir, host + "/mamori-audit")));
    }

    /**
     * The local journal's state for the health report and metrics (issue 18 §2): whether entries go to it now, the file
     * being written and its entries and head hash (base64; what a reviewer compares with the {@code journal.merged}
     * entry), and the journal files not merged yet (file names).
     */
    public record JournalState(boolean journaling, String file, long entries, String head, List<String> unmerged) {
    }

    /** The journal's state, or null when this process has no journal (no data folder or no availability given). */
    public JournalState journal() {
        JournalKeeper.State s = trail.journalState();
        return s == null ? null : new JournalState(s.journaling(), s.file(), s.entries(), s.head(), s.unmerged());
    }

    /** The checkpointer, or null when started without a data folder. */
    public Checkpointer checkpointer() {
        return checkpointer;
    }

    /** Deviations that arise at run time: an unsynchronised or unknown clock, checkpoint problems. */
    public List<String> deviations() {
        List<String> out = new ArrayList<>();
        if (checkpointer != null) {
            out.addAll(checkpointer.deviations());
        }
        ClockCheck.Status s = lastClock;
        if (s != null && ClockCheck.deviation(s) != null) {
            out.add(ClockCheck.deviation(s));
        }
        JournalState j = journal();
        if (j != null && !j.journaling() && !j.unmerged().isEmpty()) {
            out.add("未統合の監査ジャーナルがあります / audit journals not merged into the trail yet: "
                    + String.join(", ", j.unmerged()));
        }
        return out;
    }

    public ClockCheck.Status lastClock() {
        return lastClock;
    }

    /**
     * The last clock check in words for other capabilities (AUDIT-4; the compliance probe): {@code synchronized},
     * {@code unsynchronized} or {@code unknown}, and who answered; null before the first check.
     */
    public String[] lastClockState() {
        ClockCheck.Status s = lastClock;
        return s == null ? null : new String[] {s.state(), s.source()};
    }

    /**
     * Whether this person may see the trail: a role holding the non-clinical category {@code audit} with
     * {@code action} (監査担当 holds read, search, export, print), as the access model decides for any category.
     */
    public boolean permits(java.util.UUID account, jp.mamori.access.Action action) {
        jp.mamori.access.PersonContext p = jp.mamori.access.PersonContext.load(ds, account, java.time.Instant.now(),
                null); // roles only
        for (jp.mamori.access.PersonContext.HeldRole r : p.roles()) {
            if (r.permissions().getOrDefault("audit", java.util.Set.of()).contains(action)) {
                return true;
            }
        }
        return false;
    }

    public AuditTrail trail() {
        return trail;
    }

    /** Where every event of the running server is recorded. */
    public AuditRecorder recorder() {
        return recorder;
    }

    public AuditReports reports() {
        return reports;
    }

    /** The SIEM forwarder, or null when none is configured ({@code --audit-syslog-tls}). */
    public SiemForwarder siem() {
        return siem;
    }

    /** Records the stop, then stores what is queued and stops forwarding. */
    @Override
    public void close() {
        clock.shutdownNow();
        try {
            recorder.system("server", AuditAction.SERVER_STOP, Outcome.SUCCESS, Map.of());
        } catch (RuntimeException e) {
            log.warn("audit: the server stop could not be recorded: {}", e.toString());
        }
        if (checkpointer != null) {
            checkpointer.close();
        }
        trail.close();
        if (siem != null) {
            siem.close();
        }
    }
}
