package jp.mamori.retention.web;

import jp.mamori.audit.Actor;
import jp.mamori.retention.Retention;
import jp.mamori.retention.RetentionException;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static jp.mamori.web.console.Console.Access.ADMIN;

/**
 * The retention and disposal pages (保存期間と廃棄; STORE-6, DISPOSAL-1, DISPOSAL-5, DISPOSAL-7; ADR 0011): the periods
 * per kind of record, legal holds, the patients past retention, and disposal batches with their approvals and
 * certificates. For account administrators (the {@code ADMIN} gate); every form needs a fresh second factor, so each
 * approval is given by a person who has just proved who they are, and is recorded with them as actor.
 */
public final class RetentionPages {
    static final String PATH = "/console/admin/retention";
    private static final DateTimeFormatter JA_DAY = DateTimeFormatter.ofPattern("uuuu年M月d日", Locale.JAPANESE);
    private static final DateTimeFormatter EN_DAY = DateTimeFormatter.ofPattern("d MMM uuuu", Locale.ENGLISH);
    private static final DateTimeFormatter JA_TIME = DateTimeFormatter.ofPattern("uuuu年M月d日 HH:mm", Locale.JAPANESE);
    private static final DateTimeFormatter EN_TIME = DateTimeFormatter.ofPattern("d MMM uuuu HH:mm", Locale.ENGLISH);

    private final Retention retention;
    private final Console console;
    private final ZoneId zone;
    private final int auditYears;

    public RetentionPages(Retention retention, Console console, ZoneId zone, int auditYears) {
        this.retention = retention;
        this.console = console;
        this.zone = zone;
        this.auditYears = auditYears;
    }

    public void register() {
        console.route("GET", PATH, ADMIN, false, r -> home(r, 200, null, r.param("done")));
        console.route("GET", PATH + "/batch", ADMIN, false, r -> batch(r, 200, null, r.param("done")));
        console.route("GET", PATH + "/certificate", ADMIN, false, this::certificate);
        console.route("POST", PATH + "/rule", ADMIN, true, r -> form(r, false, () -> {
            retention.setYears(by(r), r.param("kind"), years(r.param("years")));
            return PATH + "?done=rule";
        }));
        console.route("POST", PATH + "/hold", ADMIN, true, r -> form(r, false, () -> {
            String patient = r.param("patient");
            retention.hold(by(r), patient == null ? null : patient.strip(), r.param("reason"));
            return PATH + "?done=hold";
        }));
        console.route("POST", PATH + "/release", ADMIN, true, r -> form(r, false, () -> {
            retention.release(by(r), r.param("patient"));
            return PATH + "?done=release";
        }));
        console.route("POST", PATH + "/propose", ADMIN, true, r -> form(r, false, () -> {
            Retention.Batch b = retention.propose(by(r), r.params("patient"), r.param("reason"));
            return PATH + "/batch?id=" + b.id() + "&done=proposed";
        }));
        console.route("POST", PATH + "/approve", ADMIN, true, r -> form(r, true, () -> {
            Retention.Batch b = retention.approve(by(r), id(r));
            return PATH + "/batch?id=" + b.id() + "&done=" + (b.status().equals("executed") ? "executed" : "approved");
        }));
        console.route("POST", PATH + "/reject", ADMIN, true, r -> form(r, true, () -> {
            Retention.Batch b = retention.reject(by(r), id(r), r.param("reason"));
            return PATH + "/batch?id=" + b.id() + "&done=rejected";
        }));
    }

    @FunctionalInterface
    private interface Work {
        String run();
    }

    /** Runs the form's work; a refusal shows the page again with its one line. */
    private Reply form(ConsoleRequest r, boolean onBatch, Work work) {
        try {
            return Console.redirect(work.run());
        } catch (RetentionException e) {
            return onBatch ? batch(r, 400, e.getMessage(), null) : home(r, 400, e.getMessage(), null);
        }
    }

