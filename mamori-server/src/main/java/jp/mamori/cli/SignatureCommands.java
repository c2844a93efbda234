package jp.mamori.cli;

import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.audit.Audit;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditTrail;
import jp.mamori.audit.Outcome;
import jp.mamori.config.Args;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Tx;
import jp.mamori.identity.People;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.signatures.SignatureCheck;
import jp.mamori.signatures.SignatureFailure;
import jp.mamori.signatures.SignatureSetup;
import jp.mamori.signatures.SignatureStore;
import jp.mamori.signatures.Signatures;
import jp.mamori.signatures.Signed;
import jp.mamori.signatures.SignerKey;
import jp.mamori.signatures.SigningKeyRegistry;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * {@code mamori signing-key} and {@code mamori verify-signatures} (issue 17; ADR 0012). Registering a key opens it
 * with the holder's PIN (from {@code MAMORI_SIGNING_PIN}, never the command line, which every user can read), signs a
 * probe to prove the key, its certificate chain and its revocation status, and checks that the certificate names the
 * account's person and only qualifications recorded for them (SIGN-5). Each run is an audit entry.
 */
final class SignatureCommands {
    static final String USAGE = """
              signing-key add  --data DIR --account LOGIN (--pkcs12 FILE | --pkcs11 LIBRARY:TOKEN:KEY)
                               register a person's signing key; its PIN in MAMORI_SIGNING_PIN (checked, not kept)
              signing-key list --data DIR   the registered keys
              signing-key retire --data DIR --account LOGIN
              verify-signatures --data DIR [--patient ID | --document TYPE/ID]   validate signed versions
            """;
    private static final List<String> COMMON = List.of("--data", "--db-url", "--db-user", "--db-password",
            "--signature-trust-dir", "--signature-tsa-url");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'JST'")
            .withZone(ZoneId.of("Asia/Tokyo"));

    private SignatureCommands() {
    }

    private static List<String> with(String... more) {
        List<String> out = new ArrayList<>(COMMON);
        out.addAll(List.of(more));
        return out;
    }

    private static Signatures signatures(Args a, Map<String, String> env) {
        ServerConfig cfg = Main.serveConfig(a, COMMON, env);
        ServerConfig.SignatureOptions given = cfg.signatures();
        ServerConfig.SignatureOptions o = a.flag("--signature-offline-revocation")
                ? new ServerConfig.SignatureOptions(given.trustDir(), given.tsaUrls(), false, given.sealPkcs12(),
                given.sealPkcs11(), given.renewDays(), given.institutionName()) : given;
        return new Signatures(SignatureSetup.settings(o).orElseThrow(() -> new ConfigException(
                "信頼する認証局の証明書がありません / no trusted root certificates in " + o.trustDir()
                        + " (--signature-trust-dir)")));
    }

    private static void record(Main.Opened o, AuditAction action, Outcome outcome, Map<String, String> detail) {
        try (AuditTrail trail = Audit.toolTrail(o.db.dataSource(), o.dataDir)) {
            new AuditRecorder(trail).append(AuditEvent.by(Actor.server("cli"), action).outcome(outcome)
                    .details(detail).build());
        }
    }

