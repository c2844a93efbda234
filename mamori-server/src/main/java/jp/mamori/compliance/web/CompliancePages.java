package jp.mamori.compliance.web;

import jp.mamori.audit.Actor;
import jp.mamori.chart.JpDates;
import jp.mamori.compliance.Answers;
import jp.mamori.compliance.ComplianceException;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.EvidenceSource;
import jp.mamori.compliance.Framework;
import jp.mamori.compliance.Frameworks;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static jp.mamori.web.console.Console.Access.USER;

/**
 * The compliance console (安全管理の見える化, issue 20; GOV-16, GOV-28 … GOV-40): the checklists in force and their
 * versions, each item with its answer, dates, responsible party and live evidence, and an item page with the
 * checklist's advice, the answer form and the history.
 *
 * <p>Who: reading is for account administrators and whoever may read the audit console (the auditor role, which an
 * executive or an inspector is given for read-only access: least privilege, no write and no clinical content);
 * answering is for account administrators only. The rule is applied here, once per route, before any page code.
 */
public final class CompliancePages {
    static final String PATH = "/console/compliance";

    private final Frameworks frameworks;
    private final Answers answers;
    private final EvidenceSource evidence;
    private final Console console;
    private final ComplianceAccess access;
    private final JpDates dates;

    /**
     * @param reader who may read besides account administrators (the audit console's rule: the audit category with
     *               read)
     */
    public CompliancePages(Frameworks frameworks, Answers answers, EvidenceSource evidence, Console console,
                           Predicate<Sessions.Session> reader, ZoneId zone) {
        this.frameworks = frameworks;
        this.answers = answers;
        this.evidence = evidence;
        this.console = console;
        this.access = new ComplianceAccess(console, reader);
        this.dates = new JpDates(zone);
    }

    /**
     * A part of an item page that another pages class renders (the documents that answer the item, {@link
     * DocumentPages#itemPart}); null for nothing.
     */
    @FunctionalInterface
    public interface ItemPart {
        gg.jte.Content render(ConsoleRequest r, Framework fw, Framework.Item it) throws Exception;
    }

    private volatile ItemPart itemPart = (r, fw, it) -> null;

    /** Shows {@code part} on every item page, below the answer. */
    public CompliancePages itemPart(ItemPart part) {
        this.itemPart = part;
        return this;
    }

    private gg.jte.Content itemPart(ConsoleRequest r, Framework fw, Framework.Item it) {
        try {
            return itemPart.render(r, fw, it);
        } catch (Exception e) {
            return null; // the item page stands without it
        }
    }

    public void register() {
        console.route("GET", PATH, USER, false, access.read(r -> home(r)));
        console.route("GET", PATH + "/framework", USER, false, access.read(this::framework));
        console.route("GET", PATH + "/item", USER, false, access.read(r -> item(r, 200, null, null)));
        console.route("POST", PATH + "/answer", USER, false, access.write(this::answer));
    }

    static boolean mayAnswer(Sessions.Session s) {
        return ComplianceAccess.mayWrite(s);
    }

    private boolean en(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN;
    }

