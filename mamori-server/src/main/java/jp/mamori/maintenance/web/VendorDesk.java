package jp.mamori.maintenance.web;

import jp.mamori.chart.JpDates;
import jp.mamori.maintenance.MaintenanceGate;
import jp.mamori.maintenance.WorkOrders;
import jp.mamori.web.console.Console;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import jp.mamori.web.console.Templates;

import java.time.Clock;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;

/**
 * What a vendor's maintenance account sees on its home page (issue 19): whether it is inside an approved window now
 * (the work order, until when, and the operations pages it reaches), or at the vendor desk (why, and what is open to
 * it). The decision itself is the console gate's ({@link MaintenanceGate}); this page only says what it decided.
 */
public final class VendorDesk {
    /** The operations pages a session inside its window reaches (their routes are the console's OPERATIONS). */
    static final List<String[]> OPERATIONS_PAGES = List.of(
            new String[] {"/console/admin/health", "maintenance.desk.health"},
            new String[] {"/console/admin/backups", "maintenance.desk.backups"});

    private final MaintenanceGate gate;
    private final WorkOrders orders;
    private final jp.mamori.maintenance.MaintenanceContexts contexts;
    private final Console console;
    private final JpDates dates;

    public VendorDesk(MaintenanceGate gate, WorkOrders orders, jp.mamori.maintenance.MaintenanceContexts contexts,
                      Console console, ZoneId zone) {
        this.gate = gate;
        this.orders = orders;
        this.contexts = contexts;
        this.console = console;
        this.dates = new JpDates(zone);
    }

    public void register() {
        console.homePart(this::render);
    }

    gg.jte.Content render(ConsoleRequest r) {
        if (!MaintenanceGate.applies(r.session())) {
            return null;
        }
        Messages t = r.messages();
        JpDates.Lang lang = r.lang() == ConsoleRequest.Lang.EN ? JpDates.Lang.EN : JpDates.Lang.JA;
        // the window the gate admitted this very request into, if any (read again only to say why it did not)
        Optional<WorkOrders.ActiveWindow> bound = gate.window(r.session());
        if (bound.isPresent()) {
            WorkOrders.ActiveWindow w = bound.get();
            List<MaintenanceViews.DeskLink> links = new java.util.ArrayList<>(OPERATIONS_PAGES.stream()
                    .map(p -> new MaintenanceViews.DeskLink(p[0], t.get(p[1]))).toList());
            // the work order's patients, when it approved patient data: each 患者ID links to the chart it names
            contexts.patients(r.session()).ifPresent(ps -> {
                for (String identifier : w.patients()) {
                    for (String id : ps.byIdentifier().getOrDefault(identifier, java.util.Set.of())) {
                        links.add(new MaintenanceViews.DeskLink("/console/patients/" + id, t.get(
                                "maintenance.desk.patient", identifier)));
                    }
                }
            });
            return Templates.content("maintenance/desk.jte", t, new MaintenanceViews.Desk(true,
                    t.get("maintenance.desk.inWindow", w.workOrderNo(), dates.dateTime(w.until(), lang)),
                    t.get("maintenance.desk.inWindow.hint"), links, "/console/maintenance/request?no="
                    + w.workOrderNo()));
        }
        boolean active = orders.activeFor(r.session().accountId(), Clock.systemUTC().instant()).isPresent();
        return Templates.content("maintenance/desk.jte", t, new MaintenanceViews.Desk(false, t.get(
                "maintenance.desk.outside"), t.get(active ? "maintenance.desk.notFromSource"
                : "maintenance.desk.outside.hint"), List.of(), null));
    }
}
