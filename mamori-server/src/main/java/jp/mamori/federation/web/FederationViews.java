package jp.mamori.federation.web;

import java.util.List;

/** What the federation pages' templates show: words and times already in the reader's language. */
public final class FederationViews {
    private FederationViews() {
    }

    /** The login page's part: the provider's button, and the notice while the provider does not answer. */
    public record LoginPart(String button, boolean down, String csrf) {
    }

    /** A link in force. {@code removeHref}: where the remove form posts. */
    public record LinkRow(long seq, String name, String loginId, String issuer, String subject, String by, String at) {
    }

    /**
     * The person's own account page part. {@code cannotLink}: why linking is not offered now (a session that did not
     * sign in locally with two factors, a link in force), or null.
     */
    public record AccountPart(String notice, String provider, List<LinkRow> links, String cannotLink, String csrf) {
    }

    /** One line of evidence: a label and its value. */
    public record Setting(String label, String value) {
    }

    public record VersionRow(long version, String at, String by, String state, String summary) {
    }

    /** The registration form as it is filled (never the secret). */
    public record Form(String displayName, String discoveryUrl, String caPem, String clientId, String clientAuth,
                       String mfaAcr, String mfaAmr, boolean secretKept) {
    }

    public record Admin(String notice, String error, boolean registered, boolean enabled, boolean down,
                        String health, String rule, List<Setting> settings, String publicJwk, String redirectUri,
                        Form form, List<VersionRow> versions, List<LinkRow> links, String csrf) {
    }

    /** A sign-in or linking through the provider that was refused; {@code down}: the provider did not answer. */
    public record Refused(String message, boolean down, boolean link) {
    }

    public record Tile(String href, String text, boolean down) {
    }
}
