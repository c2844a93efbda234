package jp.mamori.compliance.web;

import jp.mamori.identity.Accounts;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;

import java.util.function.Predicate;

/**
 * The compliance console's one access rule (issue 20; GOV-28 … GOV-40, least privilege ACCESS-1), applied once per
 * route before any page code by every page of the capability (checklists, registers, documents, the pack, the
 * executives' overview, the SDS): account administrators read and write; whoever may read the audit console (the
 * auditor role given to an executive, an inspector or the vendor's reviewer) reads only; anyone else is refused with
 * a page that repeats nothing the request carried.
 */
final class ComplianceAccess {
    private final Console console;
    private final Predicate<Sessions.Session> reader;
    private final String titleKey;
    private final String messageKey;

    /**
     * @param reader     who may read besides account administrators (the audit console's rule)
     * @param titleKey   the refusal page's title (a message key)
     * @param messageKey the refusal's explanation (a message key)
     */
    ComplianceAccess(Console console, Predicate<Sessions.Session> reader, String titleKey, String messageKey) {
        this.console = console;
        this.reader = reader;
        this.titleKey = titleKey;
        this.messageKey = messageKey;
    }

    /** The rule and refusal of the checklists' pages. */
    ComplianceAccess(Console console, Predicate<Sessions.Session> reader) {
        this(console, reader, "compliance.notAllowed", "compliance.notAllowed.message");
    }

    /** Whether {@code s} may change anything in the compliance console: account administrators only. */
    static boolean mayWrite(Sessions.Session s) {
        return s.hasRole(Accounts.ADMIN_ROLE);
    }

    boolean mayRead(Sessions.Session s) {
        return mayWrite(s) || reader.test(s);
    }

    /** {@code page} for those who may read; the refusal for anyone else. */
    Console.Page read(Console.Page page) {
        return r -> mayRead(r.session()) ? page.serve(r) : refused(r);
    }

    /** {@code page} for those who may write; the refusal for anyone else (a reader included). */
    Console.Page write(Console.Page page) {
        return r -> mayWrite(r.session()) ? page.serve(r) : refused(r);
    }

    Reply refused(ConsoleRequest r) {
        return console.error(r, 403, titleKey, messageKey);
    }
}
