package jp.mamori.compliance.web;

import java.util.List;

/**
 * The view models of the vendor deliverables page ({@link VendorPages}; template {@code vendor/home.jte}). Public
 * because the compiled templates live in their own package; everything is formatted for a person (times in JST,
 * statuses in words).
 */
public final class VendorViews {
    private VendorViews() {
    }

    /**
     * The page.
     *
     * @param sbomAt      when the build made its SBOM (JST), or null when this build has none
     * @param components  how many components the SBOM names
     * @param notable     the components an inspector asks about first (PostgreSQL, the font, the main libraries)
     * @param eolStatus   the end-of-support probe's summary in the page's language, and its CSS class
     * @param eol         every component of the end-of-support list
     * @param advStatus   the advisories probe's summary
     * @param imports     the advisory imports, newest first
     * @param matches     the advisories affecting this build, open ones first
     * @param error       why a part could not be read ("日本語 / English"), or null
     */
    public record Home(String sbomAt, int components, List<Notable> notable, String eolStatus, String eolCss,
                       List<Eol> eol, String advStatus, String advCss, List<Import> imports, List<Match> matches,
                       String error) {
    }

    /** One component of the SBOM: name, version, licence, and its SHA-256 (files only) or purl. */
    public record Notable(String name, String version, String licence, String detail) {
    }

    /** One row of the end-of-support list. */
    public record Eol(String name, String version, String end, String left, String state, String css, String source) {
    }

    /** One import of advisories. */
    public record Import(String at, String kind, String file, int advisories, String by) {
    }

    /** One advisory that affects a component. */
    public record Match(String state, boolean open, String id, String severity, String component, String version,
                        String summary) {
    }
}
