package jp.mamori.audit.web;

import jp.mamori.audit.AuditReports;
import jp.mamori.audit.PatientDirectory;
import jp.mamori.audit.RecordTitles;
import jp.mamori.chart.JpDates;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Audit entries in words (issue 22; STORE-1 見読性, AUDIT-10): who (name, role, department), when (the institution's
 * time zone), what and why in the reader's language, which patients (name and 患者ID, never the record's id) and
 * which records (kind, a document's title, the date). For one patient's history ({@code focus}) an entry keeps only
 * that patient's records and names no other patient: a search that showed twenty patients is one search that
 * showed this one.
 */
final class Readable {
    /** The patients a row names at most; the rest are counted. */
    static final int PATIENTS_PER_ROW = 5;

    private final Messages t;
    private final JpDates dates;
    private final JpDates.Lang lang;
    private final Map<String, PatientDirectory.Demographics> patients;
    private final Map<String, String> roleNames;
    private final Map<String, RecordTitles.Described> records;
    private final Map<String, String> people;
    private final String focus;
    private final boolean addresses;

    /**
     * @param patients  the demographics of the patients the rows name, by Patient id
     * @param roleNames role codes and their names in the reader's language
     * @param records   the named records, by the reference the entry stores
     * @param people    names of actors recorded without one ({@code account:…}), by actor
     * @param focus     the patient whose history this is, or null
     */
    Readable(Messages t, JpDates dates, Map<String, PatientDirectory.Demographics> patients,
             Map<String, String> roleNames, Map<String, RecordTitles.Described> records, Map<String, String> people,
             String focus) {
        this.t = t;
        this.dates = dates;
        this.lang = t.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
        this.patients = patients;
        this.roleNames = roleNames;
        this.records = records;
        this.people = people;
        this.focus = focus;
        this.addresses = focus == null;
    }

    AuditViews.Entry entry(AuditReports.Row r) {
        List<AuditViews.PatientName> named = new ArrayList<>();
        int more = 0;
        if (focus == null) {
            for (String p : new LinkedHashSet<>(r.patients())) {
                if (named.size() < PATIENTS_PER_ROW) {
                    named.add(patient(p));
                } else {
                    more++;
                }
            }
        }
        return new AuditViews.Entry(r.seq(), dates.dateTime(r.at(), lang), who(r), roles(r), named, more, action(r),
                records(r), orOther("audit.outcome", r.outcome()), !"success".equals(r.outcome()),
                orOther("audit.purpose", r.purpose()), addresses && r.address() != null ? r.address() : "",
                r.breakGlass());
    }

    /** A patient by Patient id: name, kana and 患者ID, or "unknown" when the record is not there. */
    AuditViews.PatientName patient(String id) {
        PatientDirectory.Demographics d = patients.get(id);
        if (d == null) {
            return new AuditViews.PatientName(t.get("audit.patient.unknown"), "", "", false);
        }
        return new AuditViews.PatientName(d.name(), d.kana(), d.patientId(), true);
    }

    private String who(AuditReports.Row r) {
        String kind = r.kind() == null ? "" : r.kind();
        switch (kind) {
            case "system":
                return t.get("audit.who.system");
            case "anonymous":
                return t.get("audit.who.anonymous");
            case "client":
                return t.get("audit.who.client", r.display() == null ? t.get("audit.who.unnamed") : r.display());
            default:
                String name = r.display();
                if (name == null || name.isBlank()) {
                    name = people.get(r.actor());
                }
                return name == null ? t.get("audit.who.unnamed") : name;
        }
    }

    private String roles(AuditReports.Row r) {
        List<String> names = new ArrayList<>();
        for (String code : r.roles()) {
            names.add(roleNames.getOrDefault(code, t.get("audit.role.other")));
        }
        String roles = String.join("・", new LinkedHashSet<>(names));
        if (r.department() == null || r.department().isBlank()) {
            return roles;
        }
        return roles.isEmpty() ? r.department() : roles + " / " + r.department();
    }

    private String action(AuditReports.Row r) {
        String a = r.action();
        String word = word("audit.action", a);
        if (word == null) {
            int dot = a.indexOf('.');
            word = word("audit.action", (dot > 0 ? a.substring(0, dot) : a) + ".any");
        }
        if (word == null) {
            word = t.get("audit.action.other");
        }
        if (focus != null && a.equals("search")) {
            return t.get("audit.action.searchShowed", word);
        }
        return word;
    }

    private List<String> records(AuditReports.Row r) {
        List<String> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String code : r.resources()) {
            int slash = code.indexOf('/');
            if (slash < 0) {
                continue; // a type searched: the action says it
            }
            String type = code.substring(0, slash);
            if (type.equals("Account")) {
                String who = people.get("account:" + idOf(code));
                add(out, seen, who == null ? t.get("audit.record.Account") : t.get("audit.record.Account") + "：" + who);
                continue;
            }
            RecordTitles.Described d = records.get(code);
            if (focus != null && !about(d, type, code, r)) {
                continue; // another patient's record, in an entry that names several
            }
            add(out, seen, describe(d, type));
        }
        return out;
    }

    /** Whether a record of an entry is the focused patient's. */
    private boolean about(RecordTitles.Described d, String type, String code, AuditReports.Row r) {
        if (d != null && !d.patients().isEmpty()) {
            return d.patients().contains(focus);
        }
        if (type.equals("Patient")) {
            return idOf(code).equals(focus);
        }
        // not readable (disposed): only an entry about this patient alone can be said to be about it
        return r.patients().size() == 1 && r.patients().get(0).equals(focus);
    }

    private String describe(RecordTitles.Described d, String type) {
        String kind = word("audit.record", type);
        if (kind == null) {
            kind = t.get("audit.record.other");
        }
        if (d == null) {
            return kind;
        }
        StringBuilder sb = new StringBuilder(d.title().isBlank() ? kind : d.title());
        if (d.date() != null && !type.equals("Patient")) {
            sb.append(' ').append(dates.date(d.date(), lang));
        }
        return sb.toString();
    }

    private String orOther(String prefix, String code) {
        String w = code == null ? null : word(prefix, code);
        return w == null ? t.get(prefix + ".other") : w;
    }

    /** The text of {@code prefix.code}, or null when there is none (never the code itself). */
    private String word(String prefix, String code) {
        String w = t.code(prefix, code);
        return w.equals(code) ? null : w;
    }

    private static void add(List<String> out, Set<String> seen, String text) {
        if (seen.add(text)) {
            out.add(text);
        }
    }

    private static String idOf(String code) {
        int slash = code.indexOf('/');
        int history = code.indexOf("/_history/");
        return history < 0 ? code.substring(slash + 1) : code.substring(slash + 1, history);
    }
}
