package jp.mamori.federation;

/**
 * A request the federation capability refuses; the message is "日本語 / English" and is shown as it is. The kind is
 * for the pages (the provider being down is said on the login page) and for the tests.
 */
public final class FederationRefusal extends RuntimeException {
    public enum Kind {
        /** The registration's input is wrong (an http address, a discovery URL that does not answer as one). */
        INVALID,
        /** No provider is registered, or it is turned off. */
        NOT_CONFIGURED,
        /** The provider did not answer (discovery, keys or token): local sign-in still works. */
        PROVIDER_DOWN,
        /** The callback came without a state, or with one this server never gave. */
        STATE_UNKNOWN,
        /** The state was used already (a replayed callback). */
        STATE_REPLAYED,
        /** The state is older than its ten minutes. */
        STATE_EXPIRED,
        /** The state was given to another browser (no or another binding cookie). */
        STATE_OTHER_BROWSER,
        /** The person cancelled or the provider refused ({@code error=access_denied}). */
        ACCESS_DENIED,
        /** The provider answered with another error, or an answer Mamori cannot use. */
        PROVIDER_ERROR,
        /** The ID token failed a check: signature, algorithm, issuer, audience, expiry, issue time or nonce. */
        TOKEN_INVALID,
        /** The provider's subject is linked to no account. */
        UNLINKED,
        /** The account cannot sign in (suspended, retired, locked, an emergency account). */
        ACCOUNT,
        /** The subject is linked to another account already, or this account is linked already. */
        ALREADY_LINKED
    }

    private final Kind kind;

    public FederationRefusal(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
