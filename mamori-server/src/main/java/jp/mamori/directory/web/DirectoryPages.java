package jp.mamori.directory.web;

import jp.mamori.audit.Actor;
import jp.mamori.chart.JpDates;
import jp.mamori.config.DirectoryOptions;
import jp.mamori.directory.DirectoryRefusal;
import jp.mamori.directory.DirectorySync;
import jp.mamori.identity.Accounts;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static jp.mamori.web.console.Console.Access.ADMIN;

/**
 * The directory sync page for administrators ({@code /console/admin/directory}; issue 21, ACCT-2): the configuration
 * without secrets, the last runs, the people the sync suspended (and which of them the directory shows enabled again:
 * an administrator reactivates them on the account's page, never the sync), the proposals, and "今すぐ同期" (POST,
 * step-up). Who may do what is the route's access rule, decided once by the console's gate.
 */
public final class DirectoryPages {
    static final String PATH = "/console/admin/directory";

    private final DirectorySync sync;
    private final Console console;
    private final JpDates dates;

    public DirectoryPages(DirectorySync sync, Console console, ZoneId zone) {
        this.sync = sync;
        this.console = console;
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.route("GET", PATH, ADMIN, false, r -> home(r, 200, null, null));
        console.route("POST", PATH + "/sync", ADMIN, true, this::runNow);
        console.route("POST", PATH + "/proposal", ADMIN, false, this::decide);
        console.homePart(this::tile);
    }

    /** The page's tile on the administrator's home; a red line instead while the newest run failed. */
    gg.jte.Content tile(ConsoleRequest r) {
        if (!r.session().hasRole(Accounts.ADMIN_ROLE)) {
            return null;
        }
        DirectorySync.State s = sync.state();
        if (!s.failing()) {
            return Templates.content("directory/tile.jte", r.messages(), new DirectoryViews.Tile(PATH,
                    r.messages().get("directory.title"), false));
        }
        return Templates.content("directory/tile.jte", r.messages(), new DirectoryViews.Tile(PATH,
                r.messages().get("directory.tile.failing", s.lastFailure().map(x -> time(r, x.finishedAt()))
                        .orElse("")), true));
    }

    private Reply runNow(ConsoleRequest r) {
        Optional<DirectorySync.Run> run = sync.run(DirectorySync.Trigger.CONSOLE, Actor.of(r.session(), r.address()));
        Messages t = r.messages();
        if (run.isEmpty()) {
            return home(r, 409, null, t.get("directory.busy"));
        }
        DirectorySync.Run x = run.get();
        return x.success() ? home(r, 200, t.get("directory.done", x.checked(), x.linked(), x.suspended()), null)
                : home(r, 200, null, t.get("directory.failed", x.reason()));
    }

    private Reply decide(ConsoleRequest r) {
        Messages t = r.messages();
        String decision = r.param("decision");
        long seq;
        try {
            seq = Long.parseLong(r.param("proposal").strip());
        } catch (NumberFormatException e) {
            return home(r, 400, null, t.get("directory.proposal.unknown"));
        }
        if (!decision.equals("accept") && !decision.equals("dismiss")) {
            return home(r, 400, null, t.get("directory.proposal.unknown"));
        }
        try {
            sync.decide(seq, decision.equals("accept"), r.param("licence"), Actor.of(r.session(), r.address()));
        } catch (DirectoryRefusal e) {
            return home(r, 409, null, e.getMessage());
        }
        return home(r, 200, t.get(decision.equals("accept") ? "directory.proposal.accepted"
                : "directory.proposal.dismissed"), null);
    }

    private Reply home(ConsoleRequest r, int status, String notice, String error) {
        return console.page(r, status, r.messages().get("directory.title"), "directory/home.jte", view(r, notice,
                error));
    }

    DirectoryViews.Home view(ConsoleRequest r, String notice, String error) {
        Messages t = r.messages();
        DirectoryOptions o = sync.options();
        List<DirectoryViews.Setting> settings = new ArrayList<>();
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.url"), o.url().map(Object::toString).orElse("")
                + " (" + t.get(o.startTls() ? "directory.cfg.starttls" : "directory.cfg.ldaps") + ")"));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.trust"), o.ca().map(p -> p.getFileName()
                .toString()).orElse(t.get("directory.cfg.trust.jdk"))));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.bind"), o.bindDn().orElse("")));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.base"), o.base().orElse("")));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.filter"), o.filter()));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.login"), o.loginAttribute()));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.interval"), t.get("directory.cfg.minutes",
                o.intervalMinutes())));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.guard"), t.get("directory.cfg.guard.value",
                o.maxSuspendPercent(), DirectoryOptions.MIN_GUARD_PEOPLE)));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.department"), o.departmentAttribute()
                .orElse(t.get("directory.cfg.none"))));
        settings.add(new DirectoryViews.Setting(t.get("directory.cfg.qualification"), o.qualificationAttribute()
                .orElse(t.get("directory.cfg.none"))));
        List<DirectoryViews.RunRow> runs = sync.runs(20).stream().map(x -> new DirectoryViews.RunRow(
                time(r, x.finishedAt()), t.get("directory.trigger." + x.trigger()), x.by().equals(DirectorySync.BY)
                ? t.get("directory.by.schedule") : x.by(), x.success(), x.success() ? t.get("directory.result.ok")
                : x.reason(), x.checked(), x.linked(), x.suspended(), x.refused())).toList();
        List<DirectoryViews.SuspendedRow> suspended = sync.suspendedBySync().stream().map(x ->
                new DirectoryViews.SuspendedRow(x.name(), x.loginId(), t.get("directory.why." + x.why()), x.dn(),
                        time(r, x.at()), t.get(x.stillSuspended() ? "directory.state.suspended"
                        : "directory.state.reactivated"), x.stillSuspended() && x.enabledAgain(),
                        "/console/admin/account?id=" + x.accountId())).toList();
        boolean en = r.lang() == ConsoleRequest.Lang.EN;
        List<DirectoryViews.ProposalRow> proposals = sync.proposals().stream().map(x -> new DirectoryViews.ProposalRow(
                x.seq(), x.name(), x.loginId(), t.get("directory.kind." + x.kind()), x.qualification() == null
                ? x.value() : en ? x.qualification().nameEn() : x.qualification().nameJa(), time(r, x.at()),
                x.qualification() != null && x.qualification().licenceRequired()
                        ? x.qualification().licenceLabelJa() : null)).toList();
        DirectorySync.State s = sync.state();
        return new DirectoryViews.Home(notice, error, s.failing(), s.lastFailure().map(DirectorySync.Run::reason)
                .orElse(null), s.lastSuccess().map(x -> time(r, x.finishedAt())).orElse(t.get("directory.never")),
                settings, runs, suspended, proposals, o.departmentAttribute().isPresent()
                || o.qualificationAttribute().isPresent(), List.copyOf(sync.unmappedQualifications()), r.csrf());
    }

    private String time(ConsoleRequest r, Instant at) {
        return dates.dateTime(at, r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA);
    }
}
