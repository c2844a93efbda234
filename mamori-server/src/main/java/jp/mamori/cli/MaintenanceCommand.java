package jp.mamori.cli;

import jp.mamori.audit.Actor;
import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.Purpose;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.maintenance.Vendors;
import jp.mamori.maintenance.WorkOrders;

import java.time.Clock;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code ./mamori COMMAND … --work-order 2026-0003}: a server-side command run for vendor maintenance names its work
 * order (issue 19; MAINT-1, MAINT-4, MAINT-9). Before the command runs, the work order must be approved and inside its
 * window now; a command that takes data out of the system ({@link #EXPORTS}) runs only when the work order approved
 * taking data out (MAINT-2, MAINT-8). The run is recorded ({@code maintenance.command}, with the command and the
 * operating-system user), and every audit entry the command makes carries the work order, so the work report lists
 * it. A refusal is one line and exit 2, and is recorded as well.
 */
final class MaintenanceCommand {
    static final String OPTION = "--work-order";
    /** The commands that write data out of the system, to a place of the operator's choosing. */
    static final Set<String> EXPORTS = Set.of("audit-export", "registers export");
    private static final Pattern NUMBER = Pattern.compile("[0-9]{4}-[0-9]{4}");
    private static final List<String> DATABASE = List.of("--data", "--db-url", "--db-user", "--db-password");

    private MaintenanceCommand() {
    }

    /** The work order and the arguments without it, when {@code --work-order} was given. */
    record Split(String workOrder, List<String> rest) {
    }

    static Optional<Split> split(List<String> args) {
        List<String> rest = new ArrayList<>();
        String number = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            String value = null;
            if (a.equals(OPTION)) {
                if (i + 1 >= args.size()) {
                    throw new ConfigException(OPTION + " には作業番号を指定してください / " + OPTION
                            + " needs a work order number (e.g. 2026-0003)");
                }
                value = args.get(++i);
            } else if (a.startsWith(OPTION + "=")) {
                value = a.substring(OPTION.length() + 1);
            } else {
                rest.add(a);
                continue;
            }
            if (number != null) {
                throw new ConfigException(OPTION + " given twice");
            }
            if (!NUMBER.matcher(value).matches()) {
                throw new ConfigException("作業番号は 2026-0003 の形で指定してください / the work order number looks like"
                        + " 2026-0003");
            }
            number = value;
        }
        return number == null ? Optional.empty() : Optional.of(new Split(number, rest));
    }

    /**
     * Checks the work order for {@code command} (with its subcommand, e.g. "registers export") on the data folder the
     * arguments name, records the run, and returns the number to bind; throws {@link ConfigException} (one line) when
     * the work order does not allow it.
     */
    static String admit(String command, List<String> rest, String number, String operator, Map<String, String> env)
            throws Exception {
        List<String> db = new ArrayList<>();
        for (int i = 0; i < rest.size(); i++) {
            String a = rest.get(i);
            String name = a.contains("=") ? a.substring(0, a.indexOf('=')) : a;
            if (DATABASE.contains(name)) {
                db.add(a);
                if (!a.contains("=") && i + 1 < rest.size()) {
                    db.add(rest.get(++i));
                }
            }
        }
        boolean export = EXPORTS.contains(command);
        try (Main.Opened o = Main.Opened.open(Args.parse(db, DATABASE, List.of()), env);
             AuditTrail trail = Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
            AuditRecorder audit = new AuditRecorder(trail);
            Clock clock = Clock.systemUTC();
            WorkOrders orders = new WorkOrders(o.db.dataSource(), audit, new Vendors(o.db.dataSource(), audit, null,
                    clock), clock, ZoneId.of("Asia/Tokyo"));
            Optional<WorkOrders.WorkOrder> w = orders.find(number);
            String refusal = null;
            if (w.isEmpty()) {
                refusal = "作業番号 " + number + " の作業申請はありません / there is no work order " + number;
            } else if (w.get().state(clock.instant()) != WorkOrders.State.ACTIVE) {
                refusal = "作業番号 " + number + " は、今は承認された作業の時間帯ではありません / work order " + number
                        + " is not inside an approved window now";
            } else if (export && !w.get().exportData()) {
                refusal = "作業番号 " + number + " ではデータの持ち出しが承認されていません / work order " + number
                        + " did not approve taking data out";
            }
            Actor actor = Actor.server("cli");
            audit.append(AuditEvent.by(actor, AuditAction.MAINTENANCE_COMMAND)
                    .outcome(refusal == null ? Outcome.SUCCESS : Outcome.REFUSED).purpose(Purpose.MAINTENANCE)
                    .detail("workOrder", number).detail("command", command).detail("export", Boolean.toString(export))
                    .detail("operator", operator).build());
            if (refusal != null) {
                throw new ConfigException(refusal);
            }
            return number;
        }
    }
}
