package jp.mamori.compliance.web;

import jp.mamori.audit.Actor;
import jp.mamori.chart.JpDates;
import jp.mamori.compliance.ComplianceException;
import jp.mamori.compliance.RegisterKind;
import jp.mamori.compliance.Registers;
import jp.mamori.identity.Sessions;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

import static jp.mamori.web.console.Console.Access.ADMIN;
import static jp.mamori.web.console.Console.Access.USER;

/**
 * The registers (台帳) of the compliance console (issue 20; GOV-28 … GOV-32, GOV-15, HR-6, INC-6): the list of
 * registers with row counts and overdue reviews, one register as a table, a row with its history, new / edit / retire
 * forms that keep what was typed on a refusal, and CSV export and import (a chosen file, or CSV pasted into a text area).
 *
 * <p>Who: the rule of {@link CompliancePages}: account administrators read and write; whoever may read the audit
 * console (the auditor role: an executive, an inspector) reads and exports. Applied here once per route.
 */
public final class RegisterPages {
    static final String HOME = CompliancePages.PATH + "/registers";
    static final String ONE = CompliancePages.PATH + "/register";

    private final Registers registers;
    private final Console console;
    private final ComplianceAccess access;
    private final JpDates dates;

    public RegisterPages(Registers registers, Console console, Predicate<Sessions.Session> reader,
                         java.time.ZoneId zone) {
        this.registers = registers;
        this.console = console;
        this.access = new ComplianceAccess(console, reader, "compliance.notAllowed", "registers.notAllowed.message");
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.route("GET", HOME, USER, false, access.read(this::home));
        console.route("GET", ONE, USER, false, access.read(this::table));
        console.route("GET", ONE + "/row", USER, false, access.read(r -> row(r, 200, null, null, null)));
        console.route("GET", ONE + "/new", USER, false, access.write(r -> newForm(r, 200, null, null)));
        console.route("POST", ONE + "/save", USER, false, access.write(this::save));
        console.route("POST", ONE + "/retire", USER, false, access.write(this::retire));
        console.route("GET", ONE + "/export", USER, false, access.read(this::export));
        console.route("GET", ONE + "/import", USER, false, access.write(r -> importForm(r, 200, "", null)));
        console.routeUpload(ONE + "/import", ADMIN, false, access.write(this::importCsv));
        console.waiting(this::waiting);
    }

