package jp.mamori.continuity.web;

import jp.mamori.chart.JpDates;
import jp.mamori.continuity.DowntimeKit;
import jp.mamori.identity.Accounts;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static jp.mamori.web.console.Console.Access.ADMIN;

/**
 * The downtime kit page, {@code /console/admin/downtime} (issue 18 §3; BACKUP-12, DEGRADED-4): for the
 * administrators, each ward's and department's last kit (time in JST, patients, file), stale kits and wards without a
 * password marked; a form to set a ward's password (step-up: the password opens patients' records); and a button that
 * makes the kits now (step-up). A stale kit or a ward without a password is counted on the administrator's home
 * ({@link #waiting}). The page shows names of wards and counts, never a patient.
 */
public final class DowntimePages {
    private static final Logger log = LoggerFactory.getLogger(DowntimePages.class);
    static final String PATH = "/console/admin/downtime";

    private final DowntimeKit kit;
    private final Console console;
    private final JpDates dates;

    public DowntimePages(DowntimeKit kit, Console console, java.time.ZoneId zone) {
        this.kit = kit;
        this.console = console;
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.route("GET", PATH, ADMIN, false, r -> home(r, 200, null, null));
        console.route("POST", PATH + "/password", ADMIN, true, this::password);
        console.route("POST", PATH + "/now", ADMIN, true, this::now);
        console.waiting(this::waiting);
    }

    /** The administrator's home: how many wards have a stale kit or none (DEGRADED-*, BACKUP-12). */
    List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!r.session().hasRole(Accounts.ADMIN_ROLE) || kit.options().minutes() == 0) {
            return List.of();
        }
        return List.of(new Console.Waiting(r.messages().get("continuity.waiting"), kit.deviationCount(), PATH));
    }

    private Reply home(ConsoleRequest r, int status, String selected, String error) {
        Messages t = r.messages();
        String notice = null;
        String files = r.param("files");
        if (files != null && files.matches("[0-9]{1,5}") && r.param("patients").matches("[0-9]{1,7}")) {
            notice = t.get("continuity.notice.made", files, r.param("patients"));
        } else if ("failed".equals(r.param("made"))) {
            error = t.get("continuity.error.failed");
        } else if ("set".equals(r.param("password"))) {
            notice = t.get("continuity.notice.password");
        }
        JpDates.Lang lang = r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
        List<DowntimeViews.Place> rows = new ArrayList<>();
        List<String> options = new ArrayList<>();
        long deviations = 0;
        for (DowntimeKit.Place p : kit.places()) {
            options.add(p.name());
            if (selected == null && !p.hasPassword() && p.patients() > 0) {
                selected = p.name(); // the form starts on the first ward that needs a password
            }
            String state;
            boolean bad = kit.options().minutes() > 0 && p.deviation();
            if (!p.hasPassword()) {
                state = t.get(p.patients() > 0 ? "continuity.state.noPassword" : "continuity.state.empty");
            } else if (p.problem() != null) {
                state = p.problem();
                bad = true;
            } else if (p.patients() == 0) {
                state = t.get("continuity.state.empty");
            } else if (p.lastAt() == null) {
                state = t.get("continuity.state.never");
            } else if (p.stale()) {
                state = t.get("continuity.state.stale");
            } else {
                state = t.get("continuity.state.current");
            }
            if (bad) {
                deviations++;
            }
            rows.add(new DowntimeViews.Place(p.name(), p.patients(),
                    p.lastAt() == null ? null : dates.dateTimeWithZone(p.lastAt(), lang), p.lastFile(), p.lastCount(),
                    state, bad));
        }
        DowntimeViews.Home v = new DowntimeViews.Home(kit.options().minutes() > 0, kit.options().minutes(),
                kit.options().dir().toString(), kit.options().generations(), rows, options, selected, error, notice,
                r.csrf(), DowntimeKit.MIN_PASSWORD, deviations);
        return console.page(r, status, t.get("continuity.title"), "continuity/home.jte", v);
    }

    private Reply password(ConsoleRequest r) {
        String place = r.param("place");
        try {
            kit.setPassword(place, r.param("password"), jp.mamori.audit.Actor.of(r.session(), r.address()));
        } catch (DowntimeKit.Refused e) {
            return home(r, 400, place, e.getMessage());
        }
        return Console.redirect(PATH + "?password=set");
    }

    private Reply now(ConsoleRequest r) {
        if (kit.options().minutes() == 0) {
            return Console.redirect(PATH);
        }
        try {
            DowntimeKit.Generation g = kit.generate(jp.mamori.audit.Actor.of(r.session(), r.address()));
            return Console.redirect(PATH + "?files=" + g.files().size() + "&patients=" + g.patients());
        } catch (RuntimeException e) {
            log.error("downtime kit page: the kit started by {} failed", r.session().loginId(), e);
            return Console.redirect(PATH + "?made=failed");
        }
    }
}
