package jp.mamori.demo;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.records.BundleProcessor;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Reference;

import javax.sql.DataSource;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes synthetic patients through the record service's own write path: transaction bundles of about
 * {@link #CHUNK} entries (several small patients per transaction, or a large chart over several), validated,
 * versioned and hashed like any other write, by the system caller {@code system:demo-data}. Amended notes are
 * then updated with their reason, so their history shows a final and an amended version.
 */
public final class DemoData {
    static final int CHUNK = 400;
    static final String REASON = "合成デモデータの作成 / creating synthetic demo data";

    /** How many patients {@link Summary#samples} names at most. */
    static final int SAMPLES = 8;

    /**
     * What was written, with up to {@link #SAMPLES} patients to try (those in hospital today first, one per
     * department before a second) and how many patients each department has in hospital today.
     */
    public record Summary(int patients, int resources, int amended, long millis,
                          List<Sample> samples, Map<String, Integer> todayByDepartment) {
    }

    /** A patient to try, by the patient ID every banner shows. */
    public record Sample(String patientId, DemoGenerator.Profile profile) {
    }

    private final RecordService records;
    private final BundleProcessor bundles;
    private final Caller caller = Caller.system("demo-data");
    private final Map<String, String> amendTargets = new HashMap<>();

    /**
     * Writes through a record service of its own whose every transaction stages its audit entry through
     * {@code recorder} (AUDIT-1): demo versions are in the trail, with their hashes, like any other.
     */
    public DemoData(DataSource ds, jp.mamori.audit.AuditRecorder recorder) {
        FhirSupport fhir = new FhirSupport();
        this.records = new RecordService(ds, new AccessPolicy(), fhir, 50, 1000);
        this.records.journal(new jp.mamori.audit.WriteEntries(recorder));
        this.bundles = new BundleProcessor(records);
    }

    /** Creates {@code patients} patients from {@code seed}; a failed transaction leaves nothing of its chunk. */
    public Summary create(int patients, long seed, DemoGenerator.Options options, LocalDate today) {
        long started = System.nanoTime();
        DemoGenerator gen = new DemoGenerator(seed, options, today);
        Map<String, String> resolved = new HashMap<>();
        List<DemoGenerator.Entry> pending = new ArrayList<>();
        List<DemoGenerator.Entry> toAmend = new ArrayList<>();
        amendTargets.clear();
        int resources = 0;
        List<Sample> inToday = new ArrayList<>();
        List<Sample> others = new ArrayList<>();
        Map<String, Integer> byDepartment = new java.util.TreeMap<>();
        for (int i = 0; i < patients; i++) {
            DemoGenerator.PatientData data = gen.patient(i);
            Sample sample = new Sample(data.patientId(), data.profile());
            if (data.profile().today() != null) {
                byDepartment.merge(data.profile().department(), 1, Integer::sum);
                inToday.add(sample);
            } else if (others.size() < SAMPLES) {
                others.add(sample);
            }
            for (DemoGenerator.Entry e : data.entries()) {
                pending.add(e);
                if (e.amended() != null) {
                    toAmend.add(e);
                }
                if (pending.size() >= CHUNK) {
                    resources += flush(pending, resolved);
                }
            }
            if (resolved.size() > 50_000) { // references never cross patients, so earlier ones can go
                resources += flush(pending, resolved);
                resolved.clear();
            }
        }
        resources += flush(pending, resolved);
        for (DemoGenerator.Entry e : toAmend) {
            String ref = amendTargets.get(e.fullUrl());
            Composition amended = e.amended();
            rewrite(amended, amendTargets);
            String id = ref.substring(ref.indexOf('/') + 1);
            amended.setId(id);
            records.update(caller, "Composition", id, amended, 1, e.amendReason());
        }
        return new Summary(patients, resources, toAmend.size(), (System.nanoTime() - started) / 1_000_000,
                samples(inToday, others), byDepartment);
    }

    /** Today's patients first, one per department in turn, then others; at most {@link #SAMPLES}. */
    static List<Sample> samples(List<Sample> today, List<Sample> others) {
        List<Sample> out = new ArrayList<>();
        List<Sample> rest = new ArrayList<>(today);
        while (out.size() < SAMPLES && !rest.isEmpty()) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            for (java.util.Iterator<Sample> it = rest.iterator(); it.hasNext() && out.size() < SAMPLES; ) {
                Sample s = it.next();
                if (seen.add(s.profile().department())) {
                    out.add(s);
                    it.remove();
                }
            }
        }
        for (Sample s : others) {
            if (out.size() < SAMPLES) {
                out.add(s);
            }
        }
        return out;
    }

    private int flush(List<DemoGenerator.Entry> pending, Map<String, String> resolved) {
        if (pending.isEmpty()) {
            return 0;
        }
        Bundle b = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (DemoGenerator.Entry e : pending) {
            rewrite(e.resource(), resolved);
            b.addEntry().setFullUrl(e.fullUrl()).setResource(e.resource()).getRequest()
                    .setMethod(Bundle.HTTPVerb.POST).setUrl(e.resource().fhirType());
        }
        List<BundleProcessor.EntryResult> results = bundles.process(caller, b, REASON);
        for (int i = 0; i < pending.size(); i++) {
            RecordService.Stored s = results.get(i).stored();
            resolved.put(pending.get(i).fullUrl(), s.type() + "/" + s.id());
        }
        for (int i = 0; i < pending.size(); i++) { // what an amendment needs: the note and what it refers to
            DemoGenerator.Entry e = pending.get(i);
            if (e.amended() != null) {
                amendTargets.put(e.fullUrl(), resolved.get(e.fullUrl()));
                for (Reference ref : FhirSupport.CTX.newTerser().getAllPopulatedChildElementsOfType(e.amended(),
                        Reference.class)) {
                    if (resolved.containsKey(ref.getReference())) {
                        amendTargets.put(ref.getReference(), resolved.get(ref.getReference()));
                    }
                }
            }
        }
        int n = pending.size();
        pending.clear();
        return n;
    }

    /** References to entries written in an earlier transaction are replaced by their stored ids. */
    private static void rewrite(org.hl7.fhir.r4.model.Resource res, Map<String, String> resolved) {
        for (Reference ref : FhirSupport.CTX.newTerser().getAllPopulatedChildElementsOfType(res, Reference.class)) {
            String target = ref.getReference();
            if (target != null && resolved.containsKey(target)) {
                ref.setReference(resolved.get(target));
            }
        }
    }
}
