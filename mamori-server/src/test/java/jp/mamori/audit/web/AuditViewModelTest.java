package jp.mamori.audit.web;

import jp.mamori.audit.AuditReports;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What an audit report row shows, decided before any HTML is written. */
class AuditViewModelTest {
    @Test
    void aPersonIsNamedWithTheirActorAndAClientByItsActorAlone() {
        AuditReports.Row person = new AuditReports.Row(12, Instant.parse("2025-04-01T00:30:00Z"), "person/yamada",
                "person", "山田 花子", List.of("doctor", "nurse"), "内科", List.of("p1", "p2"), "read", "success",
                "treatment", List.of("Patient/p1", "Observation/o1"), "10.0.0.1", "s1", true);
        assertEquals(new AuditViews.Entry(12, "2025-04-01 09:30", "山田 花子 (person/yamada)", "doctor nurse / 内科",
                "p1 p2", "read", "Patient/p1 Observation/o1", "success", "treatment", "10.0.0.1", true),
                AuditPages.entry(person));
        AuditReports.Row client = new AuditReports.Row(13, Instant.parse("2025-04-01T00:30:00Z"), "client/lab", "client",
                null, List.of(), null, List.of(), "search", "success", "treatment", List.of(), "10.0.0.2", null, false);
        AuditViews.Entry e = AuditPages.entry(client);
        assertEquals("client/lab", e.who());
        assertEquals("", e.roles());
        assertEquals("", e.patients());
    }
}
