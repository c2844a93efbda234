package jp.mamori.access.web;

import jp.mamori.access.AccessException;
import jp.mamori.access.Category;
import jp.mamori.access.PartnerShares;
import jp.mamori.access.PersonContext;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.PatientDirectory;
import jp.mamori.audit.Purpose;
import jp.mamori.chart.JpDates;
import jp.mamori.identity.Account;
import jp.mamori.identity.Identity;
import jp.mamori.identity.PartnerInstitutions;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * The partner pages (地域医療連携; issue 21, AUTH-11):
 * <ul>
 *   <li>「連携先と共有」({@code /console/partner-shares?patient=ID}), from the patient's chart: the attending clinician
 *   shares the patient with one partner clinician, on a referral or consent, until an end date, and sees and revokes
 *   the patient's shares. Who may share is decided by {@link PartnerShares#create}; the page shows nothing of the
 *   patient to anyone who may not.</li>
 *   <li>A partner's home: the patients shared with them and until when, each a link to the chart.</li>
 *   <li>The reviewers' report ({@code /console/admin/partners}): the shares in force, ending soon, ended or revoked,
 *   and every access by a partner in the period (who, institution, patient, when, under which share), printable.</li>
 * </ul>
 */
public final class PartnerPages {
    static final String PATH = "/console/partner-shares";
    static final String REPORT = "/console/admin/partners";
    /** The most accesses the report lists for one period (a narrower period shows the rest). */
    static final int MAX_ACCESSES = 2000;

    private final Identity id;
    private final PartnerShares shares;
    private final Function<Sessions.Session, PersonContext> contexts;
    private final PatientDirectory patients;
    private final AuditReports reports;
    private final Console console;
    private final JpDates dates = new JpDates(Html.JST);

    public PartnerPages(Identity id, PartnerShares shares, Function<Sessions.Session, PersonContext> contexts,
                        PatientDirectory patients, AuditReports reports, Console console) {
        this.id = id;
        this.shares = shares;
        this.contexts = contexts;
        this.patients = patients;
        this.reports = reports;
        this.console = console;
    }

    public void register() {
        console.route("GET", PATH, USER, false, r -> sharePage(r, 200, null, null));
        console.route("POST", PATH + "/new", USER, false, this::create);
        console.route("POST", PATH + "/revoke", USER, false, this::revoke);
        console.route("GET", REPORT, ADMIN, false, this::report);
        console.homePart(this::home);
    }

    private Reply refuse(ConsoleRequest r, int status, String title, String message) {
        return console.page(r.lang(), status, title, r, Html.message("error", message));
    }

