package jp.mamori.identity.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.chart.JpDates;
import jp.mamori.identity.Account;
import jp.mamori.identity.Accounts;
import jp.mamori.identity.Identity;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The codes of the account pages as words a person reads (STORE-1, 見読性): identity-proofing methods and
 * documents, roles, how a session signed in, who did something (the name, not {@code account:login-id}) and each
 * line of an account's change history as a sentence instead of its stored JSON. Times in JST
 * ({@code 2026年11月23日 14:05}). A code this version has no words for is shown as it is, never an error.
 */
final class AccountWords {
    static final JpDates DATES = JpDates.tokyo();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Identity id;
    private final ConsoleRequest r;
    private final Messages t;
    private final Map<String, String> names = new HashMap<>();

    AccountWords(Identity id, ConsoleRequest r) {
        this.id = id;
        this.r = r;
        this.t = r.messages();
    }

    /** A date and time in JST as the console shows them, or "—". */
    static String when(ConsoleRequest r, Instant at) {
        return at == null ? "—" : DATES.dateTime(at, lang(r));
    }

    /** A day in JST ({@code 2026年11月23日}), or "—". */
    static String day(ConsoleRequest r, Instant at) {
        return at == null ? "—" : DATES.date(at, lang(r));
    }

    private static JpDates.Lang lang(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.JA ? JpDates.Lang.JA : JpDates.Lang.EN;
    }

    String method(String code) {
        return t.code("identity.proof.method", code);
    }

    String document(String code) {
        return t.code("identity.proof.document", code);
    }

    /** Who verified a person's identity: a name as typed, or the bootstrap secret's holder. */
    String verifier(String by) {
        return "bootstrap-secret".equals(by) ? t.get("identity.actor.bootstrap") : by;
    }

    String role(String code) {
        return t.code("identity.role", code);
    }

    /** How a session signed in ({@code pwd+otp} → パスワード＋認証アプリ). */
    String amr(String amr) {
        return amr == null ? "" : t.code("identity.amr", amr.replace('+', '_'));
    }

    /**
     * Who did something, from the principal the ledger stores: {@code account:LOGIN} as the person's name with
     * the login id, the system's own jobs and the bootstrap secret in words.
     */
    String actor(String principal) {
        if (principal == null) {
            return "";
        }
        return names.computeIfAbsent(principal, p -> {
            if (p.startsWith("account:")) {
                String login = p.substring("account:".length());
                return id.accounts().findByLogin(login).map(a -> a.displayName() + "（" + a.loginId() + "）")
                        .orElse(login);
            }
            if (p.equals("bootstrap-secret")) {
                return t.get("identity.actor.bootstrap");
            }
            if (p.startsWith("system:")) {
                return t.code("identity.actor.system", p.substring("system:".length()).replace('-', '_'));
            }
            return p;
        });
    }

    /** One line of the change history as a sentence, from its action code and stored detail. */
    String sentence(Accounts.Change c) {
        JsonNode d;
        try {
            d = JSON.readTree(c.detail() == null ? "{}" : c.detail());
        } catch (IOException e) {
            d = JSON.createObjectNode();
        }
        String key = "identity.change." + c.action().replace('.', '_');
        if (t.code("identity.change", c.action().replace('.', '_')).equals(c.action().replace('.', '_'))) {
            return c.action() + (d.isEmpty() ? "" : " " + d);
        }
        return switch (c.action()) {
            case "account.created" -> t.get(key, type(s(d, "type")));
            case "identity.proofed" -> t.get(key, method(s(d, "method")), document(s(d, "document")),
                    verifier(s(d, "verifiedBy")));
            case "department.added" -> t.get(key, s(d, "department"));
            case "role.granted" -> t.get(key, role(s(d, "role")));
            case "qualification.added" -> t.get(key, qualification(s(d, "qualification")),
                    d.hasNonNull("licenceNumber") ? t.get("identity.change.licence", s(d, "licenceNumber")) : "");
            case "enrolment.code_issued" -> t.get(key, instant(s(d, "expiresAt")));
            case "account.reenrolment_started", "account.retired", "account.suspended", "password.marked_compromised"
                    -> t.get(key, s(d, "reason").isEmpty() ? "—" : s(d, "reason"));
            case "account.reactivated" -> t.get(key, s(d, "reason"));
            case "account.retirement_scheduled" -> t.get(key, instant(s(d, "at")), s(d, "reason"));
            case "session.ended" -> t.get(key, s(d, "reason").contains("owner") ? t.get("identity.change.byOwner")
                    : s(d, "reason").contains("administrator") ? t.get("identity.change.byAdministrator") : "");
            case "factor.recovery_codes_issued" -> t.get(key, d.path("count").asInt());
            case "account.activated" -> t.get(key, amr(s(d, "secondFactor")));
            case "emergency.use_reviewed" -> t.get(key, s(d, "note"));
            case "login.lock_released" -> t.get(key, s(d, "reason"), d.path("failures").asInt());
            default -> t.get(key);
        };
    }

    private String type(String code) {
        try {
            Account.Type type = Account.Type.of(code);
            return r.lang().t(type.ja, type.en);
        } catch (IllegalArgumentException e) {
            return code;
        }
    }

    private String qualification(String code) {
        Optional<Accounts.CatalogueEntry> q = catalogue().stream().filter(e -> e.code().equals(code)).findFirst();
        return q.map(e -> r.lang().t(e.nameJa(), e.nameEn())).orElse(code);
    }

    private List<Accounts.CatalogueEntry> catalogue;

    private List<Accounts.CatalogueEntry> catalogue() {
        if (catalogue == null) {
            catalogue = id.accounts().catalogue();
        }
        return catalogue;
    }

    private String instant(String iso) {
        try {
            return iso.isEmpty() ? "—" : when(r, Instant.parse(iso));
        } catch (DateTimeParseException e) {
            return iso;
        }
    }

    private static String s(JsonNode d, String field) {
        JsonNode v = d.get(field);
        return v == null || v.isNull() ? "" : v.asText();
    }
}
