package jp.mamori.records;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.db.Tx;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * A person's read is decided on the access columns the resource head keeps (patients, document types, labels)
 * instead of parsing and indexing the body again. They must say exactly what the body says, for every kind of
 * resource and after every kind of change: this compares both for each version as it becomes current.
 */
class HeadSubjectTest {
    private static final String LABELS = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    private static final Caller SYSTEM = Caller.system("head-subject-test");

    @Test
    void theHeadSaysWhatTheBodySaysAfterEveryChange() {
        TestServer server = TestServer.shared();
        DataSource ds = server.server().database().dataSource();
        RecordService records = server.server().records();

        String a = records.create(SYSTEM, patient("甲"), null, null).stored().id();
        String b = records.create(SYSTEM, patient("乙"), null, null).stored().id();

        Condition c = new Condition();
        c.setSubject(new Reference("Patient/" + a));
        c.setCode(new CodeableConcept().setText("高血圧"));
        String cid = records.create(SYSTEM, c, null, null).stored().id();
        expect(ds, "Condition", cid, Set.of(a), Set.of(), Set.of());

        // moved to another patient and labelled, then the label removed
        c.setSubject(new Reference("Patient/" + b));
        c.getMeta().addSecurity(LABELS, "PSY", "psychiatry");
        records.update(SYSTEM, "Condition", cid, c, null, "test: moved and labelled");
        expect(ds, "Condition", cid, Set.of(b), Set.of(), Set.of("PSY"));
        c.getMeta().getSecurity().clear();
        records.update(SYSTEM, "Condition", cid, c, null, "test: label removed");
        expect(ds, "Condition", cid, Set.of(b), Set.of(), Set.of());

        Observation o = new Observation();
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.getCode().addCoding().setSystem("http://loinc.org").setCode("8480-6");
        o.setSubject(new Reference("Patient/" + a));
        o.getMeta().addSecurity(LABELS, "HIV", "HIV").addSecurity(LABELS, "ETH", "substance abuse");
        String oid = records.create(SYSTEM, o, null, null).stored().id();
        expect(ds, "Observation", oid, Set.of(a), Set.of(), Set.of("HIV", "ETH"));

        DocumentReference d = new DocumentReference();
        d.setStatus(org.hl7.fhir.r4.model.Enumerations.DocumentReferenceStatus.CURRENT);
        d.setType(new CodeableConcept());
        d.getType().addCoding().setSystem("http://loinc.org").setCode("11506-3");
        d.getType().addCoding().setSystem("http://loinc.org").setCode("18842-5");
        d.setSubject(new Reference("Patient/" + a));
        d.addContent().getAttachment().setContentType("text/plain").setData("経過".getBytes(StandardCharsets.UTF_8));
        String did = records.create(SYSTEM, d, null, null).stored().id();
        expect(ds, "DocumentReference", did, Set.of(a), Set.of("http://loinc.org|11506-3", "http://loinc.org|18842-5"),
                Set.of());

        Organization org = new Organization();
        org.setName("試験病院");
        String orgId = records.create(SYSTEM, org, null, null).stored().id();
        expect(ds, "Organization", orgId, Set.of(), Set.of(), Set.of());

        // and every one of them compared with the body's own extraction
        for (String[] r : List.of(new String[]{"Patient", a}, new String[]{"Patient", b},
                new String[]{"Condition", cid}, new String[]{"Observation", oid}, new String[]{"DocumentReference", did},
                new String[]{"Organization", orgId})) {
            AccessPolicy.Subject fromHead = head(ds, r[0], r[1]);
            assertEquals(fromBody(ds, r[0], r[1]), fromHead, r[0] + "/" + r[1]);
        }
        assertEquals(Set.of(a), head(ds, "Patient", a).patients(), "a Patient belongs to itself");
    }

    private static Patient patient(String family) {
        Patient p = new Patient();
        p.addName().setFamily(family).addGiven("花子");
        return p;
    }

    private static void expect(DataSource ds, String type, String id, Set<String> patients, Set<String> docCodes,
                               Set<String> labels) {
        AccessPolicy.Subject s = head(ds, type, id);
        assertEquals(new AccessPolicy.Subject(type, id, patients, docCodes, labels), s, type + "/" + id);
        assertEquals(fromBody(ds, type, id), s, type + "/" + id + " against its body");
    }

    private static AccessPolicy.Subject head(DataSource ds, String type, String id) {
        RecordStore.Current cur = Tx.read(ds, c -> new RecordStore().current(c, type, id, true));
        assertNotNull(cur, type + "/" + id);
        return cur.subject();
    }

    private static AccessPolicy.Subject fromBody(DataSource ds, String type, String id) {
        RecordStore.Version v = Tx.read(ds, c -> new RecordStore().current(c, type, id));
        Resource res = FhirSupport.parseStored(new String(v.body(), StandardCharsets.UTF_8));
        IndexRows rows = new SearchIndexer().extract(res);
        return new AccessPolicy.Subject(type, id, rows.patients(type, id), rows.docCodes(), rows.labels());
    }
}