    private static Actor by(ConsoleRequest r) {
        return Actor.of(r.session(), r.address());
    }

    private static int years(String s) {
        try {
            return Integer.parseInt(s == null ? "" : s.strip());
        } catch (NumberFormatException e) {
            throw new RetentionException("年数を数字で入力してください / give the years as a number");
        }
    }

    private static long id(ConsoleRequest r) {
        String s = r.param("id");
        if (s == null || !s.matches("[0-9]{1,18}")) {
            throw new RetentionException("廃棄バッチの番号が正しくありません / not a batch number");
        }
        return Long.parseLong(s);
    }

    private Reply home(ConsoleRequest r, int status, String error, String done) {
        Messages t = r.messages();
        boolean en = t.lang() == ConsoleRequest.Lang.EN;
        List<RetentionViews.Rule> rules = new ArrayList<>();
        for (Retention.Rule x : retention.rules()) {
            rules.add(new RetentionViews.Rule(x.kind(), en ? x.nameEn() : x.nameJa(), x.years(), x.lawYears(),
                    en ? x.basisEn() : x.basisJa(), x.changedAt() == null ? null
                    : t.get("retention.rules.changed", x.changedBy(), time(t, x.changedAt()))));
        }
        List<Retention.Hold> holdList = retention.holds().stream().limit(200).toList();
        Map<String, String> names = retention.patientNames(holdList.stream().limit(1000)
                .map(Retention.Hold::patientId).toList());
        List<RetentionViews.Hold> holds = holdList.stream().map(h -> new RetentionViews.Hold(h.patientId(),
                names.getOrDefault(h.patientId(), t.get("retention.unknownName")), h.reason(), h.heldBy(),
                day(t, h.heldAt()))).toList();
        String after = r.param("after");
        Retention.Page page;
        try {
            page = retention.candidates(after == null || after.isEmpty() ? null : after, 50);
        } catch (RetentionException e) {
            page = retention.candidates(null, 50);
        }
        List<RetentionViews.Candidate> cands = page.candidates().stream().map(c -> new RetentionViews.Candidate(
                c.facts().patientId(), c.facts().name() == null ? t.get("retention.unknownName") : c.facts().name(),
                day(t, c.facts().lastEntry()), day(t, c.facts().due()), c.facts().resources(), c.facts().versions(),
                c.openBatch())).toList();
        List<RetentionViews.BatchRow> batches = retention.batches(30).stream().map(b -> new RetentionViews.BatchRow(
                b.id(), t.get("retention.status." + b.status()), b.open(), b.proposedName(), time(t, b.proposedAt()),
                b.approvals().size())).toList();
        String notice = notice(t, done);
        List<String> shown = new ArrayList<>(page.candidates().stream().map(c -> c.facts().patientId()).toList());
        shown.addAll(holdList.stream().map(Retention.Hold::patientId).toList());
        retention.viewed(by(r), "candidates", shown);
        return console.page(r, status, t.get("retention.title"), "retention/home.jte", new RetentionViews.Home(rules,
                auditYears, holds, cands, page.next(), page.next() != null, batches, error, notice, r.csrf()));
    }

    private Reply batch(ConsoleRequest r, int status, String error, String done) {
        Messages t = r.messages();
        long id;
        try {
            id = id(r);
        } catch (RetentionException e) {
            return home(r, 404, e.getMessage(), null);
        }
        Retention.Batch b = retention.batch(id).orElse(null);
        if (b == null) {
            return home(r, 404, t.get("retention.noBatch"), null);
        }
        RetentionViews.Batch all = batchView(r, b);
        String notice = notice(t, done);
        retention.viewed(by(r), "batch " + b.id(), b.patients());
        return console.page(r, status, t.get("retention.batch.title", b.id()), "retention/batch.jte",
                new RetentionViews.Batch(b.id(), all.status(), b.open(), b.status().equals("executed"), b.reason(),
                        all.proposedBy(), all.proposedAt(), all.approvals(), all.closed(), b.closeReason(),
                        all.patients(), b.open() && !b.approvedBy(r.session().principal()), error, notice, r.csrf()));
    }

