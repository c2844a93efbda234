package jp.mamori.identity;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.yubico.webauthn.AssertionRequest;
import com.yubico.webauthn.AssertionResult;
import com.yubico.webauthn.CredentialRepository;
import com.yubico.webauthn.FinishAssertionOptions;
import com.yubico.webauthn.FinishRegistrationOptions;
import com.yubico.webauthn.RegisteredCredential;
import com.yubico.webauthn.RegistrationResult;
import com.yubico.webauthn.RelyingParty;
import com.yubico.webauthn.StartAssertionOptions;
import com.yubico.webauthn.StartRegistrationOptions;
import com.yubico.webauthn.data.AttestationConveyancePreference;
import com.yubico.webauthn.data.AuthenticatorAssertionResponse;
import com.yubico.webauthn.data.AuthenticatorAttestationResponse;
import com.yubico.webauthn.data.AuthenticatorSelectionCriteria;
import com.yubico.webauthn.data.AuthenticatorTransport;
import com.yubico.webauthn.data.ByteArray;
import com.yubico.webauthn.data.ClientAssertionExtensionOutputs;
import com.yubico.webauthn.data.ClientRegistrationExtensionOutputs;
import com.yubico.webauthn.data.PublicKeyCredential;
import com.yubico.webauthn.data.PublicKeyCredentialCreationOptions;
import com.yubico.webauthn.data.PublicKeyCredentialDescriptor;
import com.yubico.webauthn.data.RelyingPartyIdentity;
import com.yubico.webauthn.data.ResidentKeyRequirement;
import com.yubico.webauthn.data.UserIdentity;
import com.yubico.webauthn.data.UserVerificationRequirement;
import com.yubico.webauthn.data.exception.Base64UrlException;
import com.yubico.webauthn.exception.AssertionFailedException;
import com.yubico.webauthn.exception.RegistrationFailedException;
import jp.mamori.db.DataAccessException;
import jp.mamori.db.Secrets;
import jp.mamori.db.Tx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;

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
 */
public final class Passkeys {
    private static final Logger log = LoggerFactory.getLogger(Passkeys.class);

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

    private static final String REGISTRATION = "registration";
    private static final String ASSERTION = "assertion";
    private static final JsonFactory JSON = new JsonFactory();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A started ceremony: the id to send back with the answer, and the options for the browser. */
    public record Challenge(String requestId, String publicKeyJson) {
    }

    /** A registered, not removed credential as the account holder sees it. */
    public record PasskeyInfo(String credentialId, String nickname, Instant createdAt, Instant lastUsedAt,
                              boolean backedUp) {
    }

    private record Pending(UUID accountId, String json) {
    }

    private record Stored(UUID accountId, ByteArray userHandle, long signatureCount, boolean removed) {
    }

    private final DataSource ds;
    private final RelyingParty rp;

