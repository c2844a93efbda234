package jp.mamori.web.console;

import jp.mamori.audit.Actor;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.maintenance.Vendors;
import jp.mamori.testing.TestServer;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The vendor and its engineer the maintenance browser tests start from, written behind the pages' back. */
final class MaintenanceFixture {
    static final Actor ADMIN = Actor.person("account:test", "情報システム 佐藤", List.of("admin"), null, "127.0.0.1",
            null);

    private MaintenanceFixture() {
    }

    /** 株式会社みらい医療システム保守サービス, in contract from a month ago for a year, with these contacts and subcontractors. */
    static Vendors.Entry vendor(TestServer server, String contacts, String subcontractors) {
        LocalDate today = LocalDate.now(ZoneId.of("Asia/Tokyo"));
        return server.server().workOrders().vendors().saveVendor(ADMIN, null, Map.of("name",
                "株式会社みらい医療システム保守サービス", "contract_no", "保守-2026-0042", "contract_from",
                today.minusMonths(1).toString(), "contract_to", today.plusYears(1).toString(), "responsible",
                "保守部 部長 鈴木一郎", "contacts", contacts, "subcontractors", subcontractors));
    }

    /** A vendor engineer's account (suspended, as vendor accounts start), identity-proofed in person. */
    static Account engineer(TestServer server, String loginId, String family, String given, String familyKana,
                            String givenKana) {
        return server.server().identity().accounts().create(new Accounts.NewAccount(loginId, family, given, familyKana,
                givenKana, Account.Type.VENDOR, List.of(new Accounts.QualificationGrant("vendor_engineer", null)),
                List.of("情報システム"), Set.of(), new Accounts.Proofing("in_person", "drivers_licence", null,
                "情報システム 佐藤", Instant.now())), "test:admin");
    }
}
