package jp.mamori.identity;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.yubico.webauthn.AssertionRequest;
import com.yubico.webauthn.AssertionResult;
import com.yubico.webauthn.FinishAssertionOptions;
import com.yubico.webauthn.RelyingParty;
import com.yubico.webauthn.StartAssertionOptions;
import com.yubico.webauthn.data.AuthenticatorAssertionResponse;
import com.yubico.webauthn.data.ByteArray;
import com.yubico.webauthn.data.ClientAssertionExtensionOutputs;
import com.yubico.webauthn.data.PublicKeyCredential;
import com.yubico.webauthn.data.UserVerificationRequirement;
import com.yubico.webauthn.exception.AssertionFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Logging in with a passkey: the assertion ceremony (start, then finish with the browser's answer), for a
 * named account or discoverable ("usernameless"), with user verification required and the signature counter
 * only moving forward. Proves possession of a credential, not that the account may log in.
 */
final class PasskeyAuthentication {
    /** Logs under {@link Passkeys}, as all of the passkey classes do. */
    private static final Logger log = LoggerFactory.getLogger(Passkeys.class);

    private final PasskeyStore store;
    private final RelyingParty rp;

    PasskeyAuthentication(PasskeyStore store, RelyingParty rp) {
        this.store = store;
        this.rp = rp;
    }

    /** See {@link Passkeys#startLogin}. */
    Passkeys.Challenge start(Optional<UUID> accountId) {
        Objects.requireNonNull(accountId, "accountId");
        StartAssertionOptions.StartAssertionOptionsBuilder b = StartAssertionOptions.builder()
                .userVerification(UserVerificationRequirement.REQUIRED)
                .timeout(Passkeys.REQUEST_TTL.toMillis());
        if (accountId.isPresent()) {
            Optional<ByteArray> handle = store.existingUserHandle(accountId.get());
            // An account that never registered a key gets a random handle: no allowed credential, no leak.
            b.userHandle(handle.orElseGet(PasskeyStore::randomHandle));
        }
        AssertionRequest request = rp.startAssertion(b.build());
        try {
            String requestId = store.save(accountId.orElse(null), PasskeyStore.ASSERTION, request.toJson());
            return new Passkeys.Challenge(requestId, Passkeys.inner(request.toCredentialsGetJson()));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("WebAuthn options could not be written as JSON", e);
        }
    }

    /** See {@link Passkeys#finishLogin}. */
    UUID finish(String requestId, String responseJson) {
        PasskeyStore.Pending pending = store.take(requestId, PasskeyStore.ASSERTION);
        AssertionRequest request;
        try {
            request = AssertionRequest.fromJson(pending.json());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("stored WebAuthn request could not be read", e);
        }
        PublicKeyCredential<AuthenticatorAssertionResponse, ClientAssertionExtensionOutputs> pkc;
        try {
            pkc = PublicKeyCredential.parseAssertionResponseJson(Passkeys.bounded(responseJson));
        } catch (IOException | RuntimeException e) {
            log.info("passkey login refused: unreadable response: {}", e.toString());
            throw new IdentityException(Passkeys.MSG_UNREADABLE);
        }
        Optional<PasskeyStore.Stored> stored = store.find(pkc.getId());
        if (stored.isEmpty() || stored.get().removed()) {
            log.info("passkey login refused: credential {}", stored.isEmpty() ? "unknown" : "removed");
            throw new IdentityException(Passkeys.MSG_NOT_USABLE);
        }
        UUID owner = stored.get().accountId();
        if (pending.accountId() != null && !pending.accountId().equals(owner)) {
            log.warn("passkey login refused: a credential of account {} answered a login started for account {}",
                    owner, pending.accountId());
            throw new IdentityException(Passkeys.MSG_NOT_USABLE);
        }
        if (!pkc.getResponse().getParsedAuthenticatorData().getFlags().UV) {
            log.info("passkey login refused for account {}: user not verified by the authenticator", owner);
            throw new IdentityException(Passkeys.MSG_NO_UV);
        }
        AssertionResult result;
        try {
            result = rp.finishAssertion(FinishAssertionOptions.builder().request(request).response(pkc).build());
        } catch (AssertionFailedException | RuntimeException e) {
            log.info("passkey login refused for account {}: {}", owner, e.getMessage());
            throw new IdentityException(Passkeys.MSG_LOGIN_FAILED);
        }
        if (!result.isSuccess() || !result.isUserVerified()
                || !result.getCredential().getUserHandle().equals(stored.get().userHandle())) {
            throw new IdentityException(Passkeys.MSG_LOGIN_FAILED);
        }
        if (!result.isSignatureCounterValid()) {
            log.warn("passkey login refused for account {}: signature counter {} after {}: possible cloned"
                    + " authenticator", owner, result.getSignatureCount(), stored.get().signatureCount());
            throw new IdentityException(Passkeys.MSG_CLONED);
        }
        long count = result.getSignatureCount();
        // Compare-and-set: of two logins racing with the same counter value, only one wins.
        boolean updated = store.recordUse(pkc.getId(), owner, count, result.isBackedUp());
        if (!updated) {
            Optional<PasskeyStore.Stored> now = store.find(pkc.getId());
            if (now.isEmpty() || now.get().removed()) {
                throw new IdentityException(Passkeys.MSG_NOT_USABLE);
            }
            log.warn("passkey login refused for account {}: signature counter {} after {}: possible cloned"
                    + " authenticator", owner, count, now.get().signatureCount());
            throw new IdentityException(Passkeys.MSG_CLONED);
        }
        return owner;
    }
}
