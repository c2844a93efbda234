package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;
import jp.mamori.chart.JpDates;
import jp.mamori.clinical.Clinical.Res;
import jp.mamori.clinical.Clinical.Unit;
import jp.mamori.kernel.FhirError;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What the clinician's pages share: the services they use, the patient banner, the refusal and error pages, and
 * the parsing of ids and version numbers.
 */
final class PageSupport {
    /** A resource id in a URL or a form. */
    static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

    final Clinical clinical;
    final Console console;
    final JpDates dates;
    /** The institution seal printouts are sealed with; null when none is configured (a deviation). */
    final jp.mamori.signatures.PdfSeal seal;

    /**
     * The display name of an account by its id (from the account ledger), or null; set by the server, so that a
     * version's history names who stored it (issue 22) instead of an internal id.
     */
    java.util.function.Function<java.util.UUID, String> accountNames;

    /** The display name of account {@code id} (a UUID as text), or null when unknown or not a UUID. */
    String accountName(String id) {
        if (accountNames == null) {
            return null;
        }
        try {
            return accountNames.apply(java.util.UUID.fromString(id));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * The institution's name every printed page carries (STORE-1 見読性 on paper): {@code serve --institution-name},
     * or this host's name when none is set (as the seal names the place); null when the pages were made without one.
     */
    String institution;

    /** Signing with a person's key at 確定保存 (issue 17), or null when the server has none set up. */
    jp.mamori.signatures.PersonSigning signing;

    /**
     * The person's signing key as they read it, when they have one: the forms that lock a note then ask for its PIN;
     * null otherwise.
     */
    String signingKey(ConsoleRequest r) {
        return signing == null ? null : signing.key(r.session().accountId())
                .map(jp.mamori.signatures.SigningKeyRegistry.Registered::describe).orElse(null);
    }

    PageSupport(Clinical clinical, Console console, java.time.ZoneId zone, jp.mamori.signatures.PdfSeal seal) {
        this.clinical = clinical;
        this.console = console;
        this.dates = new JpDates(zone);
        this.seal = seal;
    }

    static JpDates.Lang jl(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.JA ? JpDates.Lang.JA : JpDates.Lang.EN;
    }

    /** A page of the clinical templates ({@code clinical/NAME.jte}) in the console layout. */
    Reply page(ConsoleRequest r, int status, String title, String template, Object view) {
        return console.page(r, status, title, "clinical/" + template + ".jte", view);
    }

    Reply notFound(ConsoleRequest r) {
        return page(r, 404, r.messages().get("clinical.notFound.title"), "message",
                new ClinicalViews.Message(r.messages().get("clinical.notFound"), null));
    }

    /** An error message, with a link back to the document when there is one. */
    Reply error(ConsoleRequest r, int status, String title, String text, String documentId) {
        return page(r, status, title, "message", new ClinicalViews.Message(text, documentId));
    }

    /**
     * The refusal page: the same for a patient that does not exist and one the person may not see, so the answer
     * reveals nothing; break-glass is offered for the id either way (the request form decides who may start it).
     */
    Reply refused(ConsoleRequest r, FhirError e, String patientId) {
        if (e.status() != 403 && e.status() != 404 && e.status() != 410) {
            throw e;
        }
        // a vendor's maintenance session is never offered break-glass: its reach is the work order's, nothing more
        // ... nor a partner clinician of another institution: its reach is what was shared with it (issue 21)
        boolean vendor = jp.mamori.maintenance.MaintenanceGate.applies(r.session())
                || jp.mamori.access.PartnerShares.applies(r.session());
        return page(r, 403, r.messages().get("clinical.refused.title"), "refused", new ClinicalViews.Refused(
                vendor ? null : patientId));
    }

    /**
     * The patient banner every chart page shows.
     *
     * @param allergies  the patient's allergies, or null when the page does not show them
     * @param conditions the patient's conditions, or null likewise
     */
    ClinicalViews.Banner banner(ConsoleRequest r, Res patient, List<Res> allergies, List<Res> conditions,
                                Set<String> labels) {
        JsonNode j = patient.json();
        LocalDate birth = FhirText.birthDate(j);
        LocalDate today = dates.localDate(clinical.clock().instant());
        String age = birth == null || birth.isAfter(today) ? "" : r.messages().get("clinical.banner.born",
                JpDates.ageText(birth, today, jl(r)), dates.date(birth, jl(r)), dates.wareki(birth, JpDates.Lang.JA));
        List<ClinicalViews.Alert> allergic = new ArrayList<>();
        if (allergies != null) {
            for (Res a : allergies) {
                if (FhirText.active(a.json())) {
                    allergic.add(new ClinicalViews.Alert(FhirText.concept(a.json().path("code")),
                            a.json().path("criticality").asText("").equals("high")));
                }
            }
        }
        List<String> infections = new ArrayList<>();
        if (conditions != null) {
            for (Res c : conditions) {
                String icd = FhirText.firstCode(c.json().path("code"), "http://hl7.org/fhir/sid/icd-10");
                if (FhirText.active(c.json()) && (icd.startsWith("A") || icd.startsWith("B"))) {
                    infections.add(FhirText.concept(c.json().path("code")));
                }
            }
        }
        return new ClinicalViews.Banner(FhirText.name(j), FhirText.kana(j), FhirText.sex(j, r.lang()), age,
                FhirText.identifier(j), allergic, infections,
                labels.stream().map(l -> r.messages().code("clinical.label", l)).distinct().toList(),
                clinical.underBreakGlass(r, patient.stored().id()));
    }

    /** A version number from a form or a query, or null. */
    static Integer version(String s) {
        if (s == null || !s.matches("[0-9]{1,9}")) {
            return null;
        }
        return Integer.valueOf(s);
    }

    /** The Patient a note is about, read for the banner (null when the note names none). */
    static Res patientOf(Unit u, Res doc) {
        String ref = doc.json().path("subject").path("reference").asText("");
        return ref.startsWith("Patient/") ? u.read("Patient", ref.substring("Patient/".length())) : null;
    }

    /** Numbers as written: no exponent, no trailing zeros. */
    static String num(double v) {
        return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }
}
