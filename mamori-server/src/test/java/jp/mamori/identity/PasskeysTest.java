package jp.mamori.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Passkey registration and login against the real database, answered by a software authenticator written here
 * (P-256 key, "none" attestation, flags and counter under the test's control).
 */
class PasskeysTest {
    static final String RP_ID = "localhost";
    static final String ORIGIN = "http://localhost:8443";
    static final ObjectMapper JSON = new ObjectMapper();

    static TestServer server;
    static DataSource ds;
    static Passkeys passkeys;

    @BeforeAll
    static void start() {
        server = TestServer.shared();
        ds = server.server().database().dataSource();
        passkeys = new Passkeys(ds, RP_ID, Set.of(ORIGIN), "Mamori テスト病院");
    }

    // ------------------------------------------------------------------ the ceremonies

    @Test
    void registrationThenLoginSucceedsAndReturnsTheAccount() throws Exception {
        Account a = newAccount();
        Authenticator key = new Authenticator();
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        JsonNode options = JSON.readTree(reg.publicKeyJson());
        assertFalse(options.has("publicKey"), "the inner options, not Yubico's {publicKey: ...} wrapper");
        assertEquals(RP_ID, options.path("rp").path("id").asText());
        assertEquals(a.loginId, options.path("user").path("name").asText());
        assertEquals("required", options.path("authenticatorSelection").path("userVerification").asText());
        assertEquals("preferred", options.path("authenticatorSelection").path("residentKey").asText());
        assertEquals("none", options.path("attestation").asText("none"));
        assertTrue(options.path("timeout").asLong() <= 300_000);
        passkeys.finishRegistration(a.id, reg.requestId(), key.register(reg.publicKeyJson()), "職員証の鍵");

        List<Passkeys.PasskeyInfo> listed = passkeys.list(a.id);
        assertEquals(1, listed.size());
        assertEquals(key.credentialIdB64(), listed.get(0).credentialId());
        assertEquals("職員証の鍵", listed.get(0).nickname());
        assertNull(listed.get(0).lastUsedAt());

        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        JsonNode req = JSON.readTree(login.publicKeyJson());
        assertFalse(req.has("publicKey"));
        assertEquals("required", req.path("userVerification").asText());
        assertEquals(key.credentialIdB64(), req.path("allowCredentials").path(0).path("id").asText());
        assertEquals(a.id, passkeys.finishLogin(login.requestId(), key.login(login.publicKeyJson())));
        assertNotNull(passkeys.list(a.id).get(0).lastUsedAt());
    }

    @Test
    void aDiscoverableLoginWithoutAnAccountResolvesTheAccountFromTheUserHandle() throws Exception {
        Account a = newAccount();
        Authenticator key = registered(a);
        Passkeys.Challenge login = passkeys.startLogin(Optional.empty());
        JsonNode req = JSON.readTree(login.publicKeyJson());
        assertTrue(req.path("allowCredentials").isMissingNode() || req.path("allowCredentials").isEmpty(),
                "no account named, so no credentials listed");
        assertEquals(a.id, passkeys.finishLogin(login.requestId(), key.login(login.publicKeyJson())));
    }

    @Test
    void aDiscoverableLoginWhoseUserHandleIsNotTheCredentialsIsRefused() throws Exception {
        Account a = newAccount();
        Account b = newAccount();
        Authenticator keyA = registered(a);
        registered(b);
        byte[] handleB = userHandleOf(b.id);
        keyA.userHandle = handleB; // claims to be b's passkey
        Passkeys.Challenge login = passkeys.startLogin(Optional.empty());
        assertRefused(() -> passkeys.finishLogin(login.requestId(), keyA.login(login.publicKeyJson())));
    }

    @Test
    void theUserHandleIsRandomAndNeitherTheAccountIdNorTheLoginId() throws Exception {
        Account a = newAccount();
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        byte[] handle = Base64.getUrlDecoder().decode(JSON.readTree(reg.publicKeyJson()).path("user").path("id").asText());
        assertEquals(32, handle.length);
        assertArrayEquals(handle, userHandleOf(a.id));
        assertFalse(new String(handle, StandardCharsets.ISO_8859_1).contains(a.loginId));
        assertNotEquals(a.id, uuidOf(handle));
        Passkeys.Challenge again = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        assertEquals(JSON.readTree(reg.publicKeyJson()).path("user").path("id"),
                JSON.readTree(again.publicKeyJson()).path("user").path("id"), "one handle per account");
    }

    // ------------------------------------------------------------------ user verification, origin

    @Test
    void registrationWithoutUserVerificationIsRefused() {
        Account a = newAccount();
        Authenticator key = new Authenticator();
        key.userVerified = false;
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        IdentityException e = assertRefused(() -> passkeys.finishRegistration(a.id, reg.requestId(),
                key.register(reg.publicKeyJson()), null));
        assertEquals(Passkeys.MSG_NO_UV, e.getMessage());
        assertFalse(passkeys.hasAny(a.id));
    }

    @Test
    void loginWithoutUserVerificationIsRefused() {
        Account a = newAccount();
        Authenticator key = registered(a);
        key.userVerified = false;
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        IdentityException e = assertRefused(() -> passkeys.finishLogin(login.requestId(),
                key.login(login.publicKeyJson())));
        assertEquals(Passkeys.MSG_NO_UV, e.getMessage());
    }

    @Test
    void aResponseFromAnotherOriginIsRefusedAtRegistrationAndLogin() {
        Account a = newAccount();
        Authenticator phished = new Authenticator();
        phished.origin = "http://localhost:9999";
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        assertRefused(() -> passkeys.finishRegistration(a.id, reg.requestId(), phished.register(reg.publicKeyJson()),
                null));
        assertFalse(passkeys.hasAny(a.id));

        Authenticator key = registered(a);
        key.origin = "https://mamori.example.invalid";
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        assertRefused(() -> passkeys.finishLogin(login.requestId(), key.login(login.publicKeyJson())));
    }

    @Test
    void aSignatureOverOtherDataIsRefused() {
        Account a = newAccount();
        Authenticator key = registered(a);
        key.corruptSignature = true;
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        assertRefused(() -> passkeys.finishLogin(login.requestId(), key.login(login.publicKeyJson())));
    }

    @Test
    void anAnswerToAnotherChallengeIsRefused() {
        Account a = newAccount();
        Authenticator key = registered(a);
        Passkeys.Challenge first = passkeys.startLogin(Optional.of(a.id));
        Passkeys.Challenge second = passkeys.startLogin(Optional.of(a.id));
        assertRefused(() -> passkeys.finishLogin(second.requestId(), key.login(first.publicKeyJson())));
    }

    // ------------------------------------------------------------------ single use, expiry

    @Test
    void aFinishedRequestCannotBeReplayed() {
        Account a = newAccount();
        Authenticator key = new Authenticator();
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        String regResponse = key.register(reg.publicKeyJson());
        passkeys.finishRegistration(a.id, reg.requestId(), regResponse, null);
        IdentityException e = assertRefused(() -> passkeys.finishRegistration(a.id, reg.requestId(), regResponse,
                null));
        assertEquals(Passkeys.MSG_EXPIRED, e.getMessage());

        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        String response = key.login(login.publicKeyJson());
        assertEquals(a.id, passkeys.finishLogin(login.requestId(), response));
        e = assertRefused(() -> passkeys.finishLogin(login.requestId(), response));
        assertEquals(Passkeys.MSG_EXPIRED, e.getMessage());
        assertRefused(() -> passkeys.finishLogin(login.requestId(), key.login(login.publicKeyJson())));
    }

    @Test
    void aFailedAttemptAlsoUsesUpTheRequest() {
        Account a = newAccount();
        Authenticator key = registered(a);
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        key.userVerified = false;
        assertRefused(() -> passkeys.finishLogin(login.requestId(), key.login(login.publicKeyJson())));
        key.userVerified = true;
        IdentityException e = assertRefused(() -> passkeys.finishLogin(login.requestId(),
                key.login(login.publicKeyJson())));
        assertEquals(Passkeys.MSG_EXPIRED, e.getMessage());
    }

    @Test
    void anExpiredRequestIsRefused() throws SQLException {
        Account a = newAccount();
        Authenticator key = registered(a);
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE webauthn_request SET expires_at = now()"
                     + " - interval '1 second' WHERE request_id = ?")) {
            ps.setString(1, login.requestId());
            assertEquals(1, ps.executeUpdate());
        }
        IdentityException e = assertRefused(() -> passkeys.finishLogin(login.requestId(),
                key.login(login.publicKeyJson())));
        assertEquals(Passkeys.MSG_EXPIRED, e.getMessage());
    }

    @Test
    void requestsExpireAfterFiveMinutes() throws SQLException {
        Account a = newAccount();
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT extract(epoch FROM expires_at - created_at), kind,"
                     + " account_id FROM webauthn_request WHERE request_id = ?")) {
            ps.setString(1, login.requestId());
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(300, rs.getLong(1));
                assertEquals("assertion", rs.getString(2));
                assertEquals(a.id, rs.getObject(3, UUID.class));
            }
        }
    }

    @Test
    void aRegistrationRequestCannotFinishALoginNorTheReverse() {
        Account a = newAccount();
        Authenticator key = registered(a);
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        assertRefused(() -> passkeys.finishLogin(reg.requestId(), key.login(reg.publicKeyJson())));
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        assertRefused(() -> passkeys.finishRegistration(a.id, login.requestId(),
                new Authenticator().register(reg.publicKeyJson()), null));
    }

    @Test
    void aRegistrationStartedForOneAccountCannotBeFinishedForAnother() {
        Account a = newAccount();
        Account b = newAccount();
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        assertRefused(() -> passkeys.finishRegistration(b.id, reg.requestId(),
                new Authenticator().register(reg.publicKeyJson()), null));
        assertFalse(passkeys.hasAny(a.id));
        assertFalse(passkeys.hasAny(b.id));
    }

    @Test
    void unknownRequestIdsAndUnreadableResponsesAreRefused() {
        Account a = newAccount();
        assertEquals(Passkeys.MSG_EXPIRED, assertRefused(() -> passkeys.finishLogin("no-such-request-id-0123456789abcdef", "{}"))
                .getMessage());
        assertRefused(() -> passkeys.finishLogin(null, "{}"));
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        assertEquals(Passkeys.MSG_UNREADABLE, assertRefused(() -> passkeys.finishLogin(login.requestId(), "not json"))
                .getMessage());
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        assertEquals(Passkeys.MSG_UNREADABLE, assertRefused(() -> passkeys.finishRegistration(a.id, reg.requestId(),
                "", null)).getMessage());
    }

    // ------------------------------------------------------------------ counter

    @Test
    void aSignatureCounterThatDoesNotMoveForwardIsRefusedAsAPossibleClone() {
        Account a = newAccount();
        Authenticator key = registered(a);
        key.counter = 10;
        loginWith(a, key);
        key.counter = 5; // a copy of the key that was used less
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        IdentityException e = assertRefused(() -> passkeys.finishLogin(login.requestId(),
                key.login(login.publicKeyJson())));
        assertEquals(Passkeys.MSG_CLONED, e.getMessage());
        key.counter = 10; // the same value again is no progress either
        Passkeys.Challenge again = passkeys.startLogin(Optional.of(a.id));
        assertEquals(Passkeys.MSG_CLONED, assertRefused(() -> passkeys.finishLogin(again.requestId(),
                key.login(again.publicKeyJson()))).getMessage());
        key.counter = 11;
        assertEquals(a.id, loginWith(a, key));
    }

    @Test
    void anAuthenticatorWithoutACounterMayKeepItAtZero() {
        Account a = newAccount();
        Authenticator key = registered(a);
        key.counting = false;
        assertEquals(a.id, loginWith(a, key));
        assertEquals(a.id, loginWith(a, key));
    }

    // ------------------------------------------------------------------ which credential may log in

    @Test
    void aRemovedCredentialCannotLogInAndIsKeptOnRecord() throws SQLException {
        Account a = newAccount();
        Authenticator key = registered(a);
        Passkeys.Challenge before = passkeys.startLogin(Optional.empty());
        assertTrue(passkeys.remove(a.id, key.credentialIdB64(), "admin:test"));
        IdentityException e = assertRefused(() -> passkeys.finishLogin(before.requestId(),
                key.login(before.publicKeyJson())));
        assertEquals(Passkeys.MSG_NOT_USABLE, e.getMessage());
        Passkeys.Challenge after = passkeys.startLogin(Optional.of(a.id));
        assertRefused(() -> passkeys.finishLogin(after.requestId(), key.login(after.publicKeyJson())));
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT removed_by, removed_at IS NOT NULL FROM"
                     + " webauthn_credential WHERE credential_id = ?")) {
            ps.setBytes(1, key.credentialId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "removed, not deleted");
                assertEquals("admin:test", rs.getString(1));
                assertTrue(rs.getBoolean(2));
            }
        }
    }

    @Test
    void aRemovedCredentialCannotBeRegisteredAgain() {
        Account a = newAccount();
        Authenticator key = registered(a);
        assertTrue(passkeys.remove(a.id, key.credentialIdB64(), "admin:test"));
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        assertEquals(Passkeys.MSG_ALREADY_REGISTERED, assertRefused(() -> passkeys.finishRegistration(a.id,
                reg.requestId(), key.register(reg.publicKeyJson()), null)).getMessage());
    }

    @Test
    void theRuntimeRoleCannotDeleteCredentials() throws SQLException {
        Account a = newAccount();
        Authenticator key = registered(a);
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM webauthn_credential WHERE credential_id = ?")) {
            ps.setBytes(1, key.credentialId);
            assertEquals("42501", assertThrows(SQLException.class, ps::executeUpdate).getSQLState());
        }
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("DELETE FROM webauthn_credential WHERE credential_id = ?")) {
            ps.setBytes(1, key.credentialId);
            assertThrows(SQLException.class, ps::executeUpdate, "not even the owner: a trigger refuses it");
        }
    }

    @Test
    void aCredentialOfAccountACannotFinishALoginStartedForAccountB() {
        Account a = newAccount();
        Account b = newAccount();
        Authenticator keyA = registered(a);
        registered(b);
        Passkeys.Challenge loginB = passkeys.startLogin(Optional.of(b.id));
        IdentityException e = assertRefused(() -> passkeys.finishLogin(loginB.requestId(),
                keyA.login(loginB.publicKeyJson())));
        assertEquals(Passkeys.MSG_NOT_USABLE, e.getMessage());
        // Even with b's user handle in the answer.
        keyA.userHandle = userHandleOf(b.id);
        Passkeys.Challenge again = passkeys.startLogin(Optional.of(b.id));
        assertRefused(() -> passkeys.finishLogin(again.requestId(), keyA.login(again.publicKeyJson())));
    }

    @Test
    void anAccountWithoutPasskeysGetsAChallengeThatNoKeyCanAnswer() {
        Account a = newAccount();
        Account b = newAccount();
        Authenticator keyB = registered(b);
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        assertRefused(() -> passkeys.finishLogin(login.requestId(), keyB.login(login.publicKeyJson())));
    }

    @Test
    void anUnregisteredCredentialIsRefused() {
        Account a = newAccount();
        registered(a);
        Authenticator stranger = new Authenticator();
        stranger.userHandle = userHandleOf(a.id);
        Passkeys.Challenge login = passkeys.startLogin(Optional.empty());
        assertEquals(Passkeys.MSG_NOT_USABLE, assertRefused(() -> passkeys.finishLogin(login.requestId(),
                stranger.login(login.publicKeyJson()))).getMessage());
    }

    // ------------------------------------------------------------------ management

    @Test
    void registeredCredentialsAreExcludedFromTheNextRegistrationAndCannotBeRegisteredTwice() throws Exception {
        Account a = newAccount();
        Authenticator key = registered(a);
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        JsonNode excluded = JSON.readTree(reg.publicKeyJson()).path("excludeCredentials");
        assertEquals(1, excluded.size());
        assertEquals(key.credentialIdB64(), excluded.path(0).path("id").asText());
        assertEquals(Passkeys.MSG_ALREADY_REGISTERED, assertRefused(() -> passkeys.finishRegistration(a.id,
                reg.requestId(), key.register(reg.publicKeyJson()), null)).getMessage());

        Account b = newAccount();
        Passkeys.Challenge regB = passkeys.startRegistration(b.id, b.loginId, "佐藤 一郎");
        assertTrue(JSON.readTree(regB.publicKeyJson()).path("excludeCredentials").isEmpty());
        assertEquals(Passkeys.MSG_ALREADY_REGISTERED, assertRefused(() -> passkeys.finishRegistration(b.id,
                regB.requestId(), key.register(regB.publicKeyJson()), null)).getMessage(),
                "one credential, one account");
    }

    @Test
    void listRemoveAndHasAnyCoverTheAccountsOwnActiveCredentialsOnly() {
        Account a = newAccount();
        Account b = newAccount();
        assertFalse(passkeys.hasAny(a.id));
        assertTrue(passkeys.list(a.id).isEmpty());
        Authenticator first = registered(a);
        Authenticator second = new Authenticator();
        second.backedUp = true;
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        passkeys.finishRegistration(a.id, reg.requestId(), second.register(reg.publicKeyJson()), "  スマートフォン  ");
        assertTrue(passkeys.hasAny(a.id));
        assertFalse(passkeys.hasAny(b.id));

        List<Passkeys.PasskeyInfo> listed = passkeys.list(a.id);
        assertEquals(2, listed.size());
        assertEquals(Set.of(first.credentialIdB64(), second.credentialIdB64()),
                Set.of(listed.get(0).credentialId(), listed.get(1).credentialId()));
        Passkeys.PasskeyInfo phone = listed.stream().filter(p -> p.credentialId().equals(second.credentialIdB64()))
                .findFirst().orElseThrow();
        assertEquals("スマートフォン", phone.nickname());
        assertTrue(phone.backedUp());
        assertNotNull(phone.createdAt());

        assertFalse(passkeys.remove(b.id, first.credentialIdB64(), "admin:test"), "not b's credential");
        assertFalse(passkeys.remove(a.id, "not base64url!", "admin:test"));
        assertFalse(passkeys.remove(a.id, Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[16]),
                "admin:test"));
        assertTrue(passkeys.remove(a.id, first.credentialIdB64(), "admin:test"));
        assertFalse(passkeys.remove(a.id, first.credentialIdB64(), "admin:test"), "already removed");
        assertEquals(List.of(second.credentialIdB64()),
                passkeys.list(a.id).stream().map(Passkeys.PasskeyInfo::credentialId).toList());
        assertTrue(passkeys.hasAny(a.id));
        assertTrue(passkeys.remove(a.id, second.credentialIdB64(), "admin:test"));
        assertFalse(passkeys.hasAny(a.id));
        assertTrue(passkeys.list(a.id).isEmpty());
    }

    @Test
    void aTooLongNicknameIsRefusedBeforeTheRequestIsUsed() {
        Account a = newAccount();
        Authenticator key = new Authenticator();
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        String response = key.register(reg.publicKeyJson());
        assertEquals(Passkeys.MSG_NICKNAME, assertRefused(() -> passkeys.finishRegistration(a.id, reg.requestId(),
                response, "鍵".repeat(101))).getMessage());
        passkeys.finishRegistration(a.id, reg.requestId(), response, "鍵".repeat(100));
        assertEquals("鍵".repeat(100), passkeys.list(a.id).get(0).nickname());
    }

    @Test
    void registrationForAnUnknownAccountIsRefused() {
        IdentityException e = assertRefused(() -> passkeys.startRegistration(UUID.randomUUID(), "nobody", "Nobody"));
        assertEquals(Passkeys.MSG_NO_ACCOUNT, e.getMessage());
    }

    @Test
    void originsMustBeExactOriginsUnderTheRpId() {
        assertThrows(IllegalArgumentException.class, () -> new Passkeys(ds, RP_ID, Set.of(), "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new Passkeys(ds, "mamori.example.jp", Set.of("https://evil.example.jp"), "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new Passkeys(ds, "mamori.example.jp", Set.of("http://mamori.example.jp"), "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new Passkeys(ds, "mamori.example.jp", Set.of("https://mamori.example.jp:8443/"), "x"));
        new Passkeys(ds, "mamori.example.jp", Set.of("https://mamori.example.jp:8443"), "x");
    }

    // ------------------------------------------------------------------ helpers

    record Account(UUID id, String loginId) {
    }

    static Account newAccount() {
        UUID id = UUID.randomUUID();
        String loginId = "pk-" + id.toString().substring(0, 12);
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("INSERT INTO account (account_id, login_id, family_name,"
                     + " given_name, family_kana, given_kana, account_type, status, status_changed_at, created_at,"
                     + " created_by) VALUES (?, ?, '山田', '花子', 'ヤマダ', 'ハナコ', 'staff', 'active', now(), now(),"
                     + " 'test')")) {
            ps.setObject(1, id);
            ps.setString(2, loginId);
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return new Account(id, loginId);
    }

    static byte[] userHandleOf(UUID accountId) {
        try (Connection c = ds.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT user_handle FROM webauthn_user_handle"
                     + " WHERE account_id = ?")) {
            ps.setObject(1, accountId);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                return rs.getBytes(1);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    static UUID uuidOf(byte[] handle) {
        ByteBuffer b = ByteBuffer.wrap(handle);
        return new UUID(b.getLong(), b.getLong());
    }

    static Authenticator registered(Account a) {
        Authenticator key = new Authenticator();
        Passkeys.Challenge reg = passkeys.startRegistration(a.id, a.loginId, "山田 花子");
        passkeys.finishRegistration(a.id, reg.requestId(), key.register(reg.publicKeyJson()), null);
        return key;
    }

    static UUID loginWith(Account a, Authenticator key) {
        Passkeys.Challenge login = passkeys.startLogin(Optional.of(a.id));
        return passkeys.finishLogin(login.requestId(), key.login(login.publicKeyJson()));
    }

    static IdentityException assertRefused(org.junit.jupiter.api.function.Executable call) {
        IdentityException e = assertThrows(IdentityException.class, call);
        String m = e.getMessage();
        int slash = m.indexOf(" / ");
        assertTrue(slash > 0, "日本語 / English: " + m);
        assertTrue(m.substring(0, slash).codePoints().anyMatch(cp -> cp > 0x3000), "Japanese first: " + m);
        assertFalse(m.contains("Exception") || m.contains("SQL"), "no internals: " + m);
        return e;
    }

    /**
     * A platform authenticator in software: one P-256 credential, "none" attestation. The fields set what it
     * claims (user verified, origin, counter), so that tests can make it lie.
     */
    static final class Authenticator {
        static final SecureRandom RANDOM = new SecureRandom();
        static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

        final KeyPair keys;
        final byte[] credentialId = new byte[32];
        byte[] userHandle;
        boolean userVerified = true;
        boolean backedUp = false;
        boolean counting = true;
        boolean corruptSignature = false;
        long counter = 0;
        String origin = ORIGIN;

        Authenticator() {
            try {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
                g.initialize(new ECGenParameterSpec("secp256r1"));
                keys = g.generateKeyPair();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            RANDOM.nextBytes(credentialId);
        }

        String credentialIdB64() {
            return B64.encodeToString(credentialId);
        }

        /** Answers navigator.credentials.create(), as JSON.stringify(credential) in Chromium would. */
        String register(String optionsJson) {
            try {
                JsonNode o = JSON.readTree(optionsJson);
                userHandle = Base64.getUrlDecoder().decode(o.path("user").path("id").asText());
                byte[] clientData = clientData("webauthn.create", o.path("challenge").asText());
                ByteArrayOutputStream auth = new ByteArrayOutputStream();
                auth.write(sha256(o.path("rp").path("id").asText().getBytes(StandardCharsets.UTF_8)));
                auth.write(flags() | 0x40); // AT: attested credential data follows
                auth.write(ByteBuffer.allocate(4).putInt((int) counter).array());
                auth.write(new byte[16]); // AAGUID: none
                auth.write(ByteBuffer.allocate(2).putShort((short) credentialId.length).array());
                auth.write(credentialId);
                auth.write(coseKey());
                byte[] authData = auth.toByteArray();
                Cbor att = new Cbor().map(3).text("fmt").text("none").text("attStmt").map(0)
                        .text("authData").bytes(authData);
                return "{\"type\":\"public-key\",\"id\":\"" + credentialIdB64() + "\",\"rawId\":\"" + credentialIdB64()
                        + "\",\"authenticatorAttachment\":\"platform\",\"response\":{\"clientDataJSON\":\""
                        + B64.encodeToString(clientData) + "\",\"authenticatorData\":\"" + B64.encodeToString(authData)
                        + "\",\"transports\":[\"hybrid\",\"internal\"],\"publicKey\":\""
                        + B64.encodeToString(keys.getPublic().getEncoded()) + "\",\"publicKeyAlgorithm\":-7,"
                        + "\"attestationObject\":\"" + B64.encodeToString(att.toByteArray()) + "\"},"
                        + "\"clientExtensionResults\":{\"credProps\":{\"rk\":true}}}";
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        /** Answers navigator.credentials.get(), as JSON.stringify(credential) in Chromium would. */
        String login(String optionsJson) {
            try {
                JsonNode o = JSON.readTree(optionsJson);
                if (counting) {
                    counter++;
                }
                byte[] clientData = clientData("webauthn.get", o.path("challenge").asText());
                ByteArrayOutputStream auth = new ByteArrayOutputStream();
                auth.write(sha256(o.path("rpId").asText(RP_ID).getBytes(StandardCharsets.UTF_8)));
                auth.write(flags());
                auth.write(ByteBuffer.allocate(4).putInt((int) counter).array());
                byte[] authData = auth.toByteArray();
                Signature s = Signature.getInstance("SHA256withECDSA");
                s.initSign(keys.getPrivate());
                s.update(authData);
                s.update(sha256(corruptSignature ? "other".getBytes(StandardCharsets.UTF_8) : clientData));
                byte[] sig = s.sign();
                return "{\"type\":\"public-key\",\"id\":\"" + credentialIdB64() + "\",\"rawId\":\"" + credentialIdB64()
                        + "\",\"authenticatorAttachment\":\"platform\",\"response\":{\"clientDataJSON\":\""
                        + B64.encodeToString(clientData) + "\",\"authenticatorData\":\"" + B64.encodeToString(authData)
                        + "\",\"signature\":\"" + B64.encodeToString(sig) + "\""
                        + (userHandle == null ? "" : ",\"userHandle\":\"" + B64.encodeToString(userHandle) + "\"")
                        + "},\"clientExtensionResults\":{}}";
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }

        private int flags() {
            int f = 0x01; // UP
            if (userVerified) {
                f |= 0x04;
            }
            f |= 0x08; // BE: may be backed up
            if (backedUp) {
                f |= 0x10;
            }
            return f;
        }

        private byte[] clientData(String type, String challenge) {
            return ("{\"type\":\"" + type + "\",\"challenge\":\"" + challenge + "\",\"origin\":\"" + origin
                    + "\",\"crossOrigin\":false}").getBytes(StandardCharsets.UTF_8);
        }

        private byte[] coseKey() {
            ECPublicKey pub = (ECPublicKey) keys.getPublic();
            return new Cbor().map(5)
                    .integer(1).integer(2)      // kty: EC2
                    .integer(3).integer(-7)     // alg: ES256
                    .integer(-1).integer(1)     // crv: P-256
                    .integer(-2).bytes(fixed32(pub.getW().getAffineX()))
                    .integer(-3).bytes(fixed32(pub.getW().getAffineY()))
                    .toByteArray();
        }

        private static byte[] fixed32(BigInteger v) {
            byte[] raw = v.toByteArray();
            byte[] out = new byte[32];
            int n = Math.min(raw.length, 32);
            System.arraycopy(raw, raw.length - n, out, 32 - n, n);
            return out;
        }

        private static byte[] sha256(byte[] b) throws Exception {
            return MessageDigest.getInstance("SHA-256").digest(b);
        }
    }

    /** Just enough CBOR (RFC 8949) for an attestation object and a COSE key. */
    static final class Cbor {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        private Cbor head(int major, long n) {
            if (n < 24) {
                out.write((major << 5) | (int) n);
            } else if (n < 0x100) {
                out.write((major << 5) | 24);
                out.write((int) n);
            } else if (n < 0x10000) {
                out.write((major << 5) | 25);
                out.write((int) (n >> 8));
                out.write((int) n);
            } else {
                out.write((major << 5) | 26);
                out.writeBytes(ByteBuffer.allocate(4).putInt((int) n).array());
            }
            return this;
        }

        Cbor integer(long v) {
            return v >= 0 ? head(0, v) : head(1, -1 - v);
        }

        Cbor bytes(byte[] b) {
            head(2, b.length);
            out.writeBytes(b);
            return this;
        }

        Cbor text(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            head(3, b.length);
            out.writeBytes(b);
            return this;
        }

        Cbor map(int entries) {
            return head(5, entries);
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }
    }
}