    private JpDates.Lang lang(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    // ---- 「連携先と共有」 ------------------------------------------------------------------------------------

    private Reply sharePage(ConsoleRequest r, int status, String notice, String error) {
        Messages t = r.messages();
        String patient = r.param("patient").strip();
        PersonContext who = contexts.apply(r.session());
        String refusal = shares.mayShare(who, patient);
        if (refusal != null) {
            return refuse(r, 403, t.get("access.partner.share.title"), refusal);
        }
        PatientDirectory.Demographics d = patients.byIds(List.of(patient)).get(patient);
        if (d == null) {
            return refuse(r, 404, t.get("access.partner.share.title"), t.get("access.partner.share.noPatient"));
        }
        patients.recordShown(List.of(d), r.session(), r.address(), Purpose.TREATMENT, "partner-shares");
        Map<UUID, PartnerInstitutions.Institution> institutions = id.accounts().partnerInstitutions();
        List<PartnerViews.Choice> partners = new ArrayList<>();
        String chosen = r.param("partner");
        for (Map.Entry<UUID, PartnerInstitutions.Institution> e : institutions.entrySet()) {
            Optional<Account> a = id.accounts().find(e.getKey());
            if (a.isEmpty() || a.get().status() == Account.Status.RETIRED
                    || a.get().status() == Account.Status.SUSPENDED) {
                continue;
            }
            partners.add(new PartnerViews.Choice(e.getKey().toString(), a.get().displayName() + "（"
                    + e.getValue().label() + "）", e.getKey().toString().equals(chosen)));
        }
        List<PartnerViews.Choice> bases = new ArrayList<>();
        for (String b : PartnerShares.BASES) {
            bases.add(new PartnerViews.Choice(b, t.get("access.partner.basis." + b), r.param("basis").equals(b)));
        }
        boolean posted = r.method().equals("POST") && error != null;
        Set<String> cats = posted ? new HashSet<>(r.params("category")) : new HashSet<>(PartnerShares.DEFAULT_CATEGORIES);
        List<PartnerViews.Choice> categories = new ArrayList<>();
        for (Category c : shares.shareable()) {
            categories.add(new PartnerViews.Choice(c.code(), r.lang().t(c.nameJa(), c.nameEn()), cats.contains(c.code())
                    || c.code().equals("demographics")));
        }
        Set<String> labs = posted ? new HashSet<>(r.params("label")) : Set.of();
        List<PartnerViews.Choice> labels = new ArrayList<>();
        for (String l : new java.util.TreeSet<>(shares.labels())) {
            labels.add(new PartnerViews.Choice(l, t.get("access.partner.label." + l), labs.contains(l)));
        }
        LocalDate today = shares.today();
        String end = posted ? r.param("end_date") : today.plusDays(90).toString();
        List<PartnerViews.ShareRow> rows = rows(r, shares.ofPatient(patient), false);
        return Console.status(console.page(r, status, t.get("access.partner.share.title"), "access/partnerShare.jte",
                new PartnerViews.SharePage(notice, error, AccessPages.label(r, d), partners, bases,
                        posted ? r.param("basis_ref") : "", end, today.toString(),
                        today.plusDays(PartnerShares.MAX_DAYS).toString(), categories, labels, rows, partners.isEmpty(),
                        r.csrf())), status);
    }

    private Reply create(ConsoleRequest r) {
        Messages t = r.messages();
        try {
            UUID partner;
            try {
                partner = UUID.fromString(r.param("partner").strip());
            } catch (IllegalArgumentException e) {
                throw new AccessException(t.get("access.partner.share.choosePartner"));
            }
            LocalDate end;
            try {
                end = LocalDate.parse(r.param("end_date").strip());
            } catch (DateTimeParseException e) {
                throw new AccessException(t.get("access.partner.share.badDate"));
            }
            if (r.params("category").size() > 20 || r.params("label").size() > 20) {
                throw new AccessException(t.get("access.partner.share.tooMany"));
            }
            PartnerShares.Share s = shares.create(contexts.apply(r.session()), r.session().principal(),
                    new PartnerShares.NewShare(partner, r.param("patient").strip(), r.param("basis"),
                            r.param("basis_ref"), end, new LinkedHashSet<>(r.params("category")),
                            new LinkedHashSet<>(r.params("label"))));
            return sharePage(r, 200, t.get("access.partner.share.created", s.number(), dates.date(s.endsAt().minusSeconds(1),
                    lang(r))), null);
        } catch (AccessException e) {
            return sharePage(r, 400, null, e.getMessage());
        }
    }

    private Reply revoke(ConsoleRequest r) {
        Messages t = r.messages();
        try {
            UUID share;
            try {
                share = UUID.fromString(r.param("share").strip());
            } catch (IllegalArgumentException e) {
                throw new AccessException(t.get("access.partner.share.noShare"));
            }
            PartnerShares.Share s = shares.revoke(contexts.apply(r.session()), r.session().principal(), share,
                    r.param("reason"));
            return r.param("from").equals("report") ? Console.redirect(REPORT)
                    : sharePage(r, 200, t.get("access.partner.share.revoked", s.number()), null);
        } catch (AccessException e) {
            if (r.param("from").equals("report")) {
                return refuse(r, 400, t.get("access.partner.report.title"), e.getMessage());
            }
            return sharePage(r, 400, null, e.getMessage());
        }
    }

    // ---- a partner's home ----------------------------------------------------------------------------------

    gg.jte.Content home(ConsoleRequest r) {
        if (!PartnerShares.applies(r.session())) {
            return null;
        }
        PersonContext who = contexts.apply(r.session());
        Instant now = console.clock().instant();
        List<PersonContext.Share> mine = who.partnerShares(now);
        Map<String, PatientDirectory.Demographics> names = patients.byIds(mine.stream()
                .map(PersonContext.Share::patientId).toList());
        patients.recordShown(names.values(), r.session(), r.address(), Purpose.TREATMENT, "partner-home");
        List<PartnerViews.ShareRow> rows = new ArrayList<>();
        Messages t = r.messages();
        for (PersonContext.Share s : mine) {
            PatientDirectory.Demographics d = names.get(s.patientId());
            rows.add(new PartnerViews.ShareRow(s.id().toString(), s.number(), "", "", "", "",
                    shares.categoryNames(List.copyOf(s.categories())), labelNames(r, s.labels()),
                    t.get("access.partner.until", dates.date(s.until().minusSeconds(1), lang(r))), "", endingClass(s.until(), now),
                    "", "", false, "/console/patients/" + s.patientId(), d == null ? t.get("access.partner.patient.unknown")
                    : d.name() + "（" + t.get("access.patientId") + " " + d.patientId() + "）"));
        }
        return Templates.content("access/partnerHome.jte", t, new PartnerViews.PartnerHome(who.partnerInstitution(),
                rows));
    }

    private String endingClass(Instant until, Instant now) {
        return until.isBefore(now.plus(PartnerShares.ENDING_SOON_DAYS, ChronoUnit.DAYS)) ? "state-warn" : "state-ok";
    }

    private String labelNames(ConsoleRequest r, Set<String> labels) {
        List<String> out = new ArrayList<>();
        for (String l : new java.util.TreeSet<>(labels)) {
            out.add(r.messages().get("access.partner.label." + l));
        }
        return String.join("・", out);
    }

    // ---- the reviewers' report -----------------------------------------------------------------------------

    private Reply report(ConsoleRequest r) {
        Messages t = r.messages();
        LocalDate today = shares.today();
        LocalDate from;
        LocalDate to;
        try {
            from = r.param("from").isBlank() ? today.minusDays(30) : LocalDate.parse(r.param("from").strip());
            to = r.param("to").isBlank() ? today : LocalDate.parse(r.param("to").strip());
        } catch (DateTimeParseException e) {
            return refuse(r, 400, t.get("access.partner.report.title"), t.get("access.partner.share.badDate"));
        }
        if (to.isBefore(from) || from.isBefore(to.minusDays(366))) {
            return refuse(r, 400, t.get("access.partner.report.title"), t.get("access.partner.report.badPeriod"));
        }
        Instant now = console.clock().instant();
        List<PartnerShares.Share> all = shares.forReview(90);
        List<PartnerViews.ShareRow> shareRows = rows(r, all, true);
        int endingSoon = (int) all.stream().filter(s -> s.state(now) == PartnerShares.State.ACTIVE
                && s.endsAt().isBefore(now.plus(PartnerShares.ENDING_SOON_DAYS, ChronoUnit.DAYS))).count();
        // every access by every partner account in the period, from the trail, with the share in force at that time
        Map<UUID, PartnerInstitutions.Institution> institutions = id.accounts().partnerInstitutions();
        Instant start = from.atStartOfDay(Html.JST).toInstant();
        Instant end = to.plusDays(1).atStartOfDay(Html.JST).toInstant();
        List<AuditReports.Row> rows = new ArrayList<>();
        Map<String, UUID> accountOf = new HashMap<>();
        Map<UUID, List<PartnerShares.Share>> sharesOf = new HashMap<>();
        boolean truncated = false;
        for (UUID partner : institutions.keySet()) {
            List<AuditReports.Row> mine = reports.actorActivity("account:" + partner, start, end, MAX_ACCESSES + 1);
            if (mine.size() > MAX_ACCESSES) {
                truncated = true;
                mine = mine.subList(0, MAX_ACCESSES);
            }
            for (AuditReports.Row x : mine) {
                accountOf.put(x.actor(), partner);
            }
            rows.addAll(mine);
            sharesOf.put(partner, shares.ofPartner(partner));
        }
        rows.sort(Comparator.comparing(AuditReports.Row::at).reversed());
        if (rows.size() > MAX_ACCESSES) {
            truncated = true;
            rows = rows.subList(0, MAX_ACCESSES);
        }
        Set<String> patientIds = new LinkedHashSet<>();
        rows.forEach(x -> patientIds.addAll(x.patients()));
        Map<String, PatientDirectory.Demographics> names = patients.byIds(patientIds);
        List<PartnerViews.AccessRow> accesses = new ArrayList<>();
        for (AuditReports.Row x : rows) {
            UUID partner = accountOf.get(x.actor());
            PartnerInstitutions.Institution inst = institutions.get(partner);
            List<String> who = new ArrayList<>();
            Set<String> used = new LinkedHashSet<>();
            for (String p : x.patients()) {
                PatientDirectory.Demographics d = names.get(p);
                who.add(d == null ? p : d.name() + "（" + d.patientId() + "）");
                for (PartnerShares.Share s : sharesOf.getOrDefault(partner, List.of())) {
                    if (s.patientId().equals(p) && s.inForceAt(x.at())) {
                        used.add(t.get("access.partner.shareNo", s.number()));
                    }
                }
            }
            accesses.add(new PartnerViews.AccessRow(dates.dateTime(x.at(), lang(r)), x.display() == null ? x.actor()
                    : x.display(), inst == null ? "" : inst.label(), who.isEmpty() ? "—" : String.join("、", who),
                    action(r, x.action()), t.get("access.partner.outcome." + (x.outcome().equals("success") ? "success"
                    : "refused")), !x.outcome().equals("success"), used.isEmpty() ? "—" : String.join("、", used)));
        }
        return console.page(r, 200, t.get("access.partner.report.title"), "access/partnerReport.jte",
                new PartnerViews.Report(from.toString(), to.toString(), dates.date(from, lang(r)),
                        dates.date(to, lang(r)), shareRows, endingSoon, accesses, truncated,
                        dates.dateTime(now, lang(r)), r.csrf()));
    }

    private static String action(ConsoleRequest r, String code) {
        return switch (code) {
            case "read", "vread" -> r.messages().get("access.partner.action.read");
            case "search" -> r.messages().get("access.partner.action.search");
            default -> code.startsWith("auth.") ? r.messages().get("access.partner.action.auth") : code;
        };
    }

    private List<PartnerViews.ShareRow> rows(ConsoleRequest r, List<PartnerShares.Share> list, boolean withPatient) {
        Messages t = r.messages();
        Instant now = console.clock().instant();
        Map<String, PatientDirectory.Demographics> names = withPatient
                ? patients.byIds(list.stream().map(PartnerShares.Share::patientId).toList()) : Map.of();
        Map<UUID, PartnerInstitutions.Institution> institutions = id.accounts().partnerInstitutions();
        List<PartnerViews.ShareRow> out = new ArrayList<>();
        for (PartnerShares.Share s : list) {
            PartnerShares.State st = s.state(now);
            String partner = id.accounts().find(s.partner()).map(Account::displayName).orElse("—");
            PartnerInstitutions.Institution inst = institutions.get(s.partner());
            String cls = switch (st) {
                case ACTIVE -> endingClass(s.endsAt(), now);
                case PENDING -> "state-ok";
                default -> "muted";
            };
            String state = r.lang().t(st.ja, st.en) + (st == PartnerShares.State.ACTIVE && cls.equals("state-warn")
                    ? t.get("access.partner.endingSoon") : "");
            String created = dates.dateTime(s.createdAt(), lang(r)) + " " + id.accounts().find(s.createdBy())
                    .map(Account::displayName).orElse("");
            String revoked = s.revokedAt() == null ? "" : dates.dateTime(s.revokedAt(), lang(r)) + " "
                    + id.accounts().find(s.revokedBy()).map(Account::displayName).orElse("") + "：" + s.revokeReason();
            PatientDirectory.Demographics d = names.get(s.patientId());
            out.add(new PartnerViews.ShareRow(s.id().toString(), s.number(), partner, inst == null ? "" : inst.label(),
                    t.get("access.partner.basis." + s.basis()), s.basisRef(), shares.categoryNames(s.categories()),
                    labelNames(r, Set.copyOf(s.labels())), dates.date(s.startsAt(), lang(r)) + " 〜 "
                    + dates.date(s.endsAt().minusSeconds(1), lang(r)), state, cls, created, revoked,
                    st == PartnerShares.State.ACTIVE || st == PartnerShares.State.PENDING,
                    PATH + "?patient=" + s.patientId(), d == null ? s.patientId() : d.name() + "（" + d.patientId() + "）"));
        }
        return out;
    }
}