    /**
     * @param rpId    the relying party id: the console's host name (e.g. {@code mamori.example.jp}), or
     *                {@code localhost} in tests; every origin's host MUST be it or end with "." + it
     * @param origins the exact origins the console is served from, e.g. {@code https://mamori.example.jp:8443}
     * @param rpName  the name authenticators show, e.g. the hospital's
     */
    public Passkeys(DataSource ds, String rpId, Set<String> origins, String rpName) {
        this.ds = Objects.requireNonNull(ds, "ds");
        if (rpId == null || rpId.isBlank() || rpName == null || rpName.isBlank()) {
            throw new IllegalArgumentException("rpId and rpName are required");
        }
        if (origins == null || origins.isEmpty()) {
            throw new IllegalArgumentException("at least one origin is required");
        }
        for (String o : origins) {
            checkOrigin(o, rpId);
        }
        this.rp = RelyingParty.builder()
                .identity(RelyingPartyIdentity.builder().id(rpId).name(rpName).build())
                .credentialRepository(new Repository())
                .origins(Set.copyOf(origins))
                .allowOriginPort(false)
                .allowOriginSubdomain(false)
                .attestationConveyancePreference(AttestationConveyancePreference.NONE)
                // No attestation is asked for, so there is none to trust: any authenticator model is accepted.
                .allowUntrustedAttestation(true)
                // Checked here instead, so that a possible clone is refused with its own message.
                .validateSignatureCounter(false)
                .build();
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
        Objects.requireNonNull(accountId, "accountId");
        if (loginId == null || loginId.isBlank() || displayName == null || displayName.isBlank()) {
            throw new IllegalArgumentException("loginId and displayName are required");
        }
        ByteArray handle = userHandleFor(accountId);
        UserIdentity user = UserIdentity.builder().name(loginId).displayName(displayName).id(handle).build();
        PublicKeyCredentialCreationOptions options = rp.startRegistration(StartRegistrationOptions.builder()
                .user(user)
                .authenticatorSelection(AuthenticatorSelectionCriteria.builder()
                        .residentKey(ResidentKeyRequirement.PREFERRED)
                        .userVerification(UserVerificationRequirement.REQUIRED)
                        .build())
                .timeout(REQUEST_TTL.toMillis())
                .build());
        // By account, not by the login id the library looked up: the two agree unless the caller erred.
        options = options.toBuilder().excludeCredentials(activeDescriptors(accountId)).build();
        try {
            String requestId = save(accountId, REGISTRATION, options.toJson());
            return new Challenge(requestId, inner(options.toCredentialsCreateJson()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("WebAuthn options could not be written as JSON", e);
        }
    }

    /**
     * Finishes a registration started by {@link #startRegistration} for the same account, and stores the new
     * credential. The request is consumed whatever the outcome.
     *
     * @param responseJson {@code JSON.stringify(credential)} from the browser ({@code PublicKeyCredential.toJSON()})
     * @param nickname     the name the person gives the key (e.g. "職員証の鍵"), or null
     */
    public void finishRegistration(UUID accountId, String requestId, String responseJson, String nickname) {
        Objects.requireNonNull(accountId, "accountId");
        String name = nickname(nickname);
        Pending pending = take(requestId, REGISTRATION);
        if (!accountId.equals(pending.accountId())) {
            log.warn("passkey registration refused: request {} was started for another account", shortId(requestId));
            throw new IdentityException(MSG_EXPIRED);
        }
        PublicKeyCredentialCreationOptions options;
        try {
            options = PublicKeyCredentialCreationOptions.fromJson(pending.json());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored WebAuthn request could not be read", e);
        }
        PublicKeyCredential<AuthenticatorAttestationResponse, ClientRegistrationExtensionOutputs> pkc;
        try {
            pkc = PublicKeyCredential.parseRegistrationResponseJson(bounded(responseJson));
        } catch (IOException | RuntimeException e) {
            log.info("passkey registration refused: unreadable response: {}", e.toString());
            throw new IdentityException(MSG_UNREADABLE);
        }
        if (!pkc.getResponse().getParsedAuthenticatorData().getFlags().UV) {
            log.info("passkey registration refused: user not verified by the authenticator");
            throw new IdentityException(MSG_NO_UV);
        }
        if (find(pkc.getId()).isPresent()) {
            throw new IdentityException(MSG_ALREADY_REGISTERED);
        }
        RegistrationResult result;
        try {
            result = rp.finishRegistration(FinishRegistrationOptions.builder().request(options).response(pkc).build());
        } catch (RegistrationFailedException | RuntimeException e) {
            log.info("passkey registration refused: {}", e.getMessage());
            throw new IdentityException(MSG_REGISTRATION_FAILED);
        }
        if (!result.isUserVerified()) {
            throw new IdentityException(MSG_NO_UV);
        }
        ByteArray userHandle = options.getUser().getId();
        String transports = result.getKeyId().getTransports()
                .map(ts -> ts.stream().map(AuthenticatorTransport::getId).collect(Collectors.joining(",")))
                .filter(s -> !s.isEmpty()).orElse(null);
        try {
            Tx.inTransaction(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO webauthn_credential (credential_id,"
                        + " account_id, user_handle, public_key_cose, signature_count, aaguid, transports, nickname,"
                        + " backup_eligible, backed_up, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now())")) {
                    ps.setBytes(1, result.getKeyId().getId().getBytes());
                    ps.setObject(2, accountId);
                    ps.setBytes(3, userHandle.getBytes());
                    ps.setBytes(4, result.getPublicKeyCose().getBytes());
                    ps.setLong(5, result.getSignatureCount());
                    ps.setBytes(6, result.getAaguid().getBytes());
                    ps.setString(7, transports);
                    ps.setString(8, name);
                    ps.setBoolean(9, result.isBackupEligible());
                    ps.setBoolean(10, result.isBackedUp());
                    ps.executeUpdate();
                }
                return null;
            });
        } catch (DataAccessException e) {
            if ("23505".equals(e.sqlState())) {
                throw new IdentityException(MSG_ALREADY_REGISTERED); // registered concurrently
            }
            throw e;
        }
        log.info("passkey registered for account {}", accountId);
    }

