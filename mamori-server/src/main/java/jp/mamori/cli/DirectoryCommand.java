package jp.mamori.cli;

import jp.mamori.audit.Actor;
import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.config.DirectoryOptions;
import jp.mamori.directory.DirectorySync;
import jp.mamori.directory.LdapDirectory;
import jp.mamori.identity.Accounts;

import java.io.PrintStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code mamori directory sync --data DIR --directory-url … }: one directory sync now (issue 21; ACCT-2), with the
 * server running or stopped, under the same advisory lock as the server's runs. The same {@code --directory-*}
 * options as {@code serve}. One line; exit 0 when the run succeeded, 1 when it failed (nobody was suspended) or
 * another run holds the lock, 2 for a usage or configuration error.
 */
final class DirectoryCommand {
    static final String USAGE = """
              directory sync   --data DIR --directory-url URL --directory-bind-dn DN --directory-password-file FILE
                               --directory-base DN [the other --directory-* options of serve]
                               one directory sync now: leavers suspended; exit 0 done, 1 failed (nobody suspended)
            """;
    private static final List<String> COMMON = List.of("--data", "--db-url", "--db-user", "--db-password");

    private DirectoryCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws Exception {
        if (args.isEmpty() || !args.get(0).equals("sync")) {
            err.println("mamori directory: sync を指定してください / say sync");
            err.print(USAGE);
            return 2;
        }
        List<String> names = new ArrayList<>(COMMON);
        names.addAll(DirectoryOptions.OPTIONS);
        Args all = Args.parse(args.subList(1, args.size()), names, List.of());
        DirectoryOptions o = DirectoryOptions.from(all);
        if (!o.enabled()) {
            throw new ConfigException("--directory-url などディレクトリの設定が必要です / the directory options are"
                    + " required (--directory-url …)");
        }
        LdapDirectory ldap = new LdapDirectory(o);
        Actor by = Main.tool("directory", "directory sync");
        // the database options are read from the same arguments: Opened takes only those it knows
        try (Main.Opened opened = Main.Opened.open(all, env);
             AuditTrail trail = Audit.toolTrail(opened.db.dataSource(), opened.dataDir)) {
            DirectorySync sync = new DirectorySync(opened.db.dataSource(), new Accounts(opened.db.dataSource(),
                    Clock.systemUTC()), new AuditRecorder(trail), Clock.systemUTC(), o, ldap);
            Optional<DirectorySync.Run> run = sync.run(DirectorySync.Trigger.CLI, by);
            if (run.isEmpty()) {
                err.println("mamori directory sync: 別の同期が実行中です / another sync is running");
                return 1;
            }
            DirectorySync.Run r = run.get();
            if (!r.success()) {
                err.println("mamori directory sync: 失敗、誰も停止していません / failed, nobody suspended: " + r.reason());
                return 1;
            }
            out.println("同期しました / synced: 確認 " + r.checked() + " 件、連携 " + r.linked() + " 人、停止 "
                    + r.suspended() + " 人 / " + r.checked() + " checked, " + r.linked() + " linked, " + r.suspended()
                    + " suspended");
            return 0;
        }
    }
}
