package jp.mamori.identity;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.yubico.webauthn.RelyingParty;
import com.yubico.webauthn.data.AttestationConveyancePreference;
import com.yubico.webauthn.data.RelyingPartyIdentity;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Passkeys and security keys (WebAuthn) as a phishing-resistant factor, verified with Yubico's
 * java-webauthn-server. User verification (PIN or biometrics on the authenticator) is REQUIRED in both
 * ceremonies, so one passkey login is two factors: something held and something known or been.
 *
 * <p>Invariants:
 * <ul>
 *   <li>Each ceremony is a row in {@code webauthn_request}: its id is 256 random bits, it expires after
 *       {@link #REQUEST_TTL}, and it is consumed by the first finish call, whether that succeeds or not. A
 *       finished ceremony cannot be replayed.</li>
 *   <li>A credential is never deleted, only marked removed; a removed credential never logs in again and its id
 *       can never be registered again.</li>
 *   <li>A login started for an account finishes only with one of that account's credentials; a login started
 *       without one (discoverable, "usernameless") resolves the account from the authenticator's user handle.</li>
 *   <li>The signature counter only moves forward (unless the authenticator keeps none, i.e. both counters are
 *       0); a counter that does not is refused as a possible clone.</li>
 *   <li>User handles are 32 random bytes per account, never the account id or login id.</li>
 * </ul>
 *
 * <p>Callers MUST check the account's status (active, not suspended or retired) after {@link #finishLogin}:
 * this class proves possession of a credential, not that the account may log in. Callers MUST record
 * registration and removal in the account change history with the acting principal. Origins MUST be the exact
 * origins the console is served from (scheme, host and port); no other origin is accepted.
 *
 * <p>Every refusal is an {@link IdentityException} whose message the person may see; details go to the log.
 *
 * <p>The entry point of the use cases, each in a class of its own: {@link PasskeyRegistration} (adding a
 * credential), {@link PasskeyAuthentication} (logging in with one) and {@link PasskeyStore} (the tables, the
 * account holder's list of credentials, and the credential store java-webauthn-server reads).
 */
public final class Passkeys {
    /** How long a started ceremony may be finished, and the timeout the browser is given. */
    public static final Duration REQUEST_TTL = Duration.ofMinutes(5);
    /** A browser response larger than this is refused unread. */
    static final int MAX_RESPONSE_CHARS = 64 * 1024;
    static final int MAX_NICKNAME = 100;

    static final String MSG_EXPIRED = "この操作は期限切れか、すでに使われています。最初からやり直してください"
            + " / This request has expired or was already used. Please start again.";
    static final String MSG_UNREADABLE = "ブラウザからの応答を読み取れませんでした。もう一度お試しください"
            + " / The browser's response could not be read. Please try again.";
    static final String MSG_NO_UV = "認証器での本人確認（PIN または生体認証）が行われませんでした。PIN か生体認証を設定した認証器を使ってください"
            + " / The authenticator did not verify you (PIN or biometrics). Use an authenticator with a PIN or"
            + " biometrics set up.";
    static final String MSG_REGISTRATION_FAILED = "パスキーを登録できませんでした。もう一度お試しください"
            + " / The passkey could not be registered. Please try again.";
    static final String MSG_ALREADY_REGISTERED = "この認証器はすでに登録されています。別の認証器を使ってください"
            + " / This authenticator is already registered. Use another one.";
    static final String MSG_LOGIN_FAILED = "パスキーでログインできませんでした。もう一度お試しください"
            + " / Passkey login failed. Please try again.";
    static final String MSG_NOT_USABLE = "このパスキーはこのアカウントでは使えません（未登録または削除済み）。"
            + "別のパスキーか別の方法でログインしてください / This passkey cannot be used for this account (not"
            + " registered, or removed). Use another passkey or another way to log in.";
    static final String MSG_CLONED = "この認証器の使用回数が前回より進んでいないため、複製された可能性があります。"
            + "ログインを拒否しました。システム管理者に連絡してください / This authenticator's signature counter"
            + " did not move forward, so it may have been cloned. Login refused; contact your system administrator.";
    static final String MSG_NO_ACCOUNT = "アカウントが見つかりません / The account was not found.";
    static final String MSG_NICKNAME = "パスキーの名前は " + MAX_NICKNAME + " 文字以内で、制御文字を含めないでください"
            + " / The passkey name must be at most " + MAX_NICKNAME + " characters, without control characters.";

    private static final JsonFactory JSON = new JsonFactory();

    /** A started ceremony: the id to send back with the answer, and the options for the browser. */
    public record Challenge(String requestId, String publicKeyJson) {
    }

    /** A registered, not removed credential as the account holder sees it. */
    public record PasskeyInfo(String credentialId, String nickname, Instant createdAt, Instant lastUsedAt,
                              boolean backedUp) {
    }

    private final PasskeyStore store;
    private final PasskeyRegistration registration;
    private final PasskeyAuthentication authentication;

    /**
     * @param rpId    the relying party id: the console's host name (e.g. {@code mamori.example.jp}), or
     *                {@code localhost} in tests; every origin's host MUST be it or end with "." + it
     * @param origins the exact origins the console is served from, e.g. {@code https://mamori.example.jp:8443}
     * @param rpName  the name authenticators show, e.g. the hospital's
     */
    public Passkeys(DataSource ds, String rpId, Set<String> origins, String rpName) {
        this.store = new PasskeyStore(ds);
        if (rpId == null || rpId.isBlank() || rpName == null || rpName.isBlank()) {
            throw new IllegalArgumentException("rpId and rpName are required");
        }
        if (origins == null || origins.isEmpty()) {
            throw new IllegalArgumentException("at least one origin is required");
        }
        for (String o : origins) {
            checkOrigin(o, rpId);
        }
        RelyingParty rp = RelyingParty.builder()
                .identity(RelyingPartyIdentity.builder().id(rpId).name(rpName).build())
                .credentialRepository(store)
                .origins(Set.copyOf(origins))
                .allowOriginPort(false)
                .allowOriginSubdomain(false)
                .attestationConveyancePreference(AttestationConveyancePreference.NONE)
                // No attestation is asked for, so there is none to trust: any authenticator model is accepted.
                .allowUntrustedAttestation(true)
                // Checked here instead, so that a possible clone is refused with its own message.
                .validateSignatureCounter(false)
                .build();
        this.registration = new PasskeyRegistration(store, rp);
        this.authentication = new PasskeyAuthentication(store, rp);
    }

    private static void checkOrigin(String origin, String rpId) {
        URI u;
        try {
            u = URI.create(origin);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not an origin: " + origin);
        }
        String host = u.getHost();
        boolean shape = ("https".equals(u.getScheme()) || "http".equals(u.getScheme())) && host != null
                && (u.getPath() == null || u.getPath().isEmpty()) && u.getQuery() == null && u.getFragment() == null
                && u.getUserInfo() == null && !origin.endsWith("/");
        if (!shape || !(host.equals(rpId) || host.endsWith("." + rpId))) {
            throw new IllegalArgumentException("origin " + origin + " is not scheme://host[:port] under " + rpId);
        }
        if ("http".equals(u.getScheme()) && !"localhost".equals(host)) {
            throw new IllegalArgumentException("origin " + origin + " must use https (http only for localhost)");
        }
    }

    // ---------------------------------------------------------------- registration

    /**
     * Starts adding a passkey or security key to an account. The authenticator is asked for a discoverable
     * credential (preferred, not required: security keys without room still work as a second factor) and MUST
     * verify the user. The account's credentials are excluded, so one authenticator is not registered twice.
     *
     * @param loginId     shown by the authenticator as the account name; MUST be the account's login id
     * @param displayName shown by the authenticator, e.g. the person's name
     */
    public Challenge startRegistration(UUID accountId, String loginId, String displayName) {
        return registration.start(accountId, loginId, displayName);
    }

    /**
     * Finishes a registration started by {@link #startRegistration} for the same account, and stores the new
     * credential. The request is consumed whatever the outcome.
     *
     * @param responseJson {@code JSON.stringify(credential)} from the browser ({@code PublicKeyCredential.toJSON()})
     * @param nickname     the name the person gives the key (e.g. "職員証の鍵"), or null
     */
    public void finishRegistration(UUID accountId, String requestId, String responseJson, String nickname) {
        registration.finish(accountId, requestId, responseJson, nickname);
    }

    // ---------------------------------------------------------------- login

    /**
     * Starts a login. With an account, only that account's credentials are allowed; without one, the browser
     * offers the discoverable credentials (passkeys) it has for this relying party. An account without
     * credentials still gets a challenge (it fails at finish), so the answer tells nothing about the account.
     */
    public Challenge startLogin(Optional<UUID> accountId) {
        return authentication.start(accountId);
    }

    /**
     * Finishes a login started by {@link #startLogin} and returns the account whose credential answered. The
     * request is consumed whatever the outcome; on success the credential's counter and last use are updated.
     *
     * @throws IdentityException on any failure: expired or used request, unreadable response, wrong origin or
     *                           challenge, bad signature, no user verification, unknown or removed credential,
     *                           a credential of another account, or a counter that did not move forward
     */
    public UUID finishLogin(String requestId, String responseJson) {
        return authentication.finish(requestId, responseJson);
    }

    // ---------------------------------------------------------------- management

    /** The account's credentials that are not removed, oldest first. */
    public List<PasskeyInfo> list(UUID accountId) {
        return store.list(accountId);
    }

    /**
     * Marks one of the account's credentials removed (it is kept, never deleted). Returns false if the account
     * has no such credential, or it was already removed.
     *
     * @param credentialId as in {@link PasskeyInfo#credentialId()} (base64url)
     * @param by           the principal removing it; MUST NOT be blank
     */
    public boolean remove(UUID accountId, String credentialId, String by) {
        return store.remove(accountId, credentialId, by);
    }

    /** Whether the account has at least one credential that is not removed. */
    public boolean hasAny(UUID accountId) {
        return store.hasAny(accountId);
    }

    // ---------------------------------------------------------------- shared by the ceremonies

    static String shortId(String requestId) {
        return requestId == null ? "null" : requestId.substring(0, Math.min(8, requestId.length())) + "…";
    }

    static String bounded(String responseJson) {
        if (responseJson == null || responseJson.isBlank() || responseJson.length() > MAX_RESPONSE_CHARS) {
            throw new IllegalArgumentException("response missing or too large");
        }
        return responseJson;
    }

    /** The value of "publicKey" in Yubico's {"publicKey": {...}}: what the browser's JSON parsers take. */
    static String inner(String wrapped) {
        try (JsonParser p = JSON.createParser(wrapped)) {
            if (p.nextToken() == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    p.nextToken();
                    if ("publicKey".equals(field)) {
                        StringWriter w = new StringWriter();
                        try (JsonGenerator g = JSON.createGenerator(w)) {
                            g.copyCurrentStructure(p);
                        }
                        return w.toString();
                    }
                    p.skipChildren();
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("WebAuthn options JSON could not be read", e);
        }
        throw new IllegalStateException("WebAuthn options JSON has no publicKey member");
    }

    /** The ceremonies' and counters' store, for degraded mode's memory (issue 18 §2). */
    PasskeyStore store() {
        return store;
    }
}
