package jp.mamori.compliance.web;

import jp.mamori.chart.JpDates;
import jp.mamori.compliance.Advisories;
import jp.mamori.compliance.EndOfSupport;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.Sbom;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static jp.mamori.web.console.Console.Access.ADMIN;

/**
 * Mamori's own deliverables as a vendor, {@code /console/admin/vendor} (issue 20; VULN-2, VULN-4, VULN-6): for the
 * administrators, the build's SBOM (with a download of the CycloneDX JSON), the end-of-support list judged for this
 * server, and the imported vulnerability advisories that affect it. Read only: advisories are imported on the server
 * with {@code mamori advisories import}, whose file never passes through a browser.
 */
public final class VendorPages {
    private static final Logger log = LoggerFactory.getLogger(VendorPages.class);
    static final String PATH = "/console/admin/vendor";

    private final Optional<Sbom> sbom;
    private final EndOfSupport eol;
    private final Advisories advisories;
    private final Console console;
    private final JpDates dates;
    private final Clock clock;

    public VendorPages(Optional<Sbom> sbom, EndOfSupport eol, Advisories advisories, Console console, ZoneId zone,
                       Clock clock) {
        this.sbom = sbom;
        this.eol = eol;
        this.advisories = advisories;
        this.console = console;
        this.dates = new JpDates(zone);
        this.clock = clock;
    }

    public void register() {
        console.route("GET", PATH, ADMIN, false, this::home);
        console.route("GET", PATH + "/sbom.json", ADMIN, false, this::download);
        console.waiting(this::waiting);
    }

    /** The administrator's home: imported advisories that affect this build and no VEX closes (VULN-6). */
    List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!r.session().hasRole(jp.mamori.identity.Accounts.ADMIN_ROLE)) {
            return List.of();
        }
        try {
            long open = advisories.matches().stream().filter(Advisories.Match::open).count();
            return open == 0 ? List.of() : List.of(new Console.Waiting(r.messages().get("vendor.waiting"), open, PATH));
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    private Reply download(ConsoleRequest r) throws IOException {
        try (InputStream in = VendorPages.class.getClassLoader().getResourceAsStream(Sbom.RESOURCE)) {
            if (in == null) {
                return Console.redirect(PATH);
            }
            return Reply.of(200, "application/vnd.cyclonedx+json", in.readAllBytes())
                    .header("Content-Disposition", "attachment; filename=\"mamori-sbom.cdx.json\"");
        }
    }

    private Reply home(ConsoleRequest r) {
        Messages t = r.messages();
        JpDates.Lang lang = r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
        Instant now = clock.instant();
        String error = null;

        String sbomAt = null;
        List<VendorViews.Notable> notable = new ArrayList<>();
        int count = 0;
        if (sbom.isPresent()) {
            Sbom s = sbom.get();
            count = s.components().size();
            try {
                sbomAt = dates.dateTimeWithZone(Instant.parse(s.timestamp()), lang);
            } catch (RuntimeException e) {
                sbomAt = "—";
            }
            for (Sbom.Component c : s.components()) {
                boolean pg = c.name().equals("postgresql") && c.group().isEmpty();
                if (pg || c.type().equals("file")) {
                    notable.add(new VendorViews.Notable(pg ? "PostgreSQL (" + c.bomRef().replaceAll(".*:(.*)@.*", "$1")
                            + ")" : c.name(), c.version(), String.join(", ", c.licenses()),
                            c.sha256() != null ? "SHA-256 " + c.sha256() : c.cpe()));
                }
            }
            for (String[] m : List.of(new String[] {"ca.uhn.hapi.fhir", "hapi-fhir-base"},
                    new String[] {"org.eclipse.jetty", "jetty-server"},
                    new String[] {"org.bouncycastle", "bcprov-jdk18on"})) {
                s.maven(m[0], m[1]).ifPresent(c -> notable.add(new VendorViews.Notable(c.label(), c.version(),
                        String.join(", ", c.licenses()), c.purlBase())));
            }
        }

        List<VendorViews.Eol> rows = new ArrayList<>();
        Evidence eolEvidence = eol.evaluate(now);
        for (EndOfSupport.Entry e : eol.report(now.atZone(dates.zone()).toLocalDate())) {
            String state = t.get("vendor.state." + e.status().name().toLowerCase(java.util.Locale.ROOT));
            String left = e.daysLeft() == null ? "—" : e.daysLeft() < 0 ? t.get("vendor.eol.ago", -e.daysLeft())
                    : t.get("vendor.eol.days", e.daysLeft());
            String end = e.end() == null ? (e.status() == Evidence.Status.PASS ? t.get("vendor.eol.noneAnnounced")
                    : t.get("vendor.eol.unknown")) : dates.date(e.end(), lang)
                    + ("at-least".equals(e.certainty()) ? t.get("vendor.eol.atLeast") : "");
            rows.add(new VendorViews.Eol(lang == JpDates.Lang.EN ? e.nameEn() : e.nameJa(),
                    e.version() == null ? "—" : e.version(), end, left, state, css(e.status()), e.source()));
        }

        List<VendorViews.Import> imports = new ArrayList<>();
        List<VendorViews.Match> matches = new ArrayList<>();
        Evidence advEvidence = advisories.evaluate(now);
        try {
            for (Advisories.Imported i : advisories.imports().reversed()) {
                imports.add(new VendorViews.Import(dates.dateTimeWithZone(i.at(), lang), i.kind().toUpperCase(
                        java.util.Locale.ROOT), i.name(), i.advisories(), i.by()));
            }
            for (Advisories.Match m : advisories.matches()) {
                String ids = m.aliases().isEmpty() ? m.id() : m.id() + " (" + String.join(", ", m.aliases()) + ")";
                matches.add(new VendorViews.Match(m.open() ? t.get("vendor.adv.open")
                        : t.get("vendor.adv.closed", m.closedBy()), m.open(), ids, severity(t, m.severity()),
                        m.component().label(),
                        m.component().version(), m.summary()));
            }
        } catch (IOException | RuntimeException e) {
            log.warn("vendor page: cannot read the imported advisories", e);
            error = t.get("vendor.error.advisories");
        }
        VendorViews.Home v = new VendorViews.Home(sbomAt, count, notable, inLanguage(eolEvidence.summary(), lang),
                css(eolEvidence.status()), rows, inLanguage(advEvidence.summary(), lang), css(advEvidence.status()),
                imports, matches, error);
        return console.page(r, 200, t.get("vendor.title"), "vendor/home.jte", v);
    }

    /** OSV's and CycloneDX's severity words in the page's language; a CVSS vector or another word as it is. */
    private static String severity(Messages t, String s) {
        String k = s.toLowerCase(java.util.Locale.ROOT);
        return switch (k) {
            case "critical", "high", "moderate", "medium", "low" -> t.get("vendor.sev." + k);
            default -> s;
        };
    }

    /** The part of a "日本語 / English" summary in the page's language. */
    private static String inLanguage(String summary, JpDates.Lang lang) {
        int cut = summary.indexOf(" / ");
        if (cut < 0) {
            return summary;
        }
        return lang == JpDates.Lang.EN ? summary.substring(cut + 3) : summary.substring(0, cut);
    }

    private static String css(Evidence.Status s) {
        return switch (s) {
            case PASS -> "state-ok";
            case PARTIAL -> "state-warn";
            case FAIL -> "state-bad";
            case UNKNOWN -> "";
        };
    }
}
