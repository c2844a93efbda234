package jp.mamori.smart.web;

import java.util.List;

/** What the SMART pages' templates show: words in the reader's language, no raw scope codes where a person reads. */
public final class SmartViews {
    private SmartViews() {
    }

    /** A form field the consent form sends back as it came (the app's request). */
    public record Hidden(String name, String value) {
    }

    /** One scope on the consent page: its value (sent back when ticked) and what it means, in words. */
    public record ScopeRow(String value, String words, boolean writes, String code) {
    }

    /**
     * The consent page.
     *
     * @param patient the patient of an EHR launch (name and 患者ID), or null
     */
    public record Consent(String appName, String appKind, String person, List<ScopeRow> scopes, List<Hidden> params,
                          String patient, boolean asksForPatient, String patientIdent, String error, String csrf) {
    }

    public record AppRow(String name, String clientId, String kind, List<String> scopes, List<String> redirects,
                         String launchUrl, boolean enabled, String changed, String href) {
    }

    /** The fields of the app form, as entered. */
    public record AppForm(String name, boolean confidential, String redirects, String launchUrl, String scopes,
                          boolean enabled, boolean keys, String jwks) {
    }

    /** The list of apps and the form for a new one; {@code secret} is shown once, right after it was made. */
    public record Apps(String notice, String error, List<AppRow> apps, String secret, String secretFor, AppForm form,
                       String csrf) {
    }

    /** One app's page: its registration to change, and its versions. */
    public record Edit(String notice, String error, String clientId, String kind, boolean confidential, AppForm form,
                       String secret, String csrf) {
    }

    public record LaunchApp(String clientId, String name) {
    }

    /** The EHR launch page of one patient. */
    public record Launch(String patientName, String patientIdent, String patientId, List<LaunchApp> apps,
                         String error, String csrf) {
    }

    /** An app the person allowed, on their own account page: the scopes in words, Japanese dates. */
    public record MyApp(String clientId, String name, List<String> scopes, String allowed, String lastUsed) {
    }

    /** The person's own apps (a part of their account page). */
    public record MyApps(String notice, List<MyApp> apps, String csrf) {
    }
}
