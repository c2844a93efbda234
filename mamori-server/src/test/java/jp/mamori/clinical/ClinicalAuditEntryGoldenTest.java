package jp.mamori.clinical;

import jp.mamori.access.Action;
import jp.mamori.access.Caller;
import jp.mamori.access.PersonContext;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.EntryCodec;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.ResourceRef;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The clinician console's entry, byte for byte as the trail has always stored it: a person's chart read under an
 * active break-glass use names the person with the roles and departments of their access context, what was shown,
 * the console request, and break-glass as purpose and flag.
 */
class ClinicalAuditEntryGoldenTest {
    private static final Instant AT = Instant.parse("2026-11-23T01:02:03.456789123Z");
    private static final UUID ACCOUNT = UUID.fromString("0f0e0d0c-0b0a-4908-8706-050403020100");

    private static PersonContext.HeldRole role(String role, String department) {
        return new PersonContext.HeldRole(role, department, PersonContext.Scope.DEPARTMENT, true,
                Map.of("Patient", Set.of(Action.READ)));
    }

    private static Clinical.Unit chartRead(PersonContext p) {
        Clinical clinical = new Clinical(null, null, null, null, null, null, Clock.systemUTC());
        Clinical.Unit u = clinical.new Unit(Caller.person(p, "山田 花子", "192.0.2.4"), "read");
        u.detail("patient", "p1");
        u.detail("view", "chart");
        u.patients.add("p1");
        u.resources.add(ResourceRef.version("Patient", "p1", 2));
        u.resources.add(ResourceRef.version("Composition", "c9", 1));
        return u;
    }

    @Test
    void aChartReadUnderBreakGlassIsRecordedWithBreakGlassAsPurposeAndFlag() {
        PersonContext p = new PersonContext(ACCOUNT, List.of(role("physician", "内科"), role("nurse", "内科"),
                role("physician", "救急科")), Set.of(), Map.of(),
                List.of(new PersonContext.Glass(UUID.randomUUID(), "p1", AT.plusSeconds(3600))));
        AuditEvent.Builder e = chartRead(p).entry(Outcome.SUCCESS, "GET /console/patients/p1", "192.0.2.4",
                "sref-abc", p.breakGlassPatients(AT));
        byte[] prev = new byte[32];
        java.util.Arrays.fill(prev, (byte) 1);
        assertEquals("{\"seq\":7,\"prev\":\"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\","
                + "\"time\":\"2026-11-23T01:02:03.456789Z\",\"actor\":\"account:" + ACCOUNT + "\",\"kind\":\"person\","
                + "\"display\":\"山田 花子\",\"role\":[\"physician\",\"nurse\"],\"department\":\"内科,救急科\","
                + "\"patient\":[\"p1\"],\"resource\":[\"Patient/p1/_history/2\",\"Composition/c9/_history/1\"],"
                + "\"action\":\"read\",\"outcome\":\"success\",\"purpose\":\"break-glass\",\"address\":\"192.0.2.4\","
                + "\"session\":\"sref-abc\",\"breakGlass\":true,\"detail\":{\"patient\":\"p1\","
                + "\"request\":\"GET /console/patients/p1\",\"via\":\"console\",\"view\":\"chart\"}}",
                new String(EntryCodec.encode(7, prev, e.at(AT).build().stored()), StandardCharsets.UTF_8));
    }

    @Test
    void withoutAnActiveUseForThePatientTheReadIsForTreatment() {
        PersonContext p = new PersonContext(ACCOUNT, List.of(role("physician", "内科")), Set.of(), Map.of(),
                List.of(new PersonContext.Glass(UUID.randomUUID(), "p2", AT.plusSeconds(3600))));
        var stored = chartRead(p).entry(Outcome.SUCCESS, "GET /console/patients/p1", "192.0.2.4", "sref-abc",
                p.breakGlassPatients(AT)).at(AT).build().stored();
        assertEquals("treatment", stored.purpose());
        assertFalse(stored.breakGlass());
    }
}
