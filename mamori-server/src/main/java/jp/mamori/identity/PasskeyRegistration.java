package jp.mamori.identity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.yubico.webauthn.FinishRegistrationOptions;
import com.yubico.webauthn.RegistrationResult;
import com.yubico.webauthn.RelyingParty;
import com.yubico.webauthn.StartRegistrationOptions;
import com.yubico.webauthn.data.AuthenticatorAttestationResponse;
import com.yubico.webauthn.data.AuthenticatorSelectionCriteria;
import com.yubico.webauthn.data.AuthenticatorTransport;
import com.yubico.webauthn.data.ByteArray;
import com.yubico.webauthn.data.ClientRegistrationExtensionOutputs;
import com.yubico.webauthn.data.PublicKeyCredential;
import com.yubico.webauthn.data.PublicKeyCredentialCreationOptions;
import com.yubico.webauthn.data.ResidentKeyRequirement;
import com.yubico.webauthn.data.UserIdentity;
import com.yubico.webauthn.data.UserVerificationRequirement;
import com.yubico.webauthn.exception.RegistrationFailedException;
import jp.mamori.db.DataAccessException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Objects;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Adding a passkey or security key to an account: the registration ceremony (start, then finish with the
 * browser's answer), with user verification required and the account's own credentials excluded.
 */
final class PasskeyRegistration {
    /** Logs under {@link Passkeys}, as all of the passkey classes do. */
    private static final Logger log = LoggerFactory.getLogger(Passkeys.class);

    private final PasskeyStore store;
    private final RelyingParty rp;

    PasskeyRegistration(PasskeyStore store, RelyingParty rp) {
        this.store = store;
        this.rp = rp;
    }

    /** See {@link Passkeys#startRegistration}. */
    Passkeys.Challenge start(UUID accountId, String loginId, String displayName) {
        Objects.requireNonNull(accountId, "accountId");
        if (loginId == null || loginId.isBlank() || displayName == null || displayName.isBlank()) {
            throw new IllegalArgumentException("loginId and displayName are required");
        }
        ByteArray handle = store.userHandleFor(accountId);
        UserIdentity user = UserIdentity.builder().name(loginId).displayName(displayName).id(handle).build();
        PublicKeyCredentialCreationOptions options = rp.startRegistration(StartRegistrationOptions.builder()
                .user(user)
                .authenticatorSelection(AuthenticatorSelectionCriteria.builder()
                        .residentKey(ResidentKeyRequirement.PREFERRED)
                        .userVerification(UserVerificationRequirement.REQUIRED)
                        .build())
                .timeout(Passkeys.REQUEST_TTL.toMillis())
                .build());
        // By account, not by the login id the library looked up: the two agree unless the caller erred.
        options = options.toBuilder().excludeCredentials(store.activeDescriptors(accountId)).build();
        try {
            String requestId = store.save(accountId, PasskeyStore.REGISTRATION, options.toJson());
            return new Passkeys.Challenge(requestId, Passkeys.inner(options.toCredentialsCreateJson()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("WebAuthn options could not be written as JSON", e);
        }
    }

    /** See {@link Passkeys#finishRegistration}. */
    void finish(UUID accountId, String requestId, String responseJson, String nickname) {
        Objects.requireNonNull(accountId, "accountId");
        String name = nickname(nickname);
        PasskeyStore.Pending pending = store.take(requestId, PasskeyStore.REGISTRATION);
        if (!accountId.equals(pending.accountId())) {
            log.warn("passkey registration refused: request {} was started for another account",
                    Passkeys.shortId(requestId));
            throw new IdentityException(Passkeys.MSG_EXPIRED);
        }
        PublicKeyCredentialCreationOptions options;
        try {
            options = PublicKeyCredentialCreationOptions.fromJson(pending.json());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored WebAuthn request could not be read", e);
        }
        PublicKeyCredential<AuthenticatorAttestationResponse, ClientRegistrationExtensionOutputs> pkc;
        try {
            pkc = PublicKeyCredential.parseRegistrationResponseJson(Passkeys.bounded(responseJson));
        } catch (IOException | RuntimeException e) {
            log.info("passkey registration refused: unreadable response: {}", e.toString());
            throw new IdentityException(Passkeys.MSG_UNREADABLE);
        }
        if (!pkc.getResponse().getParsedAuthenticatorData().getFlags().UV) {
            log.info("passkey registration refused: user not verified by the authenticator");
            throw new IdentityException(Passkeys.MSG_NO_UV);
        }
        if (store.find(pkc.getId()).isPresent()) {
            throw new IdentityException(Passkeys.MSG_ALREADY_REGISTERED);
        }
        RegistrationResult result;
        try {
            result = rp.finishRegistration(FinishRegistrationOptions.builder().request(options).response(pkc).build());
        } catch (RegistrationFailedException | RuntimeException e) {
            log.info("passkey registration refused: {}", e.getMessage());
            throw new IdentityException(Passkeys.MSG_REGISTRATION_FAILED);
        }
        if (!result.isUserVerified()) {
            throw new IdentityException(Passkeys.MSG_NO_UV);
        }
        ByteArray userHandle = options.getUser().getId();
        String transports = result.getKeyId().getTransports()
                .map(ts -> ts.stream().map(AuthenticatorTransport::getId).collect(Collectors.joining(",")))
                .filter(s -> !s.isEmpty()).orElse(null);
        try {
            store.insert(accountId, userHandle, result, transports, name);
        } catch (DataAccessException e) {
            if ("23505".equals(e.sqlState())) {
                throw new IdentityException(Passkeys.MSG_ALREADY_REGISTERED); // registered concurrently
            }
            throw e;
        }
        log.info("passkey registered for account {}", accountId);
    }

    private static String nickname(String nickname) {
        if (nickname == null || nickname.isBlank()) {
            return null;
        }
        String n = nickname.strip();
        if (n.codePointCount(0, n.length()) > Passkeys.MAX_NICKNAME || n.codePoints().anyMatch(Character::isISOControl)) {
            throw new IdentityException(Passkeys.MSG_NICKNAME);
        }
        return n;
    }
}
