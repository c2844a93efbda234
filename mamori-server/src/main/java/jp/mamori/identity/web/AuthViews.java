package jp.mamori.identity.web;

import jp.mamori.web.console.Console;

import gg.jte.Content;

import java.util.List;

/**
 * The view models of the pages for becoming and being logged in ({@link AuthPages}; templates under
 * {@code identity/}). Public because the compiled templates live in their own package; they hold what a page
 * shows, already chosen, and nothing that could reach the database. {@code error} is why the last form was
 * refused, or "" (no message).
 */
public final class AuthViews {
    private AuthViews() {
    }

    /**
     * A form that runs a WebAuthn ceremony in the browser (passkeys.js) and posts its result
     * (template {@code identity/passkey.jte}).
     *
     * @param kind      {@code login} or {@code register} (which also asks for a name)
     * @param options   the ceremony's options, JSON, as the browser script reads them
     * @param requestId the server's id of the ceremony
     * @param next      where to go after it (the step-up page), or null
     * @param resume    the ticket of the held form that continues after it (the step-up page), or null
     */
    public record Passkey(String action, String kind, String options, String requestId, String next, String resume,
                          String csrf) {
        public boolean register() {
            return kind.equals("register");
        }
    }

    /**
     * The forms that re-authenticate a session (lock screen, step-up): a passkey, or (password and) a code.
     *
     * @param passwordOnly whether the session signed in without a second factor (an exception terminal): the
     *                     password alone
     * @param passkey      the passkey form, or null when the person has none (or signs in with a password only)
     * @param password     whether the code form also asks for the password (the lock screen)
     * @param totp         whether the person has an authenticator app: its code is asked for only then (otherwise
     *                     the recovery code is open)
     * @param next         where to go after it (the step-up page), or null
     * @param resume       the ticket of the held form that continues after it (the step-up page), or null
     */
    public record Reauth(String action, boolean passwordOnly, Passkey passkey, boolean password, boolean totp,
                         String next, String resume, String csrf) {
    }

    /**
     * The home page.
     *
     * @param emergency  whether the person signed in with an emergency account
     * @param exception  whether this terminal is an exception to two-factor authentication
     * @param patients   whether the clinician pages are linked
     * @param admin      whether the administrator's tiles and the deviations are shown
     * @param deviations the deviations from the secure defaults (administrators only)
     * @param pendingEmergencyUses the emergency account uses awaiting review (administrators only)
     */
    /**
     * The home page: what waits for the person (badges from every capability), the capabilities' parts (the
     * clinician's worklist) and the links.
     */
    public record Home(String displayName, boolean emergency, boolean exception, boolean patients, boolean admin,
                       List<String> deviations, int pendingEmergencyUses, List<Console.Waiting> waiting,
                       List<gg.jte.Content> parts) {
    }

    /**
     * The first setup page (the form filled again after a refusal).
     *
     * @param open whether setup is still open (otherwise the page says it is done)
     */
    public record Setup(String error, boolean open, String loginId, String familyName, String givenName,
                        String familyKana, String givenKana, String csrf) {
    }

    /** The login page: password form, or a passkey. */
    /** @param parts what other capabilities place on the login page (sign-in through the identity provider) */
    public record Login(String error, String loginId, Passkey passkey, String csrf, List<gg.jte.Content> parts) {
    }

    /**
     * The second factor after the password.
     *
     * @param passkey the passkey form, or null when the person has no passkey
     * @param hasTotp whether the person has an authenticator app (otherwise the recovery code is open)
     */
    public record Factor(String error, Passkey passkey, boolean hasTotp, String csrf) {
    }

    /** Enrolment with the code an administrator gave. */
    public record Enrol(String error, String code, String csrf) {
    }

    /**
     * Registering the first second factor.
     *
     * @param qr         the QR code of the authenticator app's secret, an SVG image drawn by the server
     * @param totpSecret the same secret as text, for when the code cannot be scanned
     * @param totpError  why the app's code was refused, shown beside its field (the same secret stays), or ""
     */
    public record EnrolFactor(String error, Passkey passkey, Content qr, String totpSecret, String totpError,
                              String csrf) {
    }

    /** The recovery codes, shown once. */
    public record RecoveryCodes(List<String> codes) {
    }

    /**
     * The lock screen: whose session it is, by name only (a passer-by learns no login id), and the forms for the
     * factors the person has.
     */
    public record Lock(String error, String displayName, Reauth reauth, String csrf) {
    }

    /**
     * Confirming it is you again before a step-up route.
     *
     * @param keeps whether a form that was sent is held and continues after the confirmation
     * @param back  the page to go back to without confirming
     */
    public record StepUp(String error, Reauth reauth, boolean keeps, String back) {
    }
}
