package jp.mamori.clinical;

import jp.mamori.web.console.Console;

import static jp.mamori.web.console.Console.Access.USER;

/**
 * The clinician's pages, the clinical capability's entry: patient search ({@link PatientSearchPages}), the chart
 * with its banner ({@link ChartPages}), documents with their history and differences ({@link DocumentPages}),
 * writing SOAP progress notes (draft, 確定保存, amendment, entered-in-error; {@link NotePages}) and printing
 * ({@link PrintPages}). Every page gets its patient data through {@link Clinical#run}, which records one audit
 * entry per page before it is rendered. URLs carry only opaque ids (resource ids, version numbers); search terms
 * travel in POST bodies.
 */
public final class ClinicalPages {
    private final PageSupport pages;

    public ClinicalPages(Clinical clinical, Console console, java.time.ZoneId zone) {
        this(clinical, console, zone, null);
    }

    /**
     * With the institution seal every printout is sealed with (PAdES B-T, issue 17); {@code seal} null: printouts are
     * served unsealed, as the start-up's deviations say.
     */
    public ClinicalPages(Clinical clinical, Console console, java.time.ZoneId zone,
                         jp.mamori.signatures.PdfSeal seal) {
        this.pages = new PageSupport(clinical, console, zone, seal);
    }

    /** Lets 確定保存 sign with the person's key (issue 17); call before {@link #register}. */
    public ClinicalPages signing(jp.mamori.signatures.PersonSigning signing) {
        pages.signing = signing;
        return this;
    }

    /** Lets the pages name the people who stored versions (the account ledger's display names); call before {@link #register}. */
    public ClinicalPages accountNames(java.util.function.Function<java.util.UUID, String> names) {
        pages.accountNames = names;
        return this;
    }

    /** The institution's name printouts carry on every page; call before {@link #register}. */
    public ClinicalPages institution(String name) {
        pages.institution = name;
        return this;
    }

    /** Registers every clinical page with the console. */
    public void register() {
        pages.console.clinicalMounted();
        IdPaths patients = new IdPaths("/console/patients/", pages);
        IdPaths documents = new IdPaths("/console/documents/", pages);
        new PatientSearchPages(pages).register();
        new ChartPages(pages).register(patients);
        new ResultsPages(pages).register(patients);
        new DocumentPages(pages).register(documents);
        new NotePages(pages).register(patients, documents);
        new ProxyPages(pages).register(patients);
        new PrintPages(pages).register(patients, documents);
        new Worklist(pages).register();
        pages.console.routePrefix("GET", "/console/patients/", USER, false, patients::serve);
        pages.console.routePrefix("GET", "/console/documents/", USER, false, documents::serve);
    }
}