    static int signingKey(List<String> args, PrintStream out, PrintStream err, Map<String, String> env)
            throws Exception {
        if (args.isEmpty()) {
            err.print(USAGE);
            return 2;
        }
        String sub = args.get(0);
        List<String> rest = args.subList(1, args.size());
        switch (sub) {
            case "add" -> {
                Args a = Args.parse(rest, with("--account", "--pkcs12", "--pkcs11"),
                        List.of("--signature-offline-revocation"));
                String login = a.value("--account").orElseThrow(() -> new ConfigException("--account が必要です /"
                        + " --account LOGIN is needed"));
                if (a.value("--pkcs12").isPresent() == a.value("--pkcs11").isPresent()) {
                    throw new ConfigException("--pkcs12 FILE か --pkcs11 LIBRARY:TOKEN:KEY のどちらか一つです / give"
                            + " --pkcs12 FILE or --pkcs11 LIBRARY:TOKEN:KEY");
                }
                String kind = a.value("--pkcs12").isPresent() ? "pkcs12" : "pkcs11";
                String locator = a.value("--pkcs12").map(p -> Path.of(p).toAbsolutePath().normalize().toString())
                        .orElseGet(() -> a.value("--pkcs11").orElseThrow());
                try {
                    SigningKeyRegistry.checkLocator(kind, locator);
                } catch (SignatureFailure f) {
                    throw new ConfigException(f.getMessage());
                }
                String pin = env.get("MAMORI_SIGNING_PIN");
                Signatures sigs = signatures(a, env);
                try (Main.Opened o = Main.Opened.open(a, env)) {
                    UUID account = Tx.read(o.db.dataSource(), c -> People.idOf(c, login)).orElseThrow(() ->
                            new ConfigException("アカウント " + login + " がありません / no account " + login));
                    SigningKeyRegistry.Registered r;
                    try (SignerKey key = SigningKeyRegistry.open(kind, locator, pin == null ? null : pin.toCharArray())) {
                        // who it is and what they are qualified for first, then the key, chain and revocation
                        Tx.read(o.db.dataSource(), c -> SigningKeyRegistry.requireHolder(c, account, key.certificate()));
                        Signed probe = sigs.sign(("mamori signing-key probe " + login).getBytes(StandardCharsets.UTF_8),
                                key);
                        r = Tx.inTransaction(o.db.dataSource(), c -> SigningKeyRegistry.register(c, account, kind,
                                locator, key.certificate(), "cli:" + System.getProperty("user.name", "?"),
                                Clock.systemUTC().instant()));
                        out.println("signing-key: registered for " + login + ": " + r.describe() + ", valid until "
                                + TIME.format(r.notAfter()) + (probe.timestampPending()
                                ? " (the TSA did not answer: " + probe.pendingReason().orElse("") + ")" : "")
                                + " / 署名鍵を登録しました");
                    } catch (SignatureFailure f) {
                        record(o, AuditAction.SIGNATURE_KEY, Outcome.INVALID, Map.of("account", login, "kind", kind,
                                "problem", f.reason().name()));
                        err.println("mamori signing-key add: " + f.getMessage());
                        return 1;
                    }
                    record(o, AuditAction.SIGNATURE_KEY, Outcome.SUCCESS, Map.of("account", login, "kind", kind,
                            "subject", r.subjectName(), "role", r.roleLabel() == null ? "-" : r.roleLabel(),
                            "serial", r.certificate().getSerialNumber().toString(16)));
                }
                return 0;
            }
            case "list" -> {
                Args a = Args.parse(rest, COMMON, List.of());
                try (Main.Opened o = Main.Opened.open(a, env)) {
                    List<SigningKeyRegistry.Registered> all = Tx.read(o.db.dataSource(), SigningKeyRegistry::all);
                    Map<UUID, People.Person> people = Tx.read(o.db.dataSource(), c -> People.of(c,
                            all.stream().map(SigningKeyRegistry.Registered::accountId).toList()));
                    for (SigningKeyRegistry.Registered r : all) {
                        People.Person p = people.get(r.accountId());
                        out.println((p == null ? r.accountId().toString() : p.loginId()) + "\t" + r.kind() + "\t"
                                + r.subjectName() + "\t" + (r.roleLabel() == null ? "-" : r.roleLabel()) + "\t"
                                + TIME.format(r.notAfter()) + "\t" + r.locator());
                    }
                    out.println("signing-key: " + all.size() + " keys / 登録済みの署名鍵 " + all.size() + " 件");
                }
                return 0;
            }
            case "retire" -> {
                Args a = Args.parse(rest, with("--account"), List.of());
                String login = a.value("--account").orElseThrow(() -> new ConfigException("--account が必要です /"
                        + " --account LOGIN is needed"));
                try (Main.Opened o = Main.Opened.open(a, env)) {
                    UUID account = Tx.read(o.db.dataSource(), c -> People.idOf(c, login)).orElseThrow(() ->
                            new ConfigException("アカウント " + login + " がありません / no account " + login));
                    boolean done = Tx.inTransaction(o.db.dataSource(), c -> SigningKeyRegistry.retire(c, account,
                            "cli:" + System.getProperty("user.name", "?"), Clock.systemUTC().instant()));
                    record(o, AuditAction.SIGNATURE_KEY, Outcome.of(done), Map.of("account", login, "retired",
                            Boolean.toString(done)));
                    out.println(done ? "signing-key: retired the key of " + login + " / 署名鍵を廃止しました"
                            : "signing-key: " + login + " has no active key / 有効な署名鍵はありません");
                    return done ? 0 : 1;
                }
            }
            default -> {
                err.println("mamori signing-key: unknown subcommand '" + sub + "'; say add, list or retire");
                return 2;
            }
        }
    }

