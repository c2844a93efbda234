package jp.mamori.identity;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * One person's account as the ledger (台帳) shows it. Mamori has no shared or generic accounts: an account
 * always stands for one identified person (ACCT-6).
 */
public record Account(UUID id, String loginId, String familyName, String givenName, String familyKana,
                      String givenKana, Type type, Status status, String statusReason, Instant statusChangedAt,
                      Instant retireAt, Instant createdAt, String createdBy, Instant lastLoginAt,
                      boolean mustChangePassword, Set<String> roles, List<Qualification> qualifications,
                      List<String> departments) {

    public enum Type {
        STAFF("staff", "職員", "Staff"),
        VENDOR("vendor", "保守業者", "Vendor maintenance"),
        EMERGENCY("emergency", "非常時用", "Emergency"),
        /** A clinician of another institution (地域医療連携, AUTH-11): no role; reaches only patients shared with it. */
        PARTNER("partner", "連携先医療者", "Partner clinician");

        public final String code;
        public final String ja;
        public final String en;

        Type(String code, String ja, String en) {
            this.code = code;
            this.ja = ja;
            this.en = en;
        }

        public static Type of(String code) {
            for (Type t : values()) {
                if (t.code.equals(code)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("unknown account type " + code);
        }
    }

    /** created → enrolment pending → active → suspended ⇄ active → retired (final). */
    public enum Status {
        CREATED("created", "作成済", "Created"),
        ENROLMENT_PENDING("enrolment_pending", "登録待ち", "Enrolment pending"),
        ACTIVE("active", "有効", "Active"),
        SUSPENDED("suspended", "停止中", "Suspended"),
        RETIRED("retired", "退職・廃止", "Retired");

        public final String code;
        public final String ja;
        public final String en;

        Status(String code, String ja, String en) {
            this.code = code;
            this.ja = ja;
            this.en = en;
        }

        public static Status of(String code) {
            for (Status s : values()) {
                if (s.code.equals(code)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown account status " + code);
        }
    }

    public record Qualification(String code, String nameJa, String nameEn, String licenceNumber) {
    }

    public String displayName() {
        return familyName + " " + givenName;
    }

    public String principal() {
        return "account:" + loginId;
    }

    public boolean hasRole(String role) {
        return roles.contains(role);
    }
}