    private JpDates.Lang lang(ConsoleRequest r) {
        return en(r) ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    static String href(Framework fw) {
        return PATH + "/framework?id=" + enc(fw.id()) + "&v=" + enc(fw.version());
    }

    static String href(Framework fw, Framework.Item it) {
        return PATH + "/item?id=" + enc(fw.id()) + "&v=" + enc(fw.version()) + "&item=" + enc(it.id());
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private String title(ConsoleRequest r, Framework fw) {
        return en(r) && fw.titleEn() != null ? fw.titleEn() : fw.titleJa();
    }

    private String year(ConsoleRequest r, Framework fw) {
        return en(r) ? "FY" + fw.fiscalYear() : fw.fiscalYearJa();
    }

    private Reply home(ConsoleRequest r) {
        Messages t = r.messages();
        List<ComplianceViews.FrameworkRow> rows = new ArrayList<>();
        List<Framework> all = frameworks.all();
        for (Framework fw : all) {
            Map<String, Answers.Current> cur = answers.current(fw);
            int no = (int) cur.values().stream().filter(c -> c.entry().answer() == Answers.Answer.NO).count();
            boolean newest = frameworks.newest(fw.id()).map(n -> n.version().equals(fw.version())).orElse(false);
            rows.add(new ComplianceViews.FrameworkRow(title(r, fw), year(r, fw), fw.source().document(),
                    fw.items().size(), cur.size(), no, href(fw), newest));
        }
        List<String> refusals = frameworks.refusals().stream().map(Object::toString).toList();
        return console.page(r, 200, t.get("compliance.title"), "compliance/home.jte",
                new ComplianceViews.Home(rows, refusals, null));
    }

    private Framework frameworkOf(ConsoleRequest r) {
        return frameworks.find(r.param("id"), r.param("v")).orElse(null);
    }

    private Reply notFound(ConsoleRequest r) {
        return console.error(r, 404, "compliance.notFound", "compliance.notFound.message");
    }

    private Reply framework(ConsoleRequest r) {
        Framework fw = frameworkOf(r);
        if (fw == null) {
            return notFound(r);
        }
        Messages t = r.messages();
        Map<String, Answers.Current> cur = answers.current(fw);
        List<ComplianceViews.Section> sections = new ArrayList<>();
        for (Framework.Section s : fw.sections()) {
            List<ComplianceViews.ItemRow> rows = fw.items().stream().filter(i -> i.section().equals(s.id()))
                    .map(i -> row(r, fw, i, cur.get(i.id()))).toList();
            if (!rows.isEmpty()) {
                sections.add(new ComplianceViews.Section(en(r) && s.titleEn() != null ? s.titleEn() : s.titleJa(),
                        rows));
            }
        }
        long carried = cur.values().stream().filter(Answers.Current::carried).count();
        return console.page(r, 200, title(r, fw), "compliance/framework.jte", new ComplianceViews.Framework(
                title(r, fw), year(r, fw), fw.source().document(), sections, fw.items().size(), cur.size(),
                carried == 0 ? null : t.get("compliance.carried.count", carried), DashboardPages.packQuery(fw)));
    }

    /**
     * The item's title in the reader's language; empty where it only repeats the number (the catalogue's English
     * title is its ID, so that "AUTH-1" is not printed twice).
     */
    private String itemTitle(ConsoleRequest r, Framework.Item it) {
        String title = it.title(en(r));
        return title.equals(it.number()) ? "" : title;
    }

    private ComplianceViews.ItemRow row(ConsoleRequest r, Framework fw, Framework.Item it, Answers.Current c) {
        Messages t = r.messages();
        String answer = null;
        String cls = "";
        String when = null;
        String carried = null;
        if (c != null) {
            answer = answerText(r, c.entry().answer());
            cls = answerClass(c.entry().answer());
            when = t.get("compliance.checkedOn", dates.date(c.entry().checked(), lang(r)))
                    + (c.entry().target() == null ? "" : " · " + t.get("compliance.targetOn",
                    dates.date(c.entry().target(), lang(r))));
            if (c.carried()) {
                carried = t.get("compliance.carried", frameworks.find(fw.id(), c.fromVersion())
                        .map(o -> year(r, o)).orElse(c.fromVersion()));
            }
        }
        return new ComplianceViews.ItemRow(it.number(), itemTitle(r, it), it.text(en(r)), party(r, it.party()), answer,
                cls, when, carried, evidence(r, it), href(fw, it));
    }

    private List<ComplianceViews.EvidenceRow> evidence(ConsoleRequest r, Framework.Item it) {
        return evidenceRows(evidence, it, r.messages(), dates, lang(r));
    }

    /**
     * The live evidence of an item: each probe's newest result once (an item may map to several requirements one
     * probe answers), its status in words, its summary, when, and its detail link only when it is a console path (a
     * probe never makes the page link elsewhere). A source that fails shows nothing rather than breaking the page.
     */
    static List<ComplianceViews.EvidenceRow> evidenceRows(EvidenceSource source, Framework.Item it, Messages t,
                                                          JpDates dates, JpDates.Lang lang) {
        return source.forItem(it).stream().map(e -> evidenceRow(e, t, dates, lang)).toList();
    }

    /** One probe's evidence as a row: status in words and colour, summary, time, and a console-only detail link. */
    static ComplianceViews.EvidenceRow evidenceRow(Evidence e, Messages t, JpDates dates, JpDates.Lang lang) {
        String detail = e.detailPath() != null && e.detailPath().matches("/console/[A-Za-z0-9/_.?=&%-]{0,300}")
                ? e.detailPath() : null;
        return new ComplianceViews.EvidenceRow(t.get("compliance.evidence." + e.status().name()),
                switch (e.status()) {
                    case PASS -> "state-ok";
                    case PARTIAL, UNKNOWN -> "state-warn";
                    case FAIL -> "state-bad";
                }, e.summary(), dates.dateTime(e.at(), lang), detail);
    }

    static String answerClass(Answers.Answer a) {
        return switch (a) {
            case YES, NA -> "state-ok";
            case PARTIAL -> "state-warn";
            case NO -> "state-bad";
        };
    }

    private String answerText(ConsoleRequest r, Answers.Answer a) {
        return en(r) ? a.en : a.ja;
    }

    private String party(ConsoleRequest r, String party) {
        return r.messages().get("compliance.party." + switch (party) {
            case "医療機関" -> "institution";
            case "事業者" -> "vendor";
            default -> "joint";
        });
    }

    private Reply item(ConsoleRequest r, int status, String error, ComplianceViews.Form typed) {
        Framework fw = frameworkOf(r);
        Framework.Item it = fw == null ? null : fw.item(r.param("item")).orElse(null);
        if (it == null) {
            return notFound(r);
        }
        Messages t = r.messages();
        Map<String, Answers.Current> cur = answers.current(fw);
        Answers.Current c = cur.get(it.id());
        ComplianceViews.Form form = typed != null ? typed : c == null
                ? new ComplianceViews.Form("", LocalDate.now(dates.zone()).toString(), "", "")
                : new ComplianceViews.Form(c.entry().answer().code, c.carried() ? LocalDate.now(dates.zone()).toString()
                : c.entry().checked().toString(), c.entry().target() == null ? "" : c.entry().target().toString(),
                c.entry().note() == null ? "" : c.entry().note());
        List<ComplianceViews.History> history = answers.history(fw, it.id()).stream().map(e ->
                new ComplianceViews.History(answerText(r, e.answer()), answerClass(e.answer()),
                        dates.date(e.checked(), lang(r)), e.target() == null ? "" : dates.date(e.target(), lang(r)),
                        e.note() == null ? "" : e.note(), e.reviewerName(), dates.dateTime(e.at(), lang(r)))).toList();
        Map<String, String> texts = frameworks.requirementTexts(en(r));
        List<ComplianceViews.Requirement> reqs = it.requirements().stream().map(q -> new ComplianceViews.Requirement(q,
                texts.getOrDefault(q, ""))).toList();
        String section = fw.section(it.section()).map(s -> en(r) && s.titleEn() != null ? s.titleEn() : s.titleJa())
                .orElse("");
        String notice = "saved".equals(r.param("done")) && error == null ? t.get("compliance.saved") : null;
        String heading = (it.number() + " " + itemTitle(r, it)).strip();
        return console.page(r, status, heading, "compliance/item.jte", new ComplianceViews.Item(
                title(r, fw), year(r, fw), href(fw), fw.id(), fw.version(), it.id(), it.number(), section,
                it.category(), itemTitle(r, it), it.text(en(r)), party(r, it.party()), it.examples(), it.risks(),
                it.references(), reqs, row(r, fw, it, c), mayAnswer(r.session()), form, history,
                Answers.fiscalStart(fw.fiscalYear()).toString(), Answers.fiscalEnd(fw.fiscalYear()).toString(), error,
                notice, r.csrf(), itemPart(r, fw, it)));
    }

    private Reply answer(ConsoleRequest r) {
        Framework fw = frameworkOf(r);
        Framework.Item it = fw == null ? null : fw.item(r.param("item")).orElse(null);
        if (it == null) {
            return notFound(r);
        }
        String note = r.param("note");
        ComplianceViews.Form typed = new ComplianceViews.Form(r.param("answer"), clip(r.param("checked"), 40),
                clip(r.param("target"), 40), clip(note, Answers.MAX_NOTE + 100));
        try {
            answers.answer(Actor.of(r.session(), r.address()), fw, it.id(), r.param("answer"), r.param("checked"),
                    r.param("target"), note);
        } catch (ComplianceException e) {
            return item(r, 400, e.getMessage(), typed);
        }
        return Console.redirect(href(fw, it) + "&done=saved");
    }

    private static String clip(String s, int max) {
        return s == null ? "" : s.length() > max ? s.substring(0, max) : s;
    }
}
