package jp.mamori.identity.web;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Terminals exempt from the second factor. On a server of its own: the exception covers 127.0.0.1, where every
 * test browser comes from.
 */
class MfaExceptionTest {
    private static Hospital h;

    @BeforeAll
    static void open() {
        h = Hospital.open();
    }

    @AfterAll
    static void close() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void aTerminalWithACompensatingControlSkipsTheSecondFactorAndIsReportedAsADeviation() {
        Person p = h.enrolStaff("shochi.g", "救急外来");
        p.logOut(p.browser);
        String expires = LocalDate.now(Hospital.JST).plusDays(30).toString();

        h.admin.browser.get("/console/admin/mfa-exceptions");
        Browser.Page wide = h.adminSubmit("/console/admin/mfa-exceptions", "name", "救急外来 全体", "range", "10.1.0.0/16",
                "control", "救急外来の入口でICカードと静脈認証による入室管理を行う", "expires", expires);
        assertEquals(400, wide.status(), wide::toString);
        assertTrue(wide.error().contains("The range is too wide"), wide::toString);
        // A range written with host bits set (an address inside it, not its network address) is answered, not a 500.
        Browser.Page hostBits = h.adminSubmit("/console/admin/mfa-exceptions", "name", "検査室端末", "range", "10.9.8.7/28",
                "control", "検査室はICカードで入室管理されている", "expires", expires);
        assertEquals(400, hostBits.status(), hostBits::toString);
        assertTrue(hostBits.error().contains("10.9.8.0/28"), () -> "names the network address: " + hostBits.error());
        assertEquals(0L, (Long) h.one("SELECT count(*) FROM mfa_exception"));

        Browser.Page granted = h.adminSubmit("/console/admin/mfa-exceptions", "name", "救急外来 処置室端末",
                "range", "127.0.0.1/32", "control", "処置室はICカードと静脈認証で入室管理されている", "expires", expires);
        assertEquals("/console/admin/mfa-exceptions", granted.path(), granted::toString);
        assertTrue(granted.contains("127.0.0.1/32"));
        UUID exception = h.one("SELECT exception_id FROM mfa_exception WHERE revoked_at IS NULL");
        assertNotNull(exception);

        Browser.Page home = p.password(p.browser);
        assertEquals("/console/home", home.path(), () -> "the password alone is enough here: " + home);
        assertTrue(home.contains("exception to two-factor authentication"));
        Map<String, Object> session = h.rows("SELECT amr, mfa_exception_id, second_factor_at FROM web_session"
                + " WHERE account_id = ? AND ended_at IS NULL", p.accountId).get(0);
        assertEquals("pwd+exception", session.get("amr"));
        assertEquals(exception, session.get("mfa_exception_id"));
        assertEquals(null, session.get("second_factor_at"));

        List<String> deviations = h.server.server().identity().deviations();
        assertTrue(deviations.stream().anyMatch(d -> d.contains("127.0.0.1/32") && d.contains("救急外来 処置室端末")
                && d.contains("ICカードと静脈認証")), deviations::toString);

        // Revoked, the terminal asks for the second factor again and the deviation is gone.
        h.admin.browser.get("/console/admin/mfa-exceptions");
        h.adminSubmit("/console/admin/mfa-exceptions/revoke", "exception", exception.toString());
        assertTrue(h.server.server().identity().deviations().stream().noneMatch(d -> d.contains("127.0.0.1/32")));
        p.logOut(p.browser);
        assertEquals("/console/login/factor", p.password(p.browser).path());
    }
}
