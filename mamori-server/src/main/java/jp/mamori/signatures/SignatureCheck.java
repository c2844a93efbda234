package jp.mamori.signatures;

import jp.mamori.access.Caller;
import jp.mamori.db.Tx;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.Hashes;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.Provenance;
import org.hl7.fhir.r4.model.Reference;

import javax.sql.DataSource;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Verifies signed document versions (issue 17; {@code mamori verify-signatures}, the upkeep, the console): for each
 * signature, the version's stored bytes (whose hash the row and the trail hold) against the signature its Provenance
 * carries, through {@link Signatures#validate}; the outcome is stored with its ETSI report. A Provenance that names
 * another version, a version whose bytes no longer hash to what was signed, or a missing Provenance is reported as
 * invalid without asking the validator.
 */
public final class SignatureCheck {
    private static final Caller READER = Caller.system("verify-signatures");
    private static final int PAGE = 500;
    /** Validation threads: one per core, at most four (two on the machine of docs/performance.md, "Signatures"). */
    static final int THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

    private final DataSource ds;
    private final RecordService records;
    private final Signatures signatures;
    private final Clock clock;

    public SignatureCheck(DataSource ds, RecordService records, Signatures signatures, Clock clock) {
        this.ds = ds;
        this.records = records;
        this.signatures = signatures;
        this.clock = clock;
    }

    /** One version checked: its row, the validation (or the reason it could not be validated), and the level. */
    public record Checked(SignatureStore.Row row, Validation.Indication indication, String reason, String level,
                          Validation validation) {
        public boolean passed() {
            return indication == Validation.Indication.TOTAL_PASSED;
        }
    }

    /** The signed document and its signature as stored: the version's bytes and the Provenance's current signature. */
    record Material(byte[] document, byte[] signature, Provenance provenance, int provenanceVersion) {
    }

    /**
     * Checks every signature {@code which} accepts (by resource type and id), storing each outcome; returns how many
     * passed and how many did not. The signatures are validated on up to {@link #THREADS} threads (validation is CPU
     * work in DSS); {@code each} is called in the signatures' order, on the calling thread.
     */
    public long[] checkAll(Predicate<SignatureStore.Row> which, Consumer<Checked> each) {
        long[] counts = {0, 0};
        long after = 0;
        ExecutorService pool = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "mamori-verify-signatures");
            t.setDaemon(true);
            return t;
        });
        try {
            while (true) {
                long a = after;
                List<SignatureStore.Row> page = Tx.read(ds, c -> SignatureStore.page(c, a, PAGE));
                if (page.isEmpty()) {
                    return counts;
                }
                List<Future<Checked>> checks = new ArrayList<>();
                for (SignatureStore.Row r : page) {
                    after = r.id();
                    if (which.test(r)) {
                        checks.add(pool.submit(() -> check(r)));
                    }
                }
                for (Future<Checked> f : checks) {
                    Checked k = result(f);
                    counts[k.passed() ? 0 : 1]++;
                    each.accept(k);
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static Checked result(Future<Checked> f) {
        try {
            return f.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("verification interrupted", e);
        }
    }

    /**
     * Checks one signature and stores the outcome; a signature whose material is wrong (the version's bytes changed,
     * the Provenance names another version or carries none) fails without the validator, and is stored so too.
     */
    public Checked check(SignatureStore.Row r) {
        Material m;
        try {
            m = material(r);
        } catch (SignatureFailure f) {
            Validation failedValidation = new Validation(Validation.Indication.TOTAL_FAILED, Optional.of("FORMAT_FAILURE"),
                    f.getMessage(), Optional.empty(), Optional.empty(), Optional.empty(), false, Optional.empty(),
                    Optional.empty(), "");
            store(r, failedValidation);
            return new Checked(r, Validation.Indication.TOTAL_FAILED, f.getMessage(), r.level(), failedValidation);
        }
        Validation v = signatures.validate(m.signature(), m.document());
        store(r, v);
        return new Checked(r, v.indication(), v.reason(), v.level().map(Level::label).orElse(r.level()), v);
    }

    private void store(SignatureStore.Row r, Validation v) {
        Tx.inTransaction(ds, c -> {
            SignatureStore.validated(c, r.id(), v, clock.instant());
            return null;
        });
    }

    /**
     * What was signed and the signature as stored now.
     *
     * @throws SignatureFailure DOCUMENT_MISMATCH when the version's bytes or the Provenance's target are not what was
     *                          signed; NOT_A_SIGNATURE when the Provenance carries none
     */
    Material material(SignatureStore.Row r) {
        RecordService.Stored version;
        RecordService.Stored prov;
        try {
            version = records.vread(READER, r.type(), r.resId(), Integer.toString(r.version()));
            prov = records.read(READER, "Provenance", r.provenanceId());
        } catch (FhirError e) {
            throw new SignatureFailure(SignatureFailure.Reason.DOCUMENT_MISMATCH, "署名された版または Provenance を"
                    + "読めません / the signed version or its Provenance cannot be read: " + e.getMessage());
        }
        if (version.body() == null || !Arrays.equals(Hashes.sha256(version.body()), r.contentSha256())) {
            throw new SignatureFailure(SignatureFailure.Reason.DOCUMENT_MISMATCH, "版の内容が署名時と異なります / the"
                    + " version's bytes are not those that were signed");
        }
        if (prov.body() == null) {
            throw new SignatureFailure(SignatureFailure.Reason.NOT_A_SIGNATURE, "Provenance が削除されています /"
                    + " the Provenance was deleted");
        }
        Provenance p = (Provenance) FhirSupport.parseStored(prov.bodyText());
        Set<String> targets = new java.util.HashSet<>();
        for (Reference t : p.getTarget()) {
            targets.add(t.getReference());
        }
        if (!targets.equals(Set.of(r.ref()))) {
            throw new SignatureFailure(SignatureFailure.Reason.DOCUMENT_MISMATCH, "Provenance の対象が " + targets
                    + " です / the Provenance names " + targets + ", not " + r.ref());
        }
        byte[] sig = DocumentSigning.signatureOf(p).orElseThrow(() -> new SignatureFailure(
                SignatureFailure.Reason.NOT_A_SIGNATURE));
        return new Material(version.body(), sig, p, prov.version());
    }

    RecordService records() {
        return records;
    }
}
