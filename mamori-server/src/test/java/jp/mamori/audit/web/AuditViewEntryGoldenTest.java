package jp.mamori.audit.web;

import jp.mamori.audit.AuditAction;
import jp.mamori.audit.EntryCodec;
import jp.mamori.identity.Account;
import jp.mamori.identity.Sessions;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A look at the trail is itself an entry, byte for byte as the trail has always stored it: the auditor with the roles
 * of their session, the report and its parameters, the patient whose history was shown, for the purpose audit.
 */
class AuditViewEntryGoldenTest {
    private static final Instant AT = Instant.parse("2026-11-23T01:02:03.456789123Z");

    @Test
    void aPatientReportViewedIsAnAuditEntryNamingThePatient() {
        Sessions.Session s = new Sessions.Session("sref-xyz", UUID.randomUUID(), "kansa.m", "監査 正子",
                Account.Type.STAFF, Set.of("auditor"), Sessions.Stage.AUTHENTICATED, "pwd+otp", AT, AT, AT, false,
                false, null, AT.plusSeconds(3600), 4);
        Map<String, String> params = new LinkedHashMap<>();
        params.put("from", "2026-11-01");
        params.put("to", "2026-11-23");
        params.put("patient", "p1");
        byte[] entry = EntryCodec.encode(12, null, AuditPages.view(s, "198.51.100.2", AuditAction.AUDIT_REPORT,
                "patient", params, List.of("p1")).at(AT).build().stored());
        assertEquals("{\"seq\":12,\"time\":\"2026-11-23T01:02:03.456789Z\",\"actor\":\"account:kansa.m\","
                + "\"kind\":\"person\",\"display\":\"監査 正子\",\"role\":[\"auditor\"],\"patient\":[\"p1\"],"
                + "\"action\":\"audit.report\",\"outcome\":\"success\",\"purpose\":\"audit\","
                + "\"address\":\"198.51.100.2\",\"session\":\"sref-xyz\",\"detail\":{\"from\":\"2026-11-01\","
                + "\"patient\":\"p1\",\"report\":\"patient\",\"to\":\"2026-11-23\"}}",
                new String(entry, StandardCharsets.UTF_8));
    }
}