    /** What the last form did, from the {@code done} a redirect carries; null for none or an unknown one. */
    static String notice(Messages t, String done) {
        if (done == null || !done.matches("[a-z]{1,12}")) {
            return null;
        }
        try {
            return t.get("retention.done." + done);
        } catch (java.util.MissingResourceException e) {
            return null;
        }
    }

    /** The kind name of each FHIR type ("" for the others), in the page's language. */
    private Map<String, String> kinds(Messages t) {
        boolean en = t.lang() == ConsoleRequest.Lang.EN;
        Map<String, String> out = new HashMap<>();
        for (Retention.Rule x : retention.rules()) {
            String name = en ? x.nameEn() : x.nameJa();
            if (x.kind().equals("other")) {
                out.put("", name);
            }
            x.types().forEach(ty -> out.put(ty, name));
        }
        return out;
    }

    /** The disposal certificate: a printable page, or its JSON with {@code format=json}. */
    private Reply certificate(ConsoleRequest r) {
        long id;
        try {
            id = id(r);
            String json = retention.certificate(by(r), id);
            if ("json".equals(r.param("format"))) {
                return Reply.of(200, "application/json; charset=utf-8", json.getBytes(StandardCharsets.UTF_8))
                        .header("Content-Disposition", "attachment; filename=\"disposal-certificate-" + id + ".json\"");
            }
        } catch (RetentionException e) {
            return home(r, 404, e.getMessage(), null);
        }
        Messages t = r.messages();
        Retention.Batch b = retention.batch(id).orElseThrow();
        return console.page(r, 200, t.get("retention.certificate.title"), "retention/certificate.jte",
                batchView(r, b));
    }

    private RetentionViews.Batch batchView(ConsoleRequest r, Retention.Batch b) {
        Messages t = r.messages();
        Map<String, String> kindOf = kinds(t);
        Map<String, List<RetentionViews.Item>> byPatient = new LinkedHashMap<>();
        Map<String, String> nameOf = new HashMap<>();
        for (Retention.Item it : b.items()) {
            nameOf.putIfAbsent(it.patientId(), it.patientName() == null ? t.get("retention.unknownName")
                    : it.patientName());
            byPatient.computeIfAbsent(it.patientId(), k -> new ArrayList<>()).add(new RetentionViews.Item(
                    kindOf.getOrDefault(it.type(), kindOf.get("")), typeName(t, it.type()),
                    it.versions(), day(t, it.lastEntry()), it.lastChain().replaceAll("(.{16})(?!$)", "$1 ")));
        }
        return new RetentionViews.Batch(b.id(), t.get("retention.status." + b.status()), false,
                b.status().equals("executed"), b.reason(),
                b.proposedName(), time(t, b.proposedAt()), b.approvals().stream().map(a -> t.get(
                        "retention.batch.approval", a.name(), time(t, a.at()))).toList(),
                b.closedAt() == null ? null : t.get("retention.batch.closed", b.closedName(), time(t, b.closedAt())),
                b.closeReason(), byPatient.entrySet().stream().map(e -> new RetentionViews.PatientItems(
                        nameOf.get(e.getKey()), e.getValue())).toList(), false, null, null, r.csrf());
    }

    /** A FHIR type as a person reads it (検査・観察結果 for Observation); the type itself when no text names it. */
    static String typeName(Messages t, String type) {
        try {
            return t.get("retention.type." + type);
        } catch (java.util.MissingResourceException e) {
            return type;
        }
    }

    private String day(Messages t, Instant at) {
        return (t.lang() == ConsoleRequest.Lang.EN ? EN_DAY : JA_DAY).format(at.atZone(zone));
    }

    private String time(Messages t, Instant at) {
        return (t.lang() == ConsoleRequest.Lang.EN ? EN_TIME : JA_TIME).format(at.atZone(zone));
    }
}