    // ---------------------------------------------------------------- login

    /**
     * Starts a login. With an account, only that account's credentials are allowed; without one, the browser
     * offers the discoverable credentials (passkeys) it has for this relying party. An account without
     * credentials still gets a challenge (it fails at finish), so the answer tells nothing about the account.
     */
    public Challenge startLogin(Optional<UUID> accountId) {
        Objects.requireNonNull(accountId, "accountId");
        StartAssertionOptions.StartAssertionOptionsBuilder b = StartAssertionOptions.builder()
                .userVerification(UserVerificationRequirement.REQUIRED)
                .timeout(REQUEST_TTL.toMillis());
        if (accountId.isPresent()) {
            Optional<ByteArray> handle = existingUserHandle(accountId.get());
            // An account that never registered a key gets a random handle: no allowed credential, no leak.
            b.userHandle(handle.orElseGet(Passkeys::randomHandle));
        }
        AssertionRequest request = rp.startAssertion(b.build());
        try {
            String requestId = save(accountId.orElse(null), ASSERTION, request.toJson());
            return new Challenge(requestId, inner(request.toCredentialsGetJson()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("WebAuthn options could not be written as JSON", e);
        }
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
        Pending pending = take(requestId, ASSERTION);
        AssertionRequest request;
        try {
            request = AssertionRequest.fromJson(pending.json());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored WebAuthn request could not be read", e);
        }
        PublicKeyCredential<AuthenticatorAssertionResponse, ClientAssertionExtensionOutputs> pkc;
        try {
            pkc = PublicKeyCredential.parseAssertionResponseJson(bounded(responseJson));
        } catch (IOException | RuntimeException e) {
            log.info("passkey login refused: unreadable response: {}", e.toString());
            throw new IdentityException(MSG_UNREADABLE);
        }
        Optional<Stored> stored = find(pkc.getId());
        if (stored.isEmpty() || stored.get().removed()) {
            log.info("passkey login refused: credential {}", stored.isEmpty() ? "unknown" : "removed");
            throw new IdentityException(MSG_NOT_USABLE);
        }
        UUID owner = stored.get().accountId();
        if (pending.accountId() != null && !pending.accountId().equals(owner)) {
            log.warn("passkey login refused: a credential of account {} answered a login started for account {}",
                    owner, pending.accountId());
            throw new IdentityException(MSG_NOT_USABLE);
        }
        if (!pkc.getResponse().getParsedAuthenticatorData().getFlags().UV) {
            log.info("passkey login refused for account {}: user not verified by the authenticator", owner);
            throw new IdentityException(MSG_NO_UV);
        }
        AssertionResult result;
        try {
            result = rp.finishAssertion(FinishAssertionOptions.builder().request(request).response(pkc).build());
        } catch (AssertionFailedException | RuntimeException e) {
            log.info("passkey login refused for account {}: {}", owner, e.getMessage());
            throw new IdentityException(MSG_LOGIN_FAILED);
        }
        if (!result.isSuccess() || !result.isUserVerified()
                || !result.getCredential().getUserHandle().equals(stored.get().userHandle())) {
            throw new IdentityException(MSG_LOGIN_FAILED);
        }
        if (!result.isSignatureCounterValid()) {
            log.warn("passkey login refused for account {}: signature counter {} after {}: possible cloned"
                    + " authenticator", owner, result.getSignatureCount(), stored.get().signatureCount());
            throw new IdentityException(MSG_CLONED);
        }
        long count = result.getSignatureCount();
        // Compare-and-set: of two logins racing with the same counter value, only one wins.
        boolean updated = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE webauthn_credential SET signature_count = ?,"
                    + " last_used_at = now(), backed_up = ? WHERE credential_id = ? AND account_id = ?"
                    + " AND removed_at IS NULL AND (signature_count < ? OR (signature_count = 0 AND ? = 0))")) {
                ps.setLong(1, count);
                ps.setBoolean(2, result.isBackedUp());
                ps.setBytes(3, pkc.getId().getBytes());
                ps.setObject(4, owner);
                ps.setLong(5, count);
                ps.setLong(6, count);
                return ps.executeUpdate() == 1;
            }
        });
        if (!updated) {
            Optional<Stored> now = find(pkc.getId());
            if (now.isEmpty() || now.get().removed()) {
                throw new IdentityException(MSG_NOT_USABLE);
            }
            log.warn("passkey login refused for account {}: signature counter {} after {}: possible cloned"
                    + " authenticator", owner, count, now.get().signatureCount());
            throw new IdentityException(MSG_CLONED);
        }
        return owner;
    }

    // ---------------------------------------------------------------- management

    /** The account's credentials that are not removed, oldest first. */
    public List<PasskeyInfo> list(UUID accountId) {
        Objects.requireNonNull(accountId, "accountId");
        return Tx.read(ds, c -> {
            List<PasskeyInfo> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT credential_id, nickname, created_at, last_used_at,"
                    + " coalesce(backed_up, false) FROM webauthn_credential WHERE account_id = ? AND removed_at IS NULL"
                    + " ORDER BY created_at, credential_id")) {
                ps.setObject(1, accountId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        OffsetDateTime used = rs.getObject(4, OffsetDateTime.class);
                        out.add(new PasskeyInfo(new ByteArray(rs.getBytes(1)).getBase64Url(), rs.getString(2),
                                rs.getObject(3, OffsetDateTime.class).toInstant(),
                                used == null ? null : used.toInstant(), rs.getBoolean(5)));
                    }
                }
            }
            return out;
        });
    }

    /**
     * Marks one of the account's credentials removed (it is kept, never deleted). Returns false if the account
     * has no such credential, or it was already removed.
     *
     * @param credentialId as in {@link PasskeyInfo#credentialId()} (base64url)
     * @param by           the principal removing it; MUST NOT be blank
     */
    public boolean remove(UUID accountId, String credentialId, String by) {
        Objects.requireNonNull(accountId, "accountId");
        if (by == null || by.isBlank()) {
            throw new IllegalArgumentException("by is required");
        }
        ByteArray id;
        try {
            id = credentialId == null || credentialId.length() > 2000 ? null : ByteArray.fromBase64Url(credentialId);
        } catch (Base64UrlException | IllegalArgumentException e) {
            id = null;
        }
        if (id == null || id.isEmpty()) {
            return false;
        }
        byte[] bytes = id.getBytes();
        boolean done = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE webauthn_credential SET removed_at = now(),"
                    + " removed_by = ? WHERE credential_id = ? AND account_id = ? AND removed_at IS NULL")) {
                ps.setString(1, by);
                ps.setBytes(2, bytes);
                ps.setObject(3, accountId);
                return ps.executeUpdate() == 1;
            }
        });
        if (done) {
            log.info("passkey removed from account {} by {}", accountId, by);
        }
        return done;
    }

    /** Whether the account has at least one credential that is not removed. */
    public boolean hasAny(UUID accountId) {
        Objects.requireNonNull(accountId, "accountId");
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM webauthn_credential"
                    + " WHERE account_id = ? AND removed_at IS NULL)")) {
                ps.setObject(1, accountId);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            }
        });
    }

    // ---------------------------------------------------------------- storage

    private static ByteArray randomHandle() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return new ByteArray(b);
    }

    /** The account's user handle, made on first use. */
    private ByteArray userHandleFor(UUID accountId) {
        byte[] fresh = randomHandle().getBytes();
        return Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM account WHERE account_id = ?")) {
                ps.setObject(1, accountId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IdentityException(MSG_NO_ACCOUNT);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO webauthn_user_handle (account_id, user_handle)"
                    + " VALUES (?, ?) ON CONFLICT (account_id) DO NOTHING")) {
                ps.setObject(1, accountId);
                ps.setBytes(2, fresh);
                ps.executeUpdate();
            }
            return handleOf(c, accountId).orElseThrow();
        });
    }

    private Optional<ByteArray> existingUserHandle(UUID accountId) {
        return Tx.read(ds, c -> handleOf(c, accountId));
    }

    private static Optional<ByteArray> handleOf(Connection c, UUID accountId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT user_handle FROM webauthn_user_handle"
                + " WHERE account_id = ?")) {
            ps.setObject(1, accountId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new ByteArray(rs.getBytes(1))) : Optional.empty();
            }
        }
    }

    private Set<PublicKeyCredentialDescriptor> activeDescriptors(UUID accountId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT credential_id, transports FROM webauthn_credential"
                    + " WHERE account_id = ? AND removed_at IS NULL")) {
                ps.setObject(1, accountId);
                return descriptors(ps);
            }
        });
    }

    private static Set<PublicKeyCredentialDescriptor> descriptors(PreparedStatement ps) throws SQLException {
        Set<PublicKeyCredentialDescriptor> out = new LinkedHashSet<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                PublicKeyCredentialDescriptor.PublicKeyCredentialDescriptorBuilder d =
                        PublicKeyCredentialDescriptor.builder().id(new ByteArray(rs.getBytes(1)));
                String transports = rs.getString(2);
                if (transports != null && !transports.isEmpty()) {
                    SortedSet<AuthenticatorTransport> ts = new TreeSet<>();
                    Arrays.stream(transports.split(",")).map(AuthenticatorTransport::of).forEach(ts::add);
                    d.transports(ts);
                }
                out.add(d.build());
            }
        }
        return out;
    }

    private Optional<Stored> find(ByteArray credentialId) {
        return Tx.read(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT account_id, user_handle, signature_count,"
                    + " removed_at IS NOT NULL FROM webauthn_credential WHERE credential_id = ?")) {
                ps.setBytes(1, credentialId.getBytes());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Stored(rs.getObject(1, UUID.class),
                            new ByteArray(rs.getBytes(2)), rs.getLong(3), rs.getBoolean(4))) : Optional.empty();
                }
            }
        });
    }

    /** Stores a started ceremony and returns its id; purges ceremonies that expired over an hour ago. */
    private String save(UUID accountId, String kind, String requestJson) {
        String requestId = Secrets.random256();
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM webauthn_request"
                    + " WHERE expires_at < now() - interval '1 hour'")) {
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO webauthn_request (request_id, account_id,"
                    + " kind, request_json, created_at, expires_at) VALUES (?, ?, ?, ?, now(), now() + ?::interval)")) {
                ps.setString(1, requestId);
                ps.setObject(2, accountId);
                ps.setString(3, kind);
                ps.setString(4, requestJson);
                ps.setString(5, REQUEST_TTL.toSeconds() + " seconds");
                ps.executeUpdate();
            }
            return null;
        });
        return requestId;
    }

    /** Consumes a pending, unexpired ceremony of the given kind, or refuses. The consumption commits at once. */
    private Pending take(String requestId, String kind) {
        if (requestId == null || requestId.isEmpty() || requestId.length() > 100) {
            throw new IdentityException(MSG_EXPIRED);
        }
        Optional<Pending> p = Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE webauthn_request SET used_at = now()"
                    + " WHERE request_id = ? AND kind = ? AND used_at IS NULL AND expires_at > now()"
                    + " RETURNING account_id, request_json")) {
                ps.setString(1, requestId);
                ps.setString(2, kind);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(new Pending(rs.getObject(1, UUID.class), rs.getString(2)))
                            : Optional.<Pending>empty();
                }
            }
        });
        return p.orElseThrow(() -> {
            log.info("passkey {} refused: request {} unknown, used or expired", kind, shortId(requestId));
            return new IdentityException(MSG_EXPIRED);
        });
    }

    private static String shortId(String requestId) {
        return requestId == null ? "null" : requestId.substring(0, Math.min(8, requestId.length())) + "…";
    }

    private static String bounded(String responseJson) {
        if (responseJson == null || responseJson.isBlank() || responseJson.length() > MAX_RESPONSE_CHARS) {
            throw new IllegalArgumentException("response missing or too large");
        }
        return responseJson;
    }

    private static String nickname(String nickname) {
        if (nickname == null || nickname.isBlank()) {
            return null;
        }
        String n = nickname.strip();
        if (n.codePointCount(0, n.length()) > MAX_NICKNAME || n.codePoints().anyMatch(Character::isISOControl)) {
            throw new IdentityException(MSG_NICKNAME);
        }
        return n;
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

    // ---------------------------------------------------------------- Yubico's view of the tables

    /**
     * The credential store as java-webauthn-server sees it. Its "username" is the account's login id. No method
     * returns null. Removed credentials are not offered or accepted, but {@link #lookupAll} still finds them, so
     * that a removed credential id cannot be registered again.
     */
    private final class Repository implements CredentialRepository {
        @Override
        public Set<PublicKeyCredentialDescriptor> getCredentialIdsForUsername(String username) {
            if (username == null) {
                return Set.of();
            }
            return Tx.read(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT w.credential_id, w.transports"
                        + " FROM webauthn_credential w JOIN account a ON a.account_id = w.account_id"
                        + " WHERE a.login_id = ? AND w.removed_at IS NULL")) {
                    ps.setString(1, username);
                    return descriptors(ps);
                }
            });
        }

        @Override
        public Optional<ByteArray> getUserHandleForUsername(String username) {
            if (username == null) {
                return Optional.empty();
            }
            return Tx.read(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT h.user_handle FROM webauthn_user_handle h"
                        + " JOIN account a ON a.account_id = h.account_id WHERE a.login_id = ?")) {
                    ps.setString(1, username);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? Optional.of(new ByteArray(rs.getBytes(1))) : Optional.<ByteArray>empty();
                    }
                }
            });
        }

        @Override
        public Optional<String> getUsernameForUserHandle(ByteArray userHandle) {
            if (userHandle == null) {
                return Optional.empty();
            }
            return Tx.read(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT a.login_id FROM webauthn_user_handle h"
                        + " JOIN account a ON a.account_id = h.account_id WHERE h.user_handle = ?")) {
                    ps.setBytes(1, userHandle.getBytes());
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                    }
                }
            });
        }

        @Override
        public Optional<RegisteredCredential> lookup(ByteArray credentialId, ByteArray userHandle) {
            if (credentialId == null || userHandle == null) {
                return Optional.empty();
            }
            List<RegisteredCredential> found = credentials(credentialId, userHandle);
            return found.isEmpty() ? Optional.empty() : Optional.of(found.get(0));
        }

        @Override
        public Set<RegisteredCredential> lookupAll(ByteArray credentialId) {
            if (credentialId == null) {
                return Set.of();
            }
            return new LinkedHashSet<>(credentials(credentialId, null));
        }

        /** With a user handle: that user's credential if not removed. Without: any, removed or not. */
        private List<RegisteredCredential> credentials(ByteArray credentialId, ByteArray userHandle) {
            return Tx.read(ds, c -> {
                String sql = "SELECT credential_id, user_handle, public_key_cose, signature_count, backup_eligible,"
                        + " backed_up FROM webauthn_credential WHERE credential_id = ?"
                        + (userHandle == null ? "" : " AND user_handle = ? AND removed_at IS NULL");
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setBytes(1, credentialId.getBytes());
                    if (userHandle != null) {
                        ps.setBytes(2, userHandle.getBytes());
                    }
                    List<RegisteredCredential> out = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.add(RegisteredCredential.builder()
                                    .credentialId(new ByteArray(rs.getBytes(1)))
                                    .userHandle(new ByteArray(rs.getBytes(2)))
                                    .publicKeyCose(new ByteArray(rs.getBytes(3)))
                                    .signatureCount(rs.getLong(4))
                                    .backupEligible((Boolean) rs.getObject(5))
                                    .backupState((Boolean) rs.getObject(6))
                                    .build());
                        }
                    }
                    return out;
                }
            });
        }
    }
}