    /** The administrator's home: register rows past their review date (the registers' reminders). */
    List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!ComplianceAccess.mayWrite(r.session())) {
            return List.of();
        }
        try {
            long late = registers.kinds().stream().mapToLong(registers::overdue).sum();
            return late == 0 ? List.of() : List.of(new Console.Waiting(r.messages().get("registers.waiting"), late,
                    HOME));
        } catch (RuntimeException e) {
            return List.of(); // the home page never fails for a reminder
        }
    }

    private Reply notFound(ConsoleRequest r) {
        return console.error(r, 404, "compliance.notFound", "registers.notFound.message");
    }

    private static boolean en(ConsoleRequest r) {
        return r.lang() == ConsoleRequest.Lang.EN;
    }

    private JpDates.Lang lang(ConsoleRequest r) {
        return en(r) ? JpDates.Lang.EN : JpDates.Lang.JA;
    }

    static String href(RegisterKind k) {
        return Registers.path(k);
    }

    static String href(RegisterKind k, int entry) {
        return ONE + "/row?r=" + k.key() + "&n=" + entry;
    }

    private Optional<RegisterKind> kind(ConsoleRequest r) {
        return RegisterKind.of(r.param("r"));
    }

    private static Integer number(String s) {
        return s != null && s.matches("[0-9]{1,9}") ? Integer.valueOf(s) : null;
    }

    // ---- reading -----------------------------------------------------------------------------------------------

    private Reply home(ConsoleRequest r) {
        Messages t = r.messages();
        java.time.LocalDate today = registers.today();
        List<RegisterViews.KindRow> rows = new ArrayList<>();
        for (RegisterKind k : registers.kinds()) {
            List<Registers.Row> cur = registers.current(k);
            int overdue = (int) cur.stream().filter(x -> x.overdue(today)).count();
            rows.add(new RegisterViews.KindRow(k.title(en(r)), en(r) ? k.hintEn() : k.hintJa(), cur.size(), overdue,
                    href(k)));
        }
        return console.page(r, 200, t.get("registers.title"), "compliance/registers.jte", new RegisterViews.Home(rows));
    }

    private Reply table(ConsoleRequest r) {
        RegisterKind k = kind(r).orElse(null);
        if (k == null) {
            return notFound(r);
        }
        Messages t = r.messages();
        java.time.LocalDate today = registers.today();
        List<String> headers = new ArrayList<>();
        headers.add(t.get("registers.number"));
        headers.addAll(k.labels(en(r)));
        List<RegisterViews.TableRow> rows = new ArrayList<>();
        int overdue = 0;
        for (Registers.Row row : registers.current(k)) {
            List<String> cells = new ArrayList<>();
            for (RegisterKind.Column c : k.columns()) {
                String v = c.type() == RegisterKind.Type.DATE && !row.get(c.key()).isEmpty()
                        ? dates.date(java.time.LocalDate.parse(row.get(c.key())), lang(r))
                        : c.display(row.get(c.key()), en(r));
                cells.add(v);
            }
            boolean late = row.overdue(today);
            overdue += late ? 1 : 0;
            rows.add(new RegisterViews.TableRow(row.entry(), cells, dates.date(row.review(), lang(r)), late,
                    href(k, row.entry())));
        }
        String done = r.param("done");
        Integer a = number(r.param("a"));
        Integer c = number(r.param("c"));
        Integer u = number(r.param("u"));
        String notice = "retired".equals(done) ? t.get("registers.retired.done")
                : "imported".equals(done) && a != null && c != null && u != null
                ? t.get("registers.imported", a, c, u) : null;
        return console.page(r, 200, k.title(en(r)), "compliance/registersTable.jte", new RegisterViews.Table(k.key(),
                k.title(en(r)), en(r) ? k.hintEn() : k.hintJa(), headers, rows, overdue,
                ComplianceAccess.mayWrite(r.session()), notice, ONE + "/export?r=" + k.key(),
                ONE + "/import?r=" + k.key(), ONE + "/new?r=" + k.key()));
    }

    private Reply row(ConsoleRequest r, int status, RegisterViews.Form typed, String retireReason,
                      String retireError) {
        RegisterKind k = kind(r).orElse(null);
        Integer n = number(r.param("n"));
        Registers.Row row = k == null || n == null ? null : registers.row(k, n).orElse(null);
        if (row == null) {
            return notFound(r);
        }
        Messages t = r.messages();
        List<RegisterViews.Fact> facts = new ArrayList<>();
        for (RegisterKind.Column c : k.columns()) {
            String v = row.get(c.key());
            facts.add(new RegisterViews.Fact(c.label(en(r)), c.type() == RegisterKind.Type.DATE && !v.isEmpty()
                    ? dates.date(java.time.LocalDate.parse(v), lang(r)) : c.display(v, en(r))));
        }
        List<RegisterViews.History> history = new ArrayList<>();
        for (Registers.Change ch : registers.history(k, n)) {
            List<String> labels = new ArrayList<>();
            for (String key : ch.changed()) {
                labels.add(switch (key) {
                    case "review" -> t.get("registers.review");
                    case "retired" -> t.get("registers.retired");
                    default -> k.column(key).map(c -> c.label(en(r))).orElse(key);
                });
            }
            history.add(new RegisterViews.History(ch.row().version(), dates.dateTime(ch.row().at(), lang(r)),
                    ch.row().authorName(), String.join("・", labels), ch.row().reason() == null ? ""
                    : ch.row().reason(), ch.row().retired()));
        }
        boolean mayWrite = ComplianceAccess.mayWrite(r.session()) && !row.retired();
        RegisterViews.Form form = !mayWrite ? null : typed != null ? typed : form(r, k, row.entry(), row.version(),
                row.fields(), row.review().toString(), "", null);
        String notice = "saved".equals(r.param("done")) && typed == null && retireError == null
                ? t.get("registers.saved") : null;
        return console.page(r, status, k.title(en(r)) + " " + t.get("registers.numbered", row.entry()),
                "compliance/registersRow.jte", new RegisterViews.Row(k.key(), k.title(en(r)), href(k), row.entry(),
                        row.version(), facts, dates.date(row.review(), lang(r)), row.overdue(registers.today()),
                        row.retired(), mayWrite, form, retireReason == null ? "" : retireReason, retireError, history,
                        notice, r.csrf()));
    }

    private RegisterViews.Form form(ConsoleRequest r, RegisterKind k, int entry, int version,
                                    Map<String, String> values, String review, String reason, String error) {
        List<RegisterViews.Field> fields = new ArrayList<>();
        for (RegisterKind.Column c : k.columns()) {
            String v = values.getOrDefault(c.key(), "");
            List<RegisterViews.Option> options = new ArrayList<>();
            if (c.type() == RegisterKind.Type.CHOICE) {
                c.choices().forEach((code, label) -> options.add(new RegisterViews.Option(code, label,
                        code.equals(v))));
            } else if (c.type() == RegisterKind.Type.YESNO) {
                options.add(new RegisterViews.Option("yes", c.display("yes", en(r)), "yes".equals(v)));
                options.add(new RegisterViews.Option("no", c.display("no", en(r)), "no".equals(v)));
            }
            fields.add(new RegisterViews.Field("f." + c.key(), "f-" + c.key(), c.label(en(r)),
                    c.type().name().toLowerCase(java.util.Locale.ROOT), c.required(), v, options));
        }
        return new RegisterViews.Form(k.key(), k.title(en(r)), href(k), entry, version, fields, review,
                reason == null ? "" : reason, error, r.csrf());
    }

    private Reply newForm(ConsoleRequest r, int status, RegisterViews.Form typed, String unused) {
        RegisterKind k = kind(r).orElse(null);
        if (k == null) {
            return notFound(r);
        }
        RegisterViews.Form f = typed != null ? typed : form(r, k, 0, 0, Map.of(),
                registers.today().plusMonths(12).toString(), "", null);
        return console.page(r, status, k.title(en(r)) + " " + r.messages().get("registers.new"),
                "compliance/registersForm.jte", f);
    }

    // ---- writing -----------------------------------------------------------------------------------------------

    private static String clip(String s, int max) {
        return s == null ? "" : s.length() > max ? s.substring(0, max) : s;
    }

    private Reply save(ConsoleRequest r) {
        RegisterKind k = kind(r).orElse(null);
        if (k == null) {
            return notFound(r);
        }
        Integer n = number(r.param("n"));
        Integer v = number(r.param("v"));
        boolean isNew = n == null || n == 0;
        Map<String, String> typed = new HashMap<>();
        for (RegisterKind.Column c : k.columns()) {
            typed.put(c.key(), r.param("f." + c.key()));
        }
        String review = r.param("review");
        String reason = r.param("reason");
        try {
            Registers.Row saved = registers.save(Actor.of(r.session(), r.address()), k, isNew ? null : n, v, typed,
                    review, reason);
            return Console.redirect(href(k, saved.entry()) + "&done=saved");
        } catch (ComplianceException e) {
            Map<String, String> kept = new HashMap<>();
            typed.forEach((key, val) -> kept.put(key, clip(val, RegisterKind.MAX_LONGTEXT + 100)));
            // after a change made meanwhile, the page shows the newest version above the form and the form then
            // edits that version: what was typed is kept, and saving it again is a deliberate choice
            Integer edit = v;
            if (!isNew && e.getMessage().startsWith("この行は他の人が先に変更しました")) {
                edit = registers.row(k, n).map(Registers.Row::version).orElse(v);
            }
            RegisterViews.Form f = form(r, k, isNew ? 0 : n, edit == null ? 0 : edit, kept, clip(review, 40),
                    clip(reason, Registers.MAX_REASON + 100), e.getMessage());
            if (isNew) {
                return newForm(r, 400, f, null);
            }
            Reply page = row(r, 400, f, null, null);
            return page;
        }
    }

    private Reply retire(ConsoleRequest r) {
        RegisterKind k = kind(r).orElse(null);
        Integer n = number(r.param("n"));
        if (k == null || n == null) {
            return notFound(r);
        }
        String reason = r.param("reason");
        try {
            registers.retire(Actor.of(r.session(), r.address()), k, n, number(r.param("v")), reason);
        } catch (ComplianceException e) {
            return row(r, 400, null, clip(reason, Registers.MAX_REASON + 100), e.getMessage());
        }
        return Console.redirect(href(k) + "&done=retired");
    }

    private Reply export(ConsoleRequest r) {
        RegisterKind k = kind(r).orElse(null);
        if (k == null) {
            return notFound(r);
        }
        String name = "register-" + k.key() + "-" + registers.today() + ".csv";
        return Reply.of(200, "text/csv; charset=utf-8", registers.exportCsv(k))
                .header("Content-Disposition", "attachment; filename=\"" + name + "\"")
                .header("X-Content-Type-Options", "nosniff")
                .header("Cache-Control", "no-store");
    }

    private Reply importForm(ConsoleRequest r, int status, String csv, String error) {
        RegisterKind k = kind(r).orElse(null);
        if (k == null) {
            return notFound(r);
        }
        return console.page(r, status, k.title(en(r)) + " " + r.messages().get("registers.import"),
                "compliance/registersImport.jte", new RegisterViews.Import(k.key(), k.title(en(r)), href(k),
                        String.join(",", Registers.header(k)), csv, error, r.csrf()));
    }

    private Reply importCsv(ConsoleRequest r) {
        RegisterKind k = kind(r).orElse(null);
        if (k == null) {
            return notFound(r);
        }
        // a chosen file wins over pasted text: its bytes as saved (a BOM, or Shift_JIS refused with a hint)
        java.util.Optional<ConsoleRequest.Upload> file = r.file("file").filter(f -> f.bytes().length > 0);
        String csv = file.isPresent() ? "" : r.param("csv") == null ? "" : r.param("csv");
        try {
            Registers.Imported done = registers.importCsv(Actor.of(r.session(), r.address()), k,
                    file.map(ConsoleRequest.Upload::bytes).orElse(csv.getBytes(StandardCharsets.UTF_8)));
            return Console.redirect(href(k) + "&done=imported&a=" + done.added() + "&c=" + done.changed() + "&u="
                    + done.unchanged());
        } catch (ComplianceException e) {
            return importForm(r, 400, csv, e.getMessage());
        }
    }
}
