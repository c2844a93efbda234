package jp.mamori.records;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.model.api.annotation.ResourceDef;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Organization;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import jp.mamori.kernel.FhirError;

/** Contained resources: encoded in linear work, at most {@value StructureValidator#MAX_CONTAINED}, unique and not nested. */
class ContainedResourcesTest {
    /** Every look at a contained resource's id during encoding, counted. */
    private static final AtomicLong idLooks = new AtomicLong();

    @ResourceDef(name = "Organization")
    public static class CountedOrganization extends Organization {
        @Override
        public IdType getIdElement() {
            idLooks.incrementAndGet();
            return super.getIdElement();
        }
    }

    private static Patient withContained(int n, boolean counted) {
        Patient p = new Patient();
        p.addName().setFamily("山田");
        for (int i = 0; i < n; i++) {
            Organization o = counted ? new CountedOrganization() : new Organization();
            o.setId("o" + i);
            o.setName("医療法人 " + i);
            p.getContained().add(o);
            p.addGeneralPractitioner().setReference("#o" + i);
        }
        return p;
    }

    @Test
    void encodingLooksAtEachContainedResourceAFewTimesNotOnceForEveryOther() {
        // HAPI 8.8 looked each contained resource up among those gathered before it, and each local reference
        // among all of them: 20,000 contained resources took 52 s to store and 102 s for each XML read.
        int n = 2_000;
        Patient p = withContained(n, true);
        idLooks.set(0);
        String json = FhirSupport.canonicalJson(p);
        long jsonLooks = idLooks.getAndSet(0);
        String xml = FhirSupport.encode(p, FhirSupport.Format.XML, false);
        long xmlLooks = idLooks.get();
        assertTrue(jsonLooks < 10L * n, "JSON encoding looked at contained ids " + jsonLooks + " times for " + n);
        assertTrue(xmlLooks < 10L * n, "XML encoding looked at contained ids " + xmlLooks + " times for " + n);
        assertTrue(json.contains("\"id\":\"o" + (n - 1) + "\"") && json.contains("\"reference\":\"#o" + (n - 1) + "\""),
                "every contained resource and reference is encoded");
        assertTrue(xml.contains("<id value=\"o" + (n - 1) + "\"/>"), "every contained resource is encoded in XML");
    }

    @Test
    void theEncodingIsExactlyWhatHapiWritesItself() {
        FhirContext stock = FhirContext.forR4Cached();
        Patient p = withContained(30, false);
        String parsedBack = FhirSupport.canonicalJson(p);
        Patient again = (Patient) FhirSupport.parse(FhirSupport.Format.JSON, parsedBack.getBytes(StandardCharsets.UTF_8));
        assertEquals(stock.newJsonParser().encodeResourceToString(again), FhirSupport.canonicalJson(again));
        assertEquals(stock.newXmlParser().encodeResourceToString(again),
                FhirSupport.encode(again, FhirSupport.Format.XML, false));
    }

    @Test
    void aHundredContainedResourcesAreAcceptedAndOneMoreIsRefusedNamingTheLimit() {
        FhirSupport fhir = new FhirSupport();
        fhir.validate(withContained(StructureValidator.MAX_CONTAINED, false));
        FhirError e = assertThrows(FhirError.class, () -> fhir.validate(withContained(StructureValidator.MAX_CONTAINED + 1,
                false)));
        assertEquals(422, e.status());
        FhirError.Issue issue = e.issues().get(0);
        assertEquals(OperationOutcome.IssueType.TOOCOSTLY, issue.type());
        assertEquals("Patient.contained", issue.expression());
        assertTrue(issue.diagnostics().startsWith("含まれるリソース") && issue.diagnostics().contains("limit of "
                + StructureValidator.MAX_CONTAINED), issue.diagnostics());
    }

    @Test
    void twoContainedResourcesWithOneIdAreRefusedRatherThanOneSilentlyDropped() {
        Patient p = withContained(2, false);
        p.getContained().get(1).setId("o0");
        FhirError e = assertThrows(FhirError.class, () -> new FhirSupport().validate(p));
        assertEquals(422, e.status());
        assertEquals("Patient.contained[1]", e.issues().get(0).expression());
    }

    @Test
    void aContainedResourceContainingAnotherIsRefusedRatherThanMovedUp() {
        Patient p = withContained(1, false);
        Organization inner = new Organization().setName("inner");
        inner.setId("i1");
        ((Organization) p.getContained().get(0)).getContained().add(inner);
        FhirError e = assertThrows(FhirError.class, () -> new FhirSupport().validate(p));
        assertEquals(422, e.status());
        assertEquals("Patient.contained[0].contained", e.issues().get(0).expression());
    }
}
