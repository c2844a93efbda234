package jp.mamori.compliance.web;

import jp.mamori.chart.JpDates;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.GuidelineMapping;
import jp.mamori.compliance.ServiceSpecification;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static jp.mamori.web.console.Console.Access.USER;

/**
 * Mamori's サービス仕様適合開示書 (SDS) in the console, {@code /console/compliance/sds}, and as CSV (issue 20; GOV-36,
 * GOV-39): generated from the running server's configuration, the requirement → code → test mapping and the live
 * probes ({@link ServiceSpecification}). Who: the compliance console's readers (account administrators and readers of
 * the audit console: the executive, the inspector, the vendor's reviewer given the auditor role); read only. Opening
 * the CSV is an audit entry of the reader through the console's own page log like every console page.
 */
public final class SdsPages {
    static final String PATH = CompliancePages.PATH + "/sds";

    private final ServiceSpecification sds;
    private final Console console;
    private final ComplianceAccess access;
    private final JpDates dates;

    public SdsPages(ServiceSpecification sds, Console console, Predicate<Sessions.Session> reader, ZoneId zone) {
        this.sds = sds;
        this.console = console;
        this.access = new ComplianceAccess(console, reader);
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.route("GET", PATH, USER, false, access.read(this::page));
        console.route("GET", PATH + ".csv", USER, false, access.read(this::csv));
    }

    private Reply page(ConsoleRequest r) {
        Messages t = r.messages();
        boolean en = r.lang() == ConsoleRequest.Lang.EN;
        JpDates.Lang lang = en ? JpDates.Lang.EN : JpDates.Lang.JA;
        ServiceSpecification.Disclosure d = sds.build();
        ServiceSpecification.Coverage only = coverage(r.param("coverage"));
        List<SdsViews.Count> counts = new ArrayList<>();
        for (ServiceSpecification.Coverage c : ServiceSpecification.Coverage.values()) {
            counts.add(new SdsViews.Count(en ? c.en : c.ja, d.counts().getOrDefault(c, 0), coverageClass(c),
                    PATH + "?coverage=" + c.name(), c == only));
        }
        Map<String, List<SdsViews.Row>> areas = new LinkedHashMap<>();
        for (ServiceSpecification.Entry e : d.entries()) {
            if (only != null && e.coverage() != only) {
                continue;
            }
            List<SdsViews.Impl> impl = new ArrayList<>();
            for (GuidelineMapping.Row row : e.rows()) {
                impl.add(new SdsViews.Impl(row.label(), row.how(), String.join(", ", row.code()),
                        String.join(", ", row.tests())));
            }
            List<ComplianceViews.EvidenceRow> ev = new ArrayList<>();
            for (Evidence x : e.evidence()) {
                ev.add(CompliancePages.evidenceRow(x, t, dates, lang));
            }
            String parties = e.parties().isEmpty() ? null : String.join("・", e.parties().stream()
                    .map(p -> t.get("compliance.party." + switch (p) {
                        case "医療機関" -> "institution";
                        case "事業者" -> "vendor";
                        default -> "joint";
                    })).toList());
            areas.computeIfAbsent(en && !e.sectionEn().isEmpty() ? e.sectionEn() : e.sectionJa(),
                    k -> new ArrayList<>()).add(new SdsViews.Row(e.id(), en ? e.textEn() : e.text(), en ? e.coverage().en
                    : e.coverage().ja, coverageClass(e.coverage()), impl, ev, parties));
        }
        List<SdsViews.Area> list = new ArrayList<>();
        areas.forEach((k, v) -> list.add(new SdsViews.Area(k, v)));
        List<SdsViews.Setting> settings = d.settings().stream().map(s -> new SdsViews.Setting(en ? s.labelEn()
                : s.labelJa(), s.value(), s.secure() ? "" : "state-warn")).toList();
        return console.page(r, 200, t.get("compliance.sds.title"), "compliance/sds.jte", new SdsViews.Page(d.product(),
                d.version(), dates.dateTime(d.at(), lang), settings, d.deviations(), counts, list,
                d.mappingPresent(), only != null, PATH + ".csv"));
    }

    private Reply csv(ConsoleRequest r) {
        ServiceSpecification.Disclosure d = sds.build();
        return Reply.of(200, "text/csv;charset=UTF-8", ServiceSpecification.csv(d)).header("Content-Disposition",
                "attachment; filename=\"mamori-sds-" + LocalDate.now(dates.zone()) + ".csv\"");
    }

    private static ServiceSpecification.Coverage coverage(String v) {
        for (ServiceSpecification.Coverage c : ServiceSpecification.Coverage.values()) {
            if (c.name().equals(v)) {
                return c;
            }
        }
        return null;
    }

    static String coverageClass(ServiceSpecification.Coverage c) {
        return switch (c) {
            case PROVIDED -> "state-ok";
            case PARTLY -> "state-warn";
            case NOT_PROVIDED -> "hint";
        };
    }
}
