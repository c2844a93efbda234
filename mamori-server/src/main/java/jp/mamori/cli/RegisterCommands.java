package jp.mamori.cli;

import jp.mamori.audit.Actor;
import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.compliance.ComplianceException;
import jp.mamori.compliance.RegisterKind;
import jp.mamori.compliance.Registers;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code mamori registers export|import KIND FILE}: a register (台帳) of the compliance console as CSV (issue 20), with
 * the server running or stopped. Import is all or nothing, like the console's; each version written is an audit entry
 * ({@code compliance.register}) whose author is this tool with the OS user who ran it.
 */
final class RegisterCommands {
    static final String USAGE = """
              registers export --data DIR KIND FILE   a register as CSV (UTF-8 with BOM for Excel); KIND is one of
                               devices, vendors, appointments, contacts, bcp, training, risks, incidents
              registers import --data DIR KIND FILE   add and update rows from a CSV (at most 2 MiB, 5,000 rows);
                               one bad row refuses the whole file with its line and reason
            """;
    private static final List<String> COMMON = List.of("--data", "--db-url", "--db-user", "--db-password");

    private RegisterCommands() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws Exception {
        if (args.isEmpty() || !List.of("export", "import").contains(args.get(0))) {
            err.println("mamori registers: export か import を指定してください / say export or import");
            err.print(USAGE);
            return 2;
        }
        String sub = args.get(0);
        List<String> options = new ArrayList<>(args.subList(1, args.size()));
        List<String> positional = new ArrayList<>();
        while (options.size() >= 1 && positional.size() < 2) {
            String last = options.get(options.size() - 1);
            boolean valueOfOption = options.size() >= 2 && COMMON.contains(options.get(options.size() - 2));
            if (last.startsWith("-") || valueOfOption) {
                break;
            }
            positional.add(0, options.remove(options.size() - 1));
        }
        Args a = Args.parse(options, COMMON, List.of());
        if (positional.size() != 2) {
            throw new ConfigException("台帳の種類とファイルを指定してください / name the register and the file: mamori"
                    + " registers " + sub + " --data DIR KIND FILE");
        }
        RegisterKind kind = RegisterKind.of(positional.get(0)).orElseThrow(() -> new ConfigException(
                "台帳の種類は次のどれかです / the register is one of: " + RegisterKind.ALL.stream()
                        .map(RegisterKind::key).collect(Collectors.joining(", "))));
        Path file = Path.of(positional.get(1));
        byte[] csv = null;
        if (sub.equals("import")) {
            if (!Files.isRegularFile(file)) {
                err.println("mamori registers import: " + file + ": ファイルがありません / no such file");
                return 2;
            }
            try (InputStream in = Files.newInputStream(file)) {
                csv = in.readNBytes(Registers.MAX_CSV_BYTES + 1);
            }
        }
        Actor by = Main.tool("registers", "registers");
        try (Main.Opened o = Main.Opened.open(a, env);
             AuditTrail trail = Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
            Registers registers = new Registers(o.db.dataSource(), new AuditRecorder(trail), Clock.systemUTC(),
                    java.time.ZoneId.of("Asia/Tokyo"));
            if (sub.equals("export")) {
                Files.write(file, registers.exportCsv(kind));
                int rows = registers.current(kind).size();
                // data leaving the system: an entry (a work order's report lists it under 持ち出し)
                new AuditRecorder(trail).append(jp.mamori.audit.AuditEvent.by(by, jp.mamori.audit.AuditAction.EXPORT)
                        .detail("register", kind.key()).detail("rows", Integer.toString(rows)).build());
                out.println("書き出しました / exported: " + kind.titleJa() + " → " + file + " (" + rows + " 件 / rows)");
                return 0;
            }
            try {
                Registers.Imported done = registers.importCsv(by, kind, csv);
                out.println("取り込みました / imported: " + kind.titleJa() + ": 追加 " + done.added() + " 件、変更 "
                        + done.changed() + " 件、変更なし " + done.unchanged() + " 件 / added " + done.added()
                        + ", changed " + done.changed() + ", unchanged " + done.unchanged());
                return 0;
            } catch (ComplianceException e) {
                err.println("mamori registers import: " + file + ": " + e.getMessage());
                return 2;
            }
        }
    }
}
