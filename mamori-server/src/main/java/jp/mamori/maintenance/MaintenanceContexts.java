package jp.mamori.maintenance;

import jp.mamori.access.PersonContext;
import jp.mamori.db.Tx;
import jp.mamori.identity.Sessions;
import jp.mamori.records.PatientNames;

import javax.sql.DataSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The access context of a vendor's session inside the window of a work order that approved patient data (issue 19;
 * MAINT-2, MAINT-8, ACCESS-6): the work order's patients, named by their 患者ID, looked up in the record store, read-only,
 * until the window's end ({@link PersonContext#forMaintenance}). Empty for any other session, and for a window without
 * patient data. One context per session and work order, kept while it lasts (the access policy caches its search
 * filters per context).
 */
public final class MaintenanceContexts implements Function<Sessions.Session, Optional<PersonContext>> {
    private static final int MAX_KEPT = 256;

    /** A window's patients as typed (患者ID) and the record store's ids they stand for. */
    public record Patients(Map<String, Set<String>> byIdentifier) {
        public Set<String> ids() {
            Set<String> out = new TreeSet<>();
            byIdentifier.values().forEach(out::addAll);
            return out;
        }
    }

    private record Kept(WorkOrders.ActiveWindow window, PersonContext context, Patients patients) {
    }

    private final MaintenanceGate gate;
    private final DataSource db;
    private final Supplier<List<String>> categories;
    private final Map<String, Kept> kept = new LinkedHashMap<>();

    public MaintenanceContexts(MaintenanceGate gate, DataSource db, Supplier<List<String>> categories) {
        this.gate = gate;
        this.db = db;
        this.categories = categories;
    }

    @Override
    public Optional<PersonContext> apply(Sessions.Session s) {
        return of(s).map(Kept::context);
    }

    /** The approved patients of the session's window, when it approved patient data. */
    public Optional<Patients> patients(Sessions.Session s) {
        return of(s).map(Kept::patients);
    }

    private Optional<Kept> of(Sessions.Session s) {
        if (!MaintenanceGate.applies(s)) {
            return Optional.empty();
        }
        Optional<WorkOrders.ActiveWindow> w = gate.window(s).filter(WorkOrders.ActiveWindow::patientDataApproved);
        if (w.isEmpty()) {
            return Optional.empty();
        }
        String key = s.ref() + "|" + w.get().workOrderNo();
        synchronized (kept) {
            Kept k = kept.get(key);
            if (k != null && k.window().equals(w.get())) {
                return Optional.of(k);
            }
        }
        Map<String, Set<String>> found = Tx.read(db, c -> PatientNames.idsByIdentifier(c, w.get().patients()));
        Patients patients = new Patients(Map.copyOf(found));
        Kept k = new Kept(w.get(), PersonContext.forMaintenance(s.accountId(), w.get().workOrderNo(), patients.ids(),
                w.get().until(), categories.get(), w.get().exportApproved()), patients);
        synchronized (kept) {
            if (kept.size() >= MAX_KEPT) {
                kept.clear();
            }
            kept.put(key, k);
        }
        return Optional.of(k);
    }
}