    /**
     * {@code verify-signatures}: validates every signed version (or those of one patient or document) against its
     * stored bytes, stores each outcome with its ETSI report and prints one line each; exit 1 when any is not valid.
     */
    static int verify(List<String> args, PrintStream out, PrintStream err, Map<String, String> env) throws Exception {
        Args a = Args.parse(args, with("--patient", "--document"), List.of("--signature-offline-revocation"));
        Signatures sigs = signatures(a, env);
        try (Main.Opened o = Main.Opened.open(a, env)) {
            RecordService records = new RecordService(o.db.dataSource(), new AccessPolicy(), new FhirSupport(), 100,
                    1000);
            Predicate<SignatureStore.Row> which = r -> true;
            if (a.value("--document").isPresent()) {
                String d = a.value("--document").get();
                if (!d.matches("[A-Z][A-Za-z]{1,63}/[A-Za-z0-9\\-.]{1,64}")) {
                    throw new ConfigException("--document は TYPE/ID です / --document takes TYPE/ID, e.g."
                            + " Composition/abc");
                }
                which = r -> (r.type() + "/" + r.resId()).equals(d);
            } else if (a.value("--patient").isPresent()) {
                String pid = a.value("--patient").get();
                if (!pid.matches("[A-Za-z0-9\\-.]{1,64}")) {
                    throw new ConfigException("--patient は患者 ID です / --patient takes a patient id");
                }
                Set<String> docs = documentsOf(records, pid);
                which = r -> docs.contains(r.type() + "/" + r.resId());
            }
            SignatureCheck check = new SignatureCheck(o.db.dataSource(), records, sigs, Clock.systemUTC());
            long[] n = check.checkAll(which, k -> {
                SignatureStore.Row r = k.row();
                String when = k.validation() != null && k.validation().signingTime().isPresent()
                        ? TIME.format(k.validation().signingTime().get()) + " (time-stamp)"
                        : "no time-stamp / タイムスタンプなし";
                out.println((k.passed() ? "VALID   " : "INVALID ") + r.ref() + "  " + r.signerName()
                        + (r.signerRole() == null ? "" : " (" + r.signerRole() + ")") + "  " + when + "  " + k.level()
                        + "  " + k.indication() + (k.passed() ? "" : ": " + k.reason()));
            });
            Map<String, String> detail = new LinkedHashMap<>();
            detail.put("valid", Long.toString(n[0]));
            detail.put("notValid", Long.toString(n[1]));
            a.value("--document").ifPresent(d -> detail.put("document", d));
            a.value("--patient").ifPresent(p -> detail.put("patient", p));
            record(o, AuditAction.VERIFY_SIGNATURES, Outcome.of(n[1] == 0), detail);
            out.println("verify-signatures: " + (n[0] + n[1]) + " signed versions, " + n[0] + " valid, " + n[1]
                    + " not valid / 署名済みの版 " + (n[0] + n[1]) + " 件（有効 " + n[0] + " 件）");
            return n[1] == 0 ? 0 : 1;
        }
    }

    /** The documents (Composition ids) of a patient, through the record service. */
    private static Set<String> documentsOf(RecordService records, String patientId) {
        Set<String> out = new HashSet<>();
        Map<String, List<String>> p = new LinkedHashMap<>();
        p.put("patient", List.of("Patient/" + patientId));
        p.put("_count", List.of("1000"));
        Caller reader = Caller.system("verify-signatures");
        while (true) {
            RecordService.SearchPage page = records.search(reader, "Composition", p);
            for (RecordService.Stored s : page.matches()) {
                out.add("Composition/" + s.id());
            }
            if (page.nextCursor() == null) {
                return out;
            }
            p.put("_cursor", List.of(page.nextCursor()));
        }
    }
}
