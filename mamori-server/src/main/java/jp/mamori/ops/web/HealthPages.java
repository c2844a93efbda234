package jp.mamori.ops.web;

import jp.mamori.chart.JpDates;
import jp.mamori.identity.Accounts;
import jp.mamori.ops.Alerts;
import jp.mamori.ops.Health;
import jp.mamori.ops.HealthCheck;
import jp.mamori.web.Reply;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.MissingResourceException;

import static jp.mamori.web.console.Console.Access.OPERATIONS;

/**
 * The health page for administrators ({@code GET /console/admin/health}; issue 18 §5): the same report as
 * {@code /health/detail}, each check with its colour in words and its time in JST, the open alerts and the failed
 * logins of the alert's window; and a badge on the administrator's home while alerts are open. Administrators run the
 * installation and act on what is red; the page shows no clinical content (and no patient at all).
 */
public final class HealthPages {
    static final String PATH = "/console/admin/health";

    private final Health health;
    private final Alerts alerts;
    private final Console console;
    private final JpDates dates;

    public HealthPages(Health health, Alerts alerts, Console console, ZoneId zone) {
        this.health = health;
        this.alerts = alerts;
        this.console = console;
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.route("GET", PATH, OPERATIONS, false, this::home);
        console.waiting(this::waiting);
    }

    List<Console.Waiting> waiting(ConsoleRequest r) {
        if (!r.session().hasRole(Accounts.ADMIN_ROLE)) {
            return List.of();
        }
        return List.of(new Console.Waiting(r.messages().get("health.waiting"), alerts.open().size(), PATH));
    }

    private Reply home(ConsoleRequest r) {
        return console.page(r, 200, r.messages().get("health.title"), "health/home.jte", view(r));
    }

    HealthViews.Home view(ConsoleRequest r) {
        Messages t = r.messages();
        Health.Report report = health.report();
        List<HealthViews.Check> checks = new ArrayList<>();
        for (Health.Line l : report.lines()) {
            checks.add(new HealthViews.Check(label(t, l.name()), t.get("health.status." + l.result().status().name()),
                    css(l.result().status()), text(r, l.result().summary()), time(r, l.result().at()), l.critical()));
        }
        List<HealthViews.Alert> open = alerts.open().stream()
                .map(a -> new HealthViews.Alert(text(r, a.text()), time(r, a.since()))).toList();
        return new HealthViews.Home(t.get("health.status." + report.status().name()), css(report.status()),
                time(r, report.at()), checks, open, t.get("health.failures", alerts.lastFailures(),
                alerts.window().toMinutes(), alerts.threshold()), dates.zone().getId());
    }

    /** A check's name in words; a check registered by another capability without a text keeps its own name. */
    private static String label(Messages t, String name) {
        try {
            return t.get("health.check." + name);
        } catch (MissingResourceException e) {
            return name;
        }
    }

    /** A line as the checks write it, Japanese first ("日本語 / English"), as the other admin pages show theirs. */
    static String text(ConsoleRequest r, String line) {
        return line;
    }

    private String time(ConsoleRequest r, Instant at) {
        if (at == null) {
            return null;
        }
        return dates.dateTime(at, r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA);
    }

    private static String css(HealthCheck.Status s) {
        return switch (s) {
            case UP -> "state-ok";
            case DEGRADED -> "state-warn";
            case DOWN -> "state-bad";
        };
    }
}
