package jp.mamori.signatures;

import jp.mamori.db.Tx;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Signature;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Keeps signatures verifiable for the whole retention period (issue 17; SIGN-3, SIGN-4; ISO 14533, ETSI EN 319 122):
 * <ul>
 *   <li>a signature made at level B while no TSA answered gets its time-stamp as soon as one does;</li>
 *   <li>a B-T signature is extended to LTA: the certificates and revocation data embedded (LT), then an archive
 *       time-stamp over all of it;</li>
 *   <li>an LTA signature whose last archive time-stamp's certificate expires within the renewal margin gets a further
 *       archive time-stamp (re-time-stamping), before it weakens.</li>
 * </ul>
 * Each extension is a new version of the signature's Provenance (written by {@code system:signatures}, so it is an
 * audit entry with its hashes), then validated and its report stored. A TSA or revocation source that does not
 * answer leaves the signature as it was, for the next run.
 */
public final class SignatureUpkeep implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SignatureUpkeep.class);
    private static final int BATCH = 200;

    private final DataSource ds;
    private final Signatures signatures;
    private final SignatureCheck check;
    private final Clock clock;
    private final Duration renew;
    private ScheduledExecutorService timer;

    /** What one run did. */
    public record Run(int timestamped, int extended, int renewed, int failed) {
    }

    public SignatureUpkeep(DataSource ds, Signatures signatures, SignatureCheck check, Clock clock, Duration renew) {
        this.ds = ds;
        this.signatures = signatures;
        this.check = check;
        this.clock = clock;
        this.renew = renew;
    }

    /** Whether this process runs the job now (the leader's lock, issue 18 §1, ADR 0013); always, alone. */
    private volatile java.util.function.BooleanSupplier leads = () -> true;

    /** Runs the scheduled work only while {@code leads} says this process leads it (several processes, one database). */
    public SignatureUpkeep ledBy(java.util.function.BooleanSupplier leads) {
        this.leads = leads;
        return this;
    }

    /** Runs every {@code interval}, the first time a minute after start. */
    public synchronized void start(Duration interval) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mamori-signature-upkeep");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(() -> {
            if (!leads.getAsBoolean()) {
                return;
            }
            try {
                Run r = runOnce();
                if (r.timestamped() + r.extended() + r.renewed() + r.failed() > 0) {
                    log.info("signature upkeep: {} time-stamped, {} extended to LTA, {} re-time-stamped, {} left for"
                            + " the next run", r.timestamped(), r.extended(), r.renewed(), r.failed());
                }
            } catch (RuntimeException e) {
                log.warn("signature upkeep failed; retried at the next run", e);
            }
        }, 60, interval.toSeconds(), TimeUnit.SECONDS);
    }

    /** One pass over every signature that is due (in batches), now; one that fails is left for the next run. */
    public Run runOnce() {
        int timestamped = 0;
        int extended = 0;
        int renewed = 0;
        int failed = 0;
        long after = 0;
        Instant renewBy = clock.instant().plus(renew);
        while (true) {
            long a = after;
            List<SignatureStore.Row> due = Tx.read(ds, c -> SignatureStore.due(c, renewBy, a, BATCH));
            for (SignatureStore.Row r : due) {
                after = r.id();
                try {
                    switch (upkeep(r, renewBy)) {
                        case TIMESTAMPED -> timestamped++;
                        case EXTENDED -> extended++;
                        case RENEWED -> renewed++;
                        case NOTHING -> {
                        }
                    }
                } catch (SignatureFailure f) {
                    failed++;
                    log.info("signature of {} left for the next run: {}", r.ref(), f.getMessage());
                }
            }
            if (due.size() < BATCH) {
                return new Run(timestamped, extended, renewed, failed);
            }
        }
    }

    private enum Done { TIMESTAMPED, EXTENDED, RENEWED, NOTHING }

    private Done upkeep(SignatureStore.Row r, Instant renewBy) {
        SignatureCheck.Material m = check.material(r);
        byte[] next;
        Done done;
        if (r.level().equals(Level.B.label())) {
            next = signatures.addTimestamp(m.signature(), m.document());
            done = Done.TIMESTAMPED;
        } else if (!r.level().equals(Level.LTA.label())) {
            next = signatures.extendToLta(m.signature(), m.document());
            done = Done.EXTENDED;
        } else if (r.archiveUntil() == null || r.archiveUntil().isBefore(renewBy)) {
            next = signatures.extendToLta(m.signature(), m.document());
            done = Done.RENEWED;
        } else {
            return Done.NOTHING;
        }
        Validation v = signatures.validate(next, m.document());
        Level level = v.level().orElse(done == Done.TIMESTAMPED ? Level.B_T : Level.LTA);
        Provenance p = m.provenance().copy();
        for (Signature s : p.getSignature()) {
            if (DocumentSigning.SIG_FORMAT.equals(s.getSigFormat())) {
                s.setData(next);
                v.signingTime().ifPresent(t -> s.setWhen(java.util.Date.from(t)));
            }
        }
        Instant now = clock.instant();
        // one transaction: the Provenance's new version (an audit entry with its hashes) and the row's state
        check.records().writeWith((c, w) -> {
            w.update(DocumentSigning.WRITER, "Provenance", r.provenanceId(), p, m.provenanceVersion(),
                    "signature " + (done == Done.TIMESTAMPED ? "time-stamped" : done == Done.EXTENDED
                            ? "extended to LTA" : "re-time-stamped (archive time-stamp renewed)"));
            SignatureStore.extended(c, r.id(), level, v.signingTime().orElse(null),
                    v.lastArchiveTimestampCertExpiry().orElse(null));
            SignatureStore.validated(c, r.id(), v, now);
            return null;
        });
        return done;
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
