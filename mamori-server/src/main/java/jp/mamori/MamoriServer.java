package jp.mamori;

import jp.mamori.access.AccessPolicy;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.db.Database;
import jp.mamori.identity.Bootstrap;
import jp.mamori.identity.Identity;
import jp.mamori.identity.Logins;
import jp.mamori.identity.Sessions;
import jp.mamori.web.console.Console;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import jp.mamori.identity.SystemClients;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.web.ApiHandler;
import jp.mamori.records.api.FhirEndpoint;
import jp.mamori.web.HttpServer;
import jp.mamori.web.Tls;
import org.hl7.fhir.r4.model.Patient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

/** A running Mamori: database, record service and HTTPS listener, started and stopped together. */
public final class MamoriServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MamoriServer.class);
    public static final String VERSION = "0.1.0";
    /** The record store's index of stays, which access asks for care relationships from encounters (ADR 0009). */
    private static final jp.mamori.access.EncounterStays ENCOUNTERS = new jp.mamori.records.EncounterCare();

    private final ServerConfig config;
    private final DataFolderLock lock;
    private final Database db;
    private final RecordService records;
    private final SystemClients clients;
    private final HttpServer http;
    private final Tls.Material tls;
    private final Optional<Path> bootstrapFile;
    private final Identity identity;
    private final java.util.concurrent.ScheduledExecutorService sweeper;
    private jp.mamori.audit.Audit audit;
    private jp.mamori.preservation.Backups backups;
    private jp.mamori.preservation.PgBackRestBackups pgBackRest;
    private jp.mamori.signatures.SignatureUpkeep signatureUpkeep;
    private Console console;
    private jp.mamori.continuity.DowntimeKit downtimeKit;
    private jp.mamori.signatures.PdfSeal seal;
    private jp.mamori.ops.Health health;
    private jp.mamori.ops.Alerts alerts;
    private jp.mamori.compliance.Probes probes;
    private jp.mamori.compliance.Registers registers;
    private jp.mamori.maintenance.VendorNotices vendorNotices;
    private jp.mamori.maintenance.WorkOrders workOrders;
    private jp.mamori.maintenance.WorkReports workReports;
    private jp.mamori.directory.DirectorySync directorySync;
    private jp.mamori.access.PartnerShares partnerShares;
    private jp.mamori.bulk.BulkExport bulk;
    private jp.mamori.disclosure.Disclosures disclosures;
    private jp.mamori.federation.Federation federation;
    private jp.mamori.ops.Metrics metrics;
    private jp.mamori.db.Leadership leadership;

    private MamoriServer(ServerConfig config, DataFolderLock lock, Database db, RecordService records,
                         SystemClients clients, HttpServer http, Tls.Material tls, Optional<Path> bootstrapFile,
                         Identity identity, java.util.concurrent.ScheduledExecutorService sweeper) {
        this.config = config;
        this.lock = lock;
        this.db = db;
        this.records = records;
        this.clients = clients;
        this.http = http;
        this.tls = tls;
        this.bootstrapFile = bootstrapFile;
        this.identity = identity;
        this.sweeper = sweeper;
    }

    /** Starts everything; on failure, whatever was started is stopped again. */
    public static MamoriServer start(ServerConfig cfg) throws Exception {
        return start(cfg, Logins.Settings.DEFAULT);
    }

    /**
     * As {@link #start(ServerConfig)}, with the environment secrets are read from (the institution seal's PIN,
     * {@code MAMORI_SEAL_PIN}); {@code serve} passes the process's.
     */
    public static MamoriServer start(ServerConfig cfg, java.util.Map<String, String> env) throws Exception {
        return start(cfg, Logins.Settings.DEFAULT, false, env);
    }

    /**
     * As {@link #start(ServerConfig)} with other login throttling settings. Not reachable from {@code serve}:
     * for the identity benchmark, whose clients all come from one address and would otherwise meet the
     * per-address limit after a few logins.
     */
    public static MamoriServer start(ServerConfig cfg, Logins.Settings logins) throws Exception {
        return start(cfg, logins, false, System.getenv());
    }

    /**
     * A server on a restored copy that a restore drill checks and throws away ({@link DrillChecks}): its settings
     * (plain HTTP on loopback, no backups, a scratch anchor folder) are the drill's, not the hospital's, so their
     * deviations are logged at debug level instead of being printed among the drill's findings as if they were real.
     */
    static MamoriServer startScratch(ServerConfig cfg) throws Exception {
        return start(cfg, Logins.Settings.DEFAULT, true, java.util.Map.of());
    }

    /** An external database's {@code server_version} for the end-of-support list (VULN-4); empty when embedded. */
    private static java.util.Optional<String> externalPostgresVersion(ServerConfig cfg, Database db) {
        if (cfg.database().embedded()) {
            return java.util.Optional.empty();
        }
        try (java.sql.Connection c = db.dataSource().getConnection();
             java.sql.Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SHOW server_version")) {
            return rs.next() ? java.util.Optional.of(rs.getString(1)) : java.util.Optional.empty();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("cannot read the database's version", e);
        }
    }

    private static void deviation(boolean scratch, String d) {
        if (scratch) {
            log.debug("scratch copy's setting (not a deviation of this installation): {}", d);
        } else {
            log.warn("DEVIATION from the secure defaults: {}", d);
        }
    }

    private static MamoriServer start(ServerConfig cfg, Logins.Settings logins, boolean scratch,
                                      java.util.Map<String, String> env) throws Exception {
        if (jp.mamori.kernel.BenchBuild.UNAUDITED && !ServerConfig.isLoopback(cfg.bindAddress())) {
            throw new ConfigException("this is a measurement build without auditing; it binds only to a loopback"
                    + " address (--bind 127.0.0.1) / 監査記録のない計測用ビルドです。ループバックアドレスでのみ起動できます");
        }
        for (String d : cfg.deviations()) {
            deviation(scratch, d);
        }
        DataFolderLock lock = DataFolderLock.acquire(cfg.dataDir());
        jp.mamori.signatures.PdfSeal seal;
        jp.mamori.signatures.Signatures signatures;
        try {
            refuseUnfinishedRestore(cfg.dataDir());
            refuseEmbeddedOnMovedFolder(cfg);
            checkDirectory(cfg);
            signatures = signatures(cfg);
            seal = openSeal(cfg, env, signatures).orElse(null);
        } catch (ConfigException e) {
            lock.close();
            throw e;
        }
        for (String d : cfg.signatures().deviations()) {
            deviation(scratch, d);
        }
        Database db = null;
        jp.mamori.audit.Audit audit = null;
        jp.mamori.preservation.Backups backups = null;
        jp.mamori.preservation.PgBackRestBackups pgBackRest = null;
        List<String> backupDeviations = List.of();
        jp.mamori.continuity.DowntimeKit downtimeKit = null;
        jp.mamori.db.Leadership leadership = null;
        try {
            boolean readOnly = cfg.ops().readOnly();
            if (readOnly) {
                // DEGRADED-4: the standalone viewer on a copied or restored data folder, when production must stay off
                log.warn("READ-ONLY standalone viewer (serve --read-only) on {}: the database refuses writes, nothing"
                        + " is migrated, and no backups, sweeps, kits or signatures run; clinicians sign in and read"
                        + " charts, every page says so / 読み取り専用の参照用起動です。書き込みはできません", cfg.dataDir());
                db = Database.openReadOnly(cfg.database(), cfg.dataDir(), 24);
            } else {
                db = Database.open(cfg.database(), cfg.dataDir(), 24);
            }
            checkDurability(db, cfg);
            // The jobs that must run once per installation, however many processes share the database (issue 18 §1,
            // ADR 0013): each under its own advisory lock, taken by whichever process gets it first.
            Database leaderDb = db;
            leadership = new jp.mamori.db.Leadership(() -> leaderDb.sessionConnection(
                    "mamori-leader-" + ProcessHandle.current().pid()),
                    Clock.systemUTC());
            java.util.Map<String, java.util.function.BooleanSupplier> leads = jobs(leadership);
            leadership.start();
            ServerConfig.AccessOptions ao = cfg.access();
            jp.mamori.access.SecurityNotifier notifier = new jp.mamori.access.LogNotifier();
            if (ao.syslog().isPresent()) {
                notifier = jp.mamori.access.SecurityNotifier.all(List.of(notifier, new jp.mamori.access.SyslogNotifier(
                        ao.syslogHost(), ao.syslogPort(), java.net.InetAddress.getLocalHost().getHostName(),
                        ao.syslogTls() ? (javax.net.ssl.SSLSocketFactory) javax.net.ssl.SSLSocketFactory.getDefault()
                                : null)));
            }
            // the start entry names every weaker setting, the signature settings' too (issue 17)
            List<String> startDeviations = new java.util.ArrayList<>(cfg.deviations());
            startDeviations.addAll(cfg.signatures().deviations());
            // the notifier goes to the audit too: a checkpoint refused over an entry no appender stored is a notice
            audit = jp.mamori.audit.Audit.start(db.dataSource(), cfg.audit(),
                    java.net.InetAddress.getLocalHost().getHostName(), VERSION, startDeviations, cfg.dataDir(),
                    notifier, db.availability());
            audit.ledBy(leads.get(JOB_CHECKPOINTER), leads.get(JOB_AUDIT_REPORTS));
            for (String d : audit.deviations()) {
                deviation(scratch, d);
            }
            // The versions stored before every write's entry named its hashes are named once (issue 17, STORE-1).
            long anchored = readOnly ? -1 : jp.mamori.audit.RecordTrail.anchor(db.dataSource(), audit.recorder());
            if (anchored >= 0) {
                log.info("record store anchored in the audit trail: {} versions stored before now are named with"
                        + " their hashes; every later write names its own", anchored);
            }
            // Backups of the embedded database (ADR 0010); an external one is backed up by its own tools for now.
            if (readOnly) {
                backupDeviations = List.of("serve --read-only: no backups are taken of this copy / 読み取り専用のため"
                        + "バックアップは取りません");
            } else if (cfg.database().embedded()) {
                backups = jp.mamori.preservation.Backups.open(cfg.dataDir(), cfg.backup(), audit.recorder(),
                        Clock.systemUTC(), cfg.timeZone()).notifying(notifier);
                ServerConfig drillCfg = cfg;
                jp.mamori.access.SecurityNotifier drillNotices = notifier;
                backups.start(() -> DrillChecks.runAsProcess(drillCfg, drillNotices));
                backupDeviations = backups.deviations(); // reads every manifest: once at start
                for (String d : backupDeviations) {
                    deviation(scratch, d);
                }
            } else if (cfg.pgbackrest().configured()) {
                // An external database backed up through pgBackRest, which the DBA set up (ADR 0010).
                pgBackRest = jp.mamori.preservation.PgBackRestBackups.open(cfg.dataDir(), cfg, audit.recorder(),
                        Clock.systemUTC()).notifying(notifier);
                pgBackRest.check();
                pgBackRest.ledBy(leads.get(JOB_BACKUPS));
                ServerConfig drillCfg = cfg;
                jp.mamori.access.SecurityNotifier drillNotices = notifier;
                pgBackRest.start(() -> DrillChecks.runAsProcess(drillCfg, drillNotices));
                backupDeviations = pgBackRest.deviations();
                for (String d : backupDeviations) {
                    log.warn("DEVIATION from the secure defaults: {}", d);
                }
            }
            FhirSupport fhir = fhirSupport(cfg);
            fhir.validate(new Patient().setActive(true)); // load the R4 definitions before accepting requests
            jp.mamori.access.BreakGlass breakGlass = new jp.mamori.access.BreakGlass(db.dataSource(), Clock.systemUTC(),
                    new jp.mamori.access.BreakGlass.Settings(Duration.ofHours(ao.breakGlassHours()),
                            Duration.ofHours(ao.reviewEscalationHours())), notifier);
            // One authorization point for every path to patient data (ACCESS-*): system clients by scope, people by
            // roles, care relationships (recorded and from encounters), sensitivity privileges and break-glass.
            AccessPolicy policy = new AccessPolicy(jp.mamori.access.Categories.load(db.dataSource()),
                    jp.mamori.access.PersonAccess.load(db.dataSource()), breakGlass,
                    new jp.mamori.access.EncounterRelations(db.dataSource(), ENCOUNTERS), Clock.systemUTC());
            // Proxy entries (代行入力, issue 18 §4): their responsible people see the drafts entered for them.
            jp.mamori.access.ProxyEntries proxyEntries = new jp.mamori.access.ProxyEntries(db.dataSource(),
                    Clock.systemUTC(), Duration.ofHours(ao.proxyEscalateHours()));
            policy.proxies(proxyEntries);
            RecordService records = new RecordService(db.dataSource(), policy, fhir,
                    cfg.defaultPageSize(), cfg.maxPageSize());
            jp.mamori.records.api.ApiAudit apiAudit = new jp.mamori.records.api.ApiAudit(audit.recorder(), db.dataSource());
            // Every write's entry commits in the write's transaction and names each version's hashes (AUDIT-1,
            // STORE-1); the FHIR API and the console say who and why through their WriteEntries.Context.
            records.journal(new jp.mamori.audit.WriteEntries(audit.recorder()));
            // Signatures on finalized documents (issue 17, ADR 0012): signed in the finalizing transaction.
            jp.mamori.signatures.DocumentSigning documentSigning = new jp.mamori.signatures.DocumentSigning(
                    signatures, Clock.systemUTC());
            records.commitStep(documentSigning);
            List<String> signatureDeviations = new java.util.ArrayList<>(cfg.signatures().deviations()); // logged above
            if (signatures == null) {
                String d = "no trusted root certificates in " + cfg.signatures().trustDir()
                        + ": documents cannot be signed (SIGN-1) / 信頼する認証局が未設定のため電子署名できません";
                signatureDeviations.add(d);
                deviation(scratch, d);
            }
            SystemClients clients = new SystemClients(db.dataSource(), cfg.accessTokenLifetime());
            clients.degradedWhile(db.availability()); // tokens are issued while read-only too (issue 18 §2)
            Tls.Material tls = cfg.plainHttp() ? null : Tls.material(cfg);
            FhirEndpoint endpoint = new FhirEndpoint(records, VERSION).refuseWritesWhile(db.availability()::degraded)
                    // the patient's whole record, a page at a time, through the same searches (issue 23)
                    .withOperation(jp.mamori.records.api.PatientEverything.NAME,
                            new jp.mamori.records.api.PatientEverything(records));
            // FHIR Bulk Data $export (issue 23): read as the caller through the record service, files in the data folder
            jp.mamori.bulk.BulkExport bulk = new jp.mamori.bulk.BulkExport(records, policy, audit.recorder(),
                    cfg.dataDir(), jp.mamori.bulk.BulkExport.Settings.defaults(), Clock.systemUTC());
            jp.mamori.bulk.web.BulkOperations bulkOps = new jp.mamori.bulk.web.BulkOperations(bulk);
            endpoint.withOperation(jp.mamori.bulk.BulkExport.KICK_OFF, bulkOps.kickOff())
                    .withOperation(jp.mamori.bulk.BulkExport.POLL, bulkOps.poll())
                    .withOperation(jp.mamori.bulk.BulkExport.FILE, bulkOps.file());
            // the JP-CLINS patient summary (issue 23) as an operation on one patient, read as the caller
            endpoint.withOperation(ClinsSummaryOperation.NAME, new ClinsSummaryOperation(
                    new jp.mamori.documents.ClinicalDocuments(records, fhir, Clock.systemUTC())));
            ApiHandler api = new ApiHandler(new jp.mamori.records.api.FhirApi(endpoint, apiAudit), clients,
                    cfg.maxBodyBytes(), tls != null);
            HttpServer http = new HttpServer(cfg, api, tls);
            Optional<Path> bootstrap = readOnly ? Optional.empty() : Bootstrap.ensure(db.dataSource(), cfg.dataDir());
            http.open();
            String origin = publicOrigin(cfg, http.scheme(), http.port());
            log.info("public URL {} ({}): links, Location headers and the token endpoint's audience use it, never a"
                    + " request's Host header", origin, cfg.publicUrl().isPresent() ? "--public-url"
                    : wildcard(cfg.bindAddress()) ? "this machine's name, as the generated certificate has it;"
                    + " set --public-url to the address clients use" : "the listener's address");
            api.publicUrl(origin);
            http.start();
            Identity identity = Identity.create(db.dataSource(), cfg.dataDir(), identitySettings(cfg, http, logins),
                    Clock.systemUTC());
            identity.degradedWhile(db.availability(), db.dataSource()); // sign-in works while read-only (DEGRADED-2)
            List<String> deviations = new java.util.ArrayList<>(cfg.deviations());
            deviations.addAll(audit.deviations());
            deviations.addAll(signatureDeviations);
            if (backups != null || pgBackRest != null || readOnly) {
                deviations.addAll(backupDeviations);
            } else {
                deviations.add("the external database's backups are not taken or checked by Mamori (ADR 0010: its"
                        + " own tools, e.g. pgBackRest) / 外部データベースのバックアップは Mamori の管理外です");
            }
            Console console = new Console(identity, tls != null, Clock.systemUTC(), List.copyOf(deviations));
            console.availability(db.availability()); // the degraded banner and the refusal of writes (issue 18 §2)
            console.alsoServedAt(origin);
            if (cfg.publicUrl().isEmpty()) {
                // Opened by this machine's address (https://10.0.0.5:8443) rather than its name: an address literal
                // cannot be rebound by another site's DNS, so forms from it are as safe as from the public origin.
                for (String o : addressOrigins(cfg.bindAddress(), http.scheme(), http.port())) {
                    console.alsoServedAt(o);
                }
            }
            // Each capability registers its own pages; all of them pass the console's one gate.
            jp.mamori.access.AccessAdmin accessAdmin = jp.mamori.access.AccessAdmin.create(db.dataSource(),
                    Clock.systemUTC());
            new jp.mamori.identity.web.AuthPages(identity, accessAdmin, console).register();
            new jp.mamori.identity.web.AccountPages(identity, accessAdmin, console).register();
            // Patients named by name and 患者ID on the administrator's, break-glass and audit pages (demographics only).
            jp.mamori.audit.PatientDirectory patientDirectory = new jp.mamori.audit.PatientDirectory(records,
                    audit.recorder());
            new jp.mamori.access.web.BreakGlassPages(identity, breakGlass, console, patientDirectory).register();
            new jp.mamori.access.web.AccessPages(identity, accessAdmin, console, patientDirectory).register();
            new jp.mamori.access.web.AccessWaiting(accessAdmin, breakGlass).register(console);
            jp.mamori.audit.web.AuditPages auditPages = new jp.mamori.audit.web.AuditPages(identity, audit, console,
                    patientDirectory, new jp.mamori.audit.RecordTitles(records, cfg.timeZone()), accessAdmin,
                    cfg.signatures().institutionName().orElseGet(console::hostName), cfg.timeZone());
            auditPages.register();
            // The compliance console (issue 20): the checklists as data (seeds and --compliance-dir; a refused file is
            // logged and listed, never stops the start), people's answers, and live evidence by requirement ID.
            // the probes' registry is made once the health report and alerts exist (below); until then, no evidence
            java.util.concurrent.atomic.AtomicReference<jp.mamori.compliance.Probes> liveProbes =
                    new java.util.concurrent.atomic.AtomicReference<>();
            jp.mamori.compliance.EvidenceSource evidence = id -> {
                jp.mamori.compliance.Probes p = liveProbes.get();
                return p == null ? List.of() : p.forRequirement(id);
            };
            jp.mamori.compliance.Frameworks complianceFrameworks = new jp.mamori.compliance.Frameworks(
                    cfg.complianceDir().orElse(null)).load();
            // Documents only people can give (appointments, rules, contracts, the BCP, training), encrypted under
            // the installation's key and kept in the database (every node serves them, the backup carries them); a
            // change re-evaluates the probes at once so that the item's colour follows.
            jp.mamori.compliance.Documents complianceDocuments = new jp.mamori.compliance.Documents(db.dataSource(),
                    audit.recorder(), cfg.dataDir(), Clock.systemUTC(), cfg.timeZone()).onChange(() -> {
                        jp.mamori.compliance.Probes p = liveProbes.get();
                        if (p != null) {
                            Thread.ofVirtual().name("compliance-documents-probes").start(p::evaluate);
                        }
                    });
            jp.mamori.compliance.web.DocumentPages documentPages = new jp.mamori.compliance.web.DocumentPages(
                    complianceDocuments, complianceFrameworks, console, auditPages::mayOpen, cfg.timeZone());
            documentPages.register();
            jp.mamori.compliance.Answers complianceAnswers = new jp.mamori.compliance.Answers(db.dataSource(),
                    audit.recorder(), complianceFrameworks, Clock.systemUTC(), cfg.timeZone());
            new jp.mamori.compliance.web.CompliancePages(complianceFrameworks, complianceAnswers, evidence, console,
                    auditPages::mayOpen, cfg.timeZone()).itemPart(documentPages::itemPart).register();
            // Mamori's own SDS, generated from this configuration, the mapping and the live evidence (issue 20)
            List<String> sdsDeviations = List.copyOf(deviations);
            jp.mamori.compliance.ServiceSpecification sds = new jp.mamori.compliance.ServiceSpecification(
                    complianceFrameworks, jp.mamori.compliance.GuidelineMapping.bundled(), evidence,
                    () -> sdsSettings(cfg, identity.deviations().size()), () -> {
                        List<String> all = new java.util.ArrayList<>(sdsDeviations);
                        all.addAll(identity.deviations());
                        return all;
                    }, VERSION, Clock.systemUTC());
            new jp.mamori.compliance.web.SdsPages(sds, console, auditPages::mayOpen, cfg.timeZone()).register();
            jp.mamori.compliance.Registers registers = new jp.mamori.compliance.Registers(db.dataSource(),
                    audit.recorder(), Clock.systemUTC(), cfg.timeZone()).onChange(() -> {
                        jp.mamori.compliance.Probes p = liveProbes.get();
                        if (p != null) {
                            Thread.ofVirtual().name("compliance-registers-probes").start(p::evaluate);
                        }
                    });
            new jp.mamori.compliance.web.RegisterPages(registers, console, auditPages::mayOpen,
                    cfg.timeZone()).register();
            // The inspection pack (PDF sealed when a seal exists, CSV, OSCAL) with the registers as they stand, and
            // the executive dashboard; the pack's deviations are those of the administrator's home page.
            new jp.mamori.compliance.web.PackPages(complianceFrameworks, complianceAnswers, evidence, console,
                    auditPages::mayOpen, cfg.timeZone(), seal, audit.recorder(),
                    cfg.signatures().institutionName().orElseGet(console::hostName), registers::packSections, () -> {
                        List<String> all = new java.util.ArrayList<>(console.configDeviations());
                        all.addAll(identity.deviations());
                        return all;
                    }).register();
            new jp.mamori.compliance.web.DashboardPages(complianceFrameworks, complianceAnswers, evidence,
                    new jp.mamori.compliance.Reviews(db.dataSource(), audit.recorder(), Clock.systemUTC()), console,
                    auditPages::mayOpen, cfg.timeZone()).register();
            new jp.mamori.preservation.web.BackupPages(backups, cfg.backup(), new DrillChecks(), console,
                    cfg.timeZone()).drivenByPgBackRest(pgBackRest == null ? null : cfg.pgbackrest().stanza().orElse(null))
                    .register();
            new jp.mamori.retention.web.RetentionPages(new jp.mamori.retention.Retention(db, audit.recorder(),
                    audit.reports(), Clock.systemUTC()), console, cfg.timeZone(), cfg.audit().retentionYears())
                    .register();
            // The downtime kit (issue 18 §3, BACKUP-12): encrypted PDFs per ward, made in the background.
            downtimeKit = new jp.mamori.continuity.DowntimeKit(db.dataSource(), records, ENCOUNTERS, audit.recorder(),
                    jp.mamori.continuity.DowntimeKit.sealer(cfg.dataDir()), cfg.downtime(), cfg.timeZone(),
                    Clock.systemUTC(), cfg.signatures().institutionName().orElseGet(Tls::hostName));
            new jp.mamori.continuity.web.DowntimePages(downtimeKit, console, cfg.timeZone()).register();
            jp.mamori.access.PersonContexts personContexts = new jp.mamori.access.PersonContexts(db.dataSource(),
                    ENCOUNTERS, Clock.systemUTC(), 10_000);
            jp.mamori.clinical.Clinical clinical = new jp.mamori.clinical.Clinical(records, policy, personContexts,
                    audit.recorder(), breakGlass, audit.reports(), Clock.systemUTC()).proxies(proxyEntries);
            // Partner clinicians of other institutions (issue 21, AUTH-11): 「連携先と共有」 from the chart, a partner's
            // home, and the reviewers' report of every partner access
            jp.mamori.identity.SecretSealer identityKeys = jp.mamori.identity.SecretSealer.open(cfg.dataDir()
                    .resolve("secrets").resolve("identity-keys"));
            jp.mamori.access.PartnerShares partnerShares = new jp.mamori.access.PartnerShares(db.dataSource(), Clock.systemUTC(),
                    accessAdmin.categories(), jp.mamori.access.PersonAccess.load(db.dataSource()))
                    .sealedWith(identityKeys);
            new jp.mamori.access.web.PartnerPages(identity, partnerShares, s -> personContexts.get(s.accountId(),
                    s.accessVersion()), patientDirectory, audit.reports(), console).register();
            // SMART on FHIR (issue 21): apps acting for a person, decided on the FHIR API as the person AND the scopes
            // they granted; the consent, registration and EHR launch pages in the console.
            jp.mamori.smart.Smart smart = new jp.mamori.smart.Smart(db.dataSource(), audit.recorder(),
                    Clock.systemUTC()).openId(identityKeys, records, identity.accounts(), origin + "/fhir");
            api.smart(smart, personContexts, console::returnAfterLogin);
            new jp.mamori.smart.web.SmartPages(smart, console, records, personContexts, patientDirectory,
                    () -> origin + "/fhir", cfg.timeZone()).register();
            // The patient's own copy (開示請求, issue 23): requests, packages (PDF, FHIR Bundle, access report; sealed
            // when a seal exists) and hand-overs, by the account administrators with a fresh second factor
            jp.mamori.disclosure.Disclosures disclosures = new jp.mamori.disclosure.Disclosures(db.dataSource(),
                    records, audit.recorder(), audit.reports(), seal, Clock.systemUTC(), cfg.timeZone(),
                    cfg.signatures().institutionName().orElseGet(console::hostName), () -> origin + "/fhir");
            new jp.mamori.disclosure.web.DisclosurePages(disclosures, console, patientDirectory, accessAdmin,
                    cfg.timeZone()).register();
            new jp.mamori.clinical.ClinicalPages(clinical, console, cfg.timeZone(), seal)
                    .signing(new jp.mamori.signatures.PersonSigning(db.dataSource(), documentSigning, Clock.systemUTC()))
                    .accountNames(id -> identity.accounts().find(id).map(jp.mamori.identity.Account::displayName)
                            .orElse(null))
                    .institution(cfg.signatures().institutionName().orElseGet(Tls::hostName))
                    .register();
            // JP-CLINS documents (issue 23): referral letters and discharge summaries from the chart, written as the
            // person through the record service, signed with their key at finalization like every locked document.
            new jp.mamori.documents.web.ClinsPages(new jp.mamori.documents.ClinicalDocuments(records, fhir,
                    Clock.systemUTC()), console, records, personContexts, audit.recorder(),
                    cfg.signatures().institutionName().orElseGet(Tls::hostName), cfg.timeZone())
                    .signing(new jp.mamori.signatures.PersonSigning(db.dataSource(), documentSigning, Clock.systemUTC()))
                    .register();
            // Health, metrics and alerts (issue 18 §5): one report for /health, /health/detail and the admin page.
            jp.mamori.ops.Health health = health(cfg, db, audit, backups, pgBackRest, tls);
            jp.mamori.ops.Metrics metrics = new jp.mamori.ops.Metrics().audit(audit.trail()).pool(db.dataSource())
                    .health(health);
            Logins identityLogins = identity.logins();
            jp.mamori.ops.Alerts alerts = new jp.mamori.ops.Alerts(health, notifier, Clock.systemUTC(),
                    since -> identityLogins.failuresSince(since, jp.mamori.ops.Alerts.FAILURE_SCAN),
                    cfg.ops().failedLogins(), Duration.ofMinutes(cfg.ops().failedLoginMinutes()));
            // after-hours and unusual-volume access, as the audit reports define them (AUDIT-8)
            alerts.watch(new jp.mamori.ops.AccessWatch(audit.reports(), Clock.systemUTC(),
                    jp.mamori.audit.AuditReports.JST, cfg.ops().afterHoursAlert(), Duration.ofMinutes(5)));
            metrics.gauge("mamori.login.failures.window", "failed logins in the alert's window", alerts::lastFailures);
            api.observe(metrics::request);
            api.ops(new jp.mamori.ops.web.OpsEndpoint(health, metrics, cfg.ops().anonymousMetrics(), cfg.timeZone()));
            new jp.mamori.ops.web.HealthPages(health, alerts, console, cfg.timeZone()).register();
            // Mamori's own deliverables as a vendor (issue 20): SBOM, end-of-support list, imported advisories
            java.util.Optional<jp.mamori.compliance.Sbom> sbom = jp.mamori.compliance.Sbom.bundled();
            Database vendorDb = db;
            jp.mamori.compliance.EndOfSupport endOfSupport = jp.mamori.compliance.EndOfSupport.running(
                    () -> externalPostgresVersion(cfg, vendorDb));
            jp.mamori.compliance.Advisories advisories = new jp.mamori.compliance.Advisories(cfg.dataDir(), sbom,
                    Clock.systemUTC());
            new jp.mamori.compliance.web.VendorPages(sbom, endOfSupport, advisories, console, cfg.timeZone(),
                    Clock.systemUTC()).register();
            // Vendor notices (issue 19; VULN-2, VULN-3): posted by a vendor's account or for it, acknowledged and
            // tracked to closure by the administrators; an unacknowledged critical or high notice is a deviation.
            jp.mamori.maintenance.VendorNotices vendorNotices = new jp.mamori.maintenance.VendorNotices(db.dataSource(),
                    audit.recorder(), Clock.systemUTC(), cfg.timeZone());
            new jp.mamori.maintenance.web.NoticePages(vendorNotices, console, auditPages::mayOpen, cfg.timeZone(),
                    Clock.systemUTC()).register();
            // Vendor maintenance (issue 19): vendors, their staff and routes, work requests approved in advance
            jp.mamori.maintenance.WorkOrders workOrders = new jp.mamori.maintenance.WorkOrders(db.dataSource(),
                    audit.recorder(), new jp.mamori.maintenance.Vendors(db.dataSource(), audit.recorder(),
                    identity.accounts(), Clock.systemUTC()), Clock.systemUTC(), cfg.timeZone());
            // ... their work reports (generated from the trail, completed by the vendor, approved), the live view and
            // ending a job at once
            jp.mamori.maintenance.WorkReports workReports = new jp.mamori.maintenance.WorkReports(db.dataSource(),
                    audit.recorder(), audit.reports(), workOrders);
            new jp.mamori.maintenance.web.MaintenancePages(workOrders, workReports, identity.sessions(), console,
                    cfg.timeZone()).register();
            // Just-in-time access (issue 19): a vendor's session works only inside an approved window, from its
            // approved source; outside, it reaches the vendor desk (requests, reports, notices) and nothing else
            jp.mamori.maintenance.MaintenanceGate maintenanceGate = new jp.mamori.maintenance.MaintenanceGate(
                    workOrders, audit.recorder(), Clock.systemUTC());
            console.maintenance(maintenanceGate);
            // ... and inside a window that approved patient data, the work order's patients only, read-only
            jp.mamori.maintenance.MaintenanceContexts maintenanceContexts = new jp.mamori.maintenance.MaintenanceContexts(
                    maintenanceGate, db.dataSource(), policy::categoryCodes);
            clinical.maintenance(maintenanceContexts);
            new jp.mamori.maintenance.web.VendorDesk(maintenanceGate, workOrders, maintenanceContexts, console,
                    cfg.timeZone()).register();
            // Directory sync (issue 21; ACCT-2): leavers and people disabled in the institution's directory are
            // suspended within the interval; off unless --directory-url is given
            jp.mamori.directory.DirectorySync directorySync = directorySync(cfg, db, identity, audit);
            if (cfg.directory().enabled()) {
                new jp.mamori.directory.web.DirectoryPages(directorySync, console, cfg.timeZone()).register();
            }
            // Sign-in through the institution's OpenID Connect provider (issue 21; AUTH-1, AUTH-2): registered by an
            // administrator in the console; the secret sealed with identity's key file
            jp.mamori.federation.Federation federation = new jp.mamori.federation.Federation(db.dataSource(),
                    identity.accounts(), identity.logins(), audit.recorder(), jp.mamori.identity.SecretSealer.open(
                    cfg.dataDir().resolve("secrets").resolve("identity-keys")), Clock.systemUTC(),
                    identity.settings().origins().iterator().next());
            new jp.mamori.federation.web.FederationPages(federation, console, cfg.timeZone(), tls != null).register();
            api.console(console);
            for (String d : identity.deviations()) {
                deviation(scratch, d);
            }
            ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "mamori-account-sweep");
                t.setDaemon(true);
                return t;
            });
            ServerConfig.IdentityOptions o = cfg.identity();
            java.util.function.BooleanSupplier sweepLeads = leads.get(JOB_ACCOUNT_SWEEP);
            if (!readOnly) sweeper.scheduleWithFixedDelay(() -> {
                if (!sweepLeads.getAsBoolean()) {
                    return; // another process sweeps for the installation
                }
                try {
                    for (String done : identity.accounts().sweep(o.unusedDays(), o.suspendUnused())) {
                        log.info("accounts: {}", done);
                    }
                } catch (RuntimeException e) {
                    log.warn("account sweep failed: {}", e.getMessage());
                }
                try {
                    breakGlass.escalate(Clock.systemUTC().instant());
                } catch (RuntimeException e) {
                    log.warn("break-glass escalation failed: {}", e.getMessage());
                }
            }, 5, 60, TimeUnit.SECONDS);
            if (!readOnly && cfg.directory().enabled()) {
                directorySync.schedule(sweeper, () -> true); // one node at a time: the sync's advisory lock
            }
            MamoriServer server = new MamoriServer(cfg, lock, db, records, clients, http, tls, bootstrap, identity,
                    sweeper);
            server.directorySync = directorySync;
            server.partnerShares = partnerShares;
            server.bulk = bulk;
            server.disclosures = disclosures;
            server.federation = federation;
            server.audit = audit;
            server.backups = backups;
            server.pgBackRest = pgBackRest;
            server.seal = seal;
            server.console = console;
            // a stale kit, or a ward with patients and no kit password, turns its line red and raises an alert
            jp.mamori.continuity.DowntimeKit kit = downtimeKit;
            health.register(jp.mamori.ops.HealthCheck.of("downtime-kit", false, () -> {
                if (kit.options().minutes() == 0) {
                    return jp.mamori.ops.HealthCheck.Result.degraded("縮退用資料は作成しない設定です / the downtime kit is off");
                }
                long n = kit.deviationCount();
                return n == 0 ? jp.mamori.ops.HealthCheck.Result.up("縮退用資料は最新です / every ward's downtime kit is fresh")
                        : jp.mamori.ops.HealthCheck.Result.down(n + " か所の縮退用資料が古いか、パスワード未設定で作成できません / "
                        + n + " ward(s) with a stale kit or without a kit password");
            }));
            health.register(complianceFrameworks.health());
            jp.mamori.db.Leadership led = leadership;
            health.register(jp.mamori.ops.HealthCheck.of("leadership", false, () -> leadershipLine(led)));
            degradedMode(db.availability(), health, metrics, alerts, cfg.timeZone());
            auditJournal(audit, health);
            if (!cfg.ops().readOnly()) {
                db.monitor(Duration.ofSeconds(cfg.ops().degradedCheckSeconds()));
            }
            // Live compliance probes (issue 20): each control judged from the running system, every few minutes.
            server.registers = registers;
            server.vendorNotices = vendorNotices;
            server.workOrders = workOrders;
            server.workReports = workReports;
            server.probes = probes(cfg, db, audit, identity, accessAdmin, breakGlass, health, alerts, tls,
                    deviations, () -> vendorNotices.deviations(Clock.systemUTC().instant()), readOnly).register(endOfSupport).register(advisories).register(sds.probe())
                    .registerAll(registers.probes())
                    .register(jp.mamori.compliance.StandardProbes.maintenanceWork(() -> {
                        jp.mamori.maintenance.Vendors v = workOrders.vendors();
                        java.util.List<jp.mamori.maintenance.Vendors.Entry> vendors = v.current(
                                jp.mamori.maintenance.Vendors.VENDOR);
                        long routes = v.current(jp.mamori.maintenance.Vendors.ROUTE).size();
                        long without = vendors.stream().filter(e -> v.current(jp.mamori.maintenance.Vendors.ROUTE,
                                e.entry()).isEmpty()).count();
                        return new long[] {vendors.size(), routes, without, workOrders.waiting()};
                    }, () -> workReports.overdue(Clock.systemUTC().instant()).stream()
                            .map(jp.mamori.maintenance.WorkReports.Overdue::text).toList()))
                    .register(jp.mamori.compliance.StandardProbes.directory(
                            directorySync::state,
                            Duration.ofMinutes(cfg.directory().intervalMinutes())))
                    .register(jp.mamori.compliance.StandardProbes.oidc(federation::summary))
                    .register(jp.mamori.compliance.StandardProbes.sealedGrants(db.dataSource(), identityKeys))
                    .register(jp.mamori.compliance.StandardProbes.partners(identity.accounts(), identity.factors(),
                            now -> partnerShares.forReview(90)))
                    .register(jp.mamori.compliance.VendorNoticeProbe.of(vendorNotices::deviations,
                            () -> vendorNotices.waiting(Clock.systemUTC().instant()).open()))
                    .registerAll(complianceDocuments.probes()).ledBy(readOnly ? () -> false : leads.get(JOB_ALERTS))
                    .start(Duration.ofSeconds(15), jp.mamori.compliance.Probes.DEFAULT_EVERY);
            liveProbes.set(server.probes);
            server.health = health;
            server.metrics = metrics;
            server.alerts = alerts.ledBy(leads.get(JOB_ALERTS)).start(Duration.ofSeconds(cfg.ops().checkSeconds()));
            server.downtimeKit = downtimeKit;
            server.leadership = leadership;
            if (!readOnly) {
                downtimeKit.ledBy(leads.get(JOB_DOWNTIME_KIT)).start();
            }
            if (signatures != null && !readOnly) {
                // time-stamps added once the TSA answers, extension to LTA, archive time-stamps renewed (ADR 0012)
                server.signatureUpkeep = new jp.mamori.signatures.SignatureUpkeep(db.dataSource(), signatures,
                        new jp.mamori.signatures.SignatureCheck(db.dataSource(), records, signatures,
                                Clock.systemUTC()), Clock.systemUTC(), Duration.ofDays(cfg.signatures().renewDays()));
                server.signatureUpkeep.ledBy(leads.get(JOB_SIGNATURE_UPKEEP)).start(Duration.ofMinutes(10));
            }
            return server;
        } catch (Exception | Error e) {
            if (leadership != null) {
                leadership.close();
            }
            if (downtimeKit != null) {
                downtimeKit.close();
            }
            if (seal != null) {
                seal.close();
            }
            if (backups != null) {
                backups.close();
            }
            if (pgBackRest != null) {
                pgBackRest.close();
            }
            if (audit != null) {
                audit.close();
            }
            if (db != null) {
                db.close();
            }
            lock.close();
            throw e;
        }
    }

    /**
     * Degraded read-only mode as operations see it (issue 18 §5, DEGRADED-1, NET-13): a critical health line (DEGRADED
     * with since when and why), the gauge {@code mamori.degraded} (0 or 1), and an alert to the notifier (log, syslog,
     * SIEM) and the administrator's console when the mode is entered, cleared when it is left.
     */
    static void degradedMode(jp.mamori.db.Availability availability, jp.mamori.ops.Health health,
                             jp.mamori.ops.Metrics metrics, jp.mamori.ops.Alerts alerts, java.time.ZoneId zone) {
        jp.mamori.chart.JpDates dates = new jp.mamori.chart.JpDates(zone);
        health.register(jp.mamori.ops.HealthCheck.of("degraded-mode", true, () -> {
            jp.mamori.db.Availability.State st = availability.state();
            if (!st.degraded()) {
                return jp.mamori.ops.HealthCheck.Result.up("通常運用（書き込み可） / normal (writes allowed)");
            }
            return jp.mamori.ops.HealthCheck.Result.degraded("縮退運用中（参照のみ）: "
                    + dates.dateTimeWithZone(st.since(), jp.mamori.chart.JpDates.Lang.JA) + " から / degraded read-only"
                    + " since " + dates.dateTimeWithZone(st.since(), jp.mamori.chart.JpDates.Lang.EN) + ": "
                    + st.reason());
        }));
        metrics.gauge("mamori.degraded", "1 while in degraded read-only mode, else 0",
                () -> availability.degraded() ? 1 : 0);
        java.util.function.Consumer<jp.mamori.db.Availability.State> alert = st -> {
            java.util.Map<String, String> f = java.util.Map.of("since", st.since().toString(), "reason", st.reason());
            if (st.degraded()) {
                alerts.raise("degraded-mode", "degraded.entered", f, "縮退運用（参照のみ）に切り替わりました / degraded"
                        + " read-only mode entered: " + st.reason());
            } else {
                alerts.clear("degraded-mode", "degraded.left", f, "通常運用に戻りました / degraded mode left: "
                        + st.reason());
            }
        };
        availability.onChange(alert);
        if (availability.degraded()) {
            alert.accept(availability.state()); // serve --read-only: degraded from the start
        }
    }

    /**
     * The audit journal's line in the health report (issue 18 §2): what is held locally while degraded, and journals
     * an earlier run left unmerged. Amber, not red: the entries are durable, only not yet in the main trail.
     */
    private static void auditJournal(jp.mamori.audit.Audit audit, jp.mamori.ops.Health health) {
        if (audit.journal() == null) {
            return;
        }
        health.register(jp.mamori.ops.HealthCheck.of("audit-journal", false, () -> {
            jp.mamori.audit.Audit.JournalState j = audit.journal();
            if (j.journaling()) {
                String head = j.head() == null ? "" : j.head().substring(0, Math.min(16, j.head().length()));
                return jp.mamori.ops.HealthCheck.Result.degraded("縮退運用中の監査記録をローカルに保存中: " + j.entries()
                        + " 件（末尾ハッシュ " + head + "…）/ journaling while degraded: " + j.entries() + " entries, head "
                        + head + "…");
            }
            if (!j.unmerged().isEmpty()) {
                return jp.mamori.ops.HealthCheck.Result.degraded("監査証跡に未統合のジャーナルがあります: " + j.unmerged().size()
                        + " 件 / journals not merged into the trail yet: " + j.unmerged().size());
            }
            return jp.mamori.ops.HealthCheck.Result.up("ローカル保存なし（すべて監査証跡に統合済み）/ nothing held locally:"
                    + " every entry is in the trail");
        }));
    }

    /**
     * The one origin the server writes into absolute URLs and expects as the token endpoint's audience:
     * --public-url, else the scheme, bind address and port the listener got; bound to every address, this machine's
     * name (the name the generated certificate carries). Never taken from a request.
     */
    static String publicOrigin(ServerConfig cfg, String scheme, int port) {
        if (cfg.publicUrl().isPresent()) {
            return cfg.publicUrl().get();
        }
        String host = wildcard(cfg.bindAddress()) ? Tls.hostName() : cfg.bindAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return scheme + "://" + host + ":" + port;
    }

    /**
     * The origins of this machine's own addresses as literals ({@code https://10.0.0.5:8443}, {@code https://[fe80::1]:8443}):
     * every interface's address for a wildcard bind, else the bound address alone.
     */
    static java.util.List<String> addressOrigins(String bind, String scheme, int port) {
        java.util.List<java.net.InetAddress> addresses = new java.util.ArrayList<>();
        try {
            if (wildcard(bind)) {
                for (java.net.NetworkInterface n : java.util.Collections.list(
                        java.net.NetworkInterface.getNetworkInterfaces())) {
                    addresses.addAll(java.util.Collections.list(n.getInetAddresses()));
                }
            } else {
                addresses.add(java.net.InetAddress.getByName(bind));
            }
        } catch (java.io.IOException e) {
            log.warn("could not list this machine's addresses for the console's origin check: {}", e.getMessage());
        }
        java.util.List<String> out = new java.util.ArrayList<>();
        for (java.net.InetAddress a : addresses) {
            String host = a.getHostAddress();
            int zone = host.indexOf('%');
            if (zone >= 0) {
                host = host.substring(0, zone); // browsers send no zone id in Origin
            }
            out.add(scheme + "://" + (a instanceof java.net.Inet6Address ? "[" + rfc5952(host) + "]" : host) + ":" + port);
        }
        return out;
    }

    /** An IPv6 address as browsers write it (RFC 5952): the longest run of two or more zero groups as "::". */
    static String rfc5952(String full) {
        String[] g = full.split(":");
        int best = -1, bestLen = 1;
        for (int i = 0; i < g.length; ) {
            int j = i;
            while (j < g.length && g[j].equals("0")) {
                j++;
            }
            if (j - i > bestLen) {
                best = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        if (best < 0) {
            return full;
        }
        return String.join(":", java.util.Arrays.copyOfRange(g, 0, best)) + "::"
                + String.join(":", java.util.Arrays.copyOfRange(g, best + bestLen, g.length));
    }

    private static boolean wildcard(String bind) {
        try {
            return java.net.InetAddress.getByName(bind).isAnyLocalAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    /** The exact origin people use: --public-url, else this host name and the port the listener got. */
    static Identity.Settings identitySettings(ServerConfig cfg, HttpServer http, Logins.Settings logins) {
        String origin = cfg.publicUrl().orElseGet(() -> http.scheme() + "://localhost:" + http.port());
        String host = URI.create(origin).getHost();
        ServerConfig.IdentityOptions o = cfg.identity();
        return new Identity.Settings(new Sessions.Settings(Duration.ofMinutes(o.idleLockMinutes()),
                Duration.ofHours(o.maxSessionHours()), jp.mamori.access.PersonContexts::accessVersionSql,
                jp.mamori.access.PersonContexts::grantedRolesSql), logins, o.minPasswordLength(),
                Duration.ofHours(o.enrolmentCodeHours()), o.unusedDays(), o.suspendUnused(), host, Set.of(origin),
                "Mamori");
    }

    private static void checkDurability(Database db, ServerConfig cfg) {
        for (String s : List.of("fsync", "synchronous_commit", "full_page_writes")) {
            String v = db.setting(s);
            if (!"on".equals(v)) {
                if (cfg.database().embedded()) {
                    throw new ConfigException("embedded PostgreSQL runs with " + s + "=" + v
                            + "; acknowledged writes would not be durable");
                }
                log.warn("DEVIATION: external PostgreSQL has {}={}; acknowledged writes may be lost in a crash", s, v);
            }
        }
    }

    /** What the operator needs to know at start: where things are, and the one line that says it is ready. */
    public void printStartup(PrintStream out) {
        out.println("Mamori " + VERSION + " / 守り — data: " + config.dataDir() + ", database: " + db.description());
        if (tls != null) {
            out.println((tls.generated() ? "Generated a self-signed TLS certificate: " : "TLS certificate: ")
                    + tls.location());
            out.println("TLS certificate SHA-256 fingerprint: " + tls.sha256Fingerprint());
        } else {
            out.println("WARNING: plain HTTP on loopback only; do not use for patient data over a network."
                    + " / 警告: 平文HTTPで動作しています");
        }
        String console = consoleUrl();
        if (bootstrapFile.isPresent() && identity.enrolment().setupOpen()) {
            out.println("First administrator: open " + console + "/setup and enter the one-time bootstrap secret from "
                    + bootstrapFile.get() + " (readable by this OS user only)");
            out.println("最初の管理者の登録: " + console + "/setup を開き、上記ファイルのワンタイムシークレットを入力してください");
        } else {
            out.println("Console / 管理画面: " + console);
        }
        out.println("Create an API client: ./mamori client create --data " + config.dataDir()
                + " --name NAME --scopes 'system/*.*' --owner WHO --purpose WHY [--cert CLIENT.pem | --jwks KEYS.json]");
        out.println("Mamori ready at " + baseUrl());
        // The last line, where a newcomer looks: where people open the console (the setup page on a first start).
        out.println("コンソール / Console: " + (bootstrapFile.isPresent() && identity.enrolment().setupOpen()
                ? console + "/setup" : console + "/home"));
        out.flush();
    }

    /** The console's address as people open it. */
    public String consoleUrl() {
        return identity.settings().origins().iterator().next() + "/console";
    }

    public Identity identity() {
        return identity;
    }

    /** The FHIR base URL as the server writes it into links (see {@link #publicOrigin}). */
    public String baseUrl() {
        return publicOrigin(config, http.scheme(), http.port()) + "/fhir";
    }

    public int port() {
        return http.port();
    }

    public RecordService records() {
        return records;
    }

    public SystemClients clients() {
        return clients;
    }

    public Database database() {
        return db;
    }

    public jp.mamori.audit.Audit audit() {
        return audit;
    }

    public void join() throws InterruptedException {
        http.join();
    }

    @Override
    public void close() {
        sweeper.shutdownNow();
        if (bulk != null) {
            bulk.close();
        }
        if (downtimeKit != null) {
            downtimeKit.close();
        }
        if (probes != null) {
            probes.close();
        }
        if (alerts != null) {
            alerts.close();
        }
        if (signatureUpkeep != null) {
            signatureUpkeep.close();
        }
        try {
            http.close();
        } catch (Exception e) {
            log.warn("HTTP listener did not stop cleanly: {}", e.getMessage());
        }
        if (backups != null) {
            backups.close();
        }
        if (pgBackRest != null) {
            pgBackRest.close();
        }
        audit.close();
        if (leadership != null) {
            leadership.close(); // before the database: another process takes the jobs over at once
        }
        db.close();
        if (seal != null) {
            seal.close();
        }
        lock.close();
    }

    /**
     * The server's own health checks (issue 18 §5): the database (primary or standby), the disks of the data and backup
     * folders, the audit appender, the checkpointer and its anchor, the TSA and SIEM links, the TLS certificate and the
     * backups' freshness. Capabilities started later register theirs on the returned {@link jp.mamori.ops.Health}.
     */
    static jp.mamori.ops.Health health(ServerConfig cfg, Database db, jp.mamori.audit.Audit audit,
                                       jp.mamori.preservation.Backups backups,
                                       jp.mamori.preservation.PgBackRestBackups pgBackRest, Tls.Material tls) {
        Clock clock = Clock.systemUTC();
        jp.mamori.ops.Health h = new jp.mamori.ops.Health(clock);
        h.register(jp.mamori.ops.Checks.database(db.dataSource(), db.description()));
        h.register(jp.mamori.ops.Checks.auditAppender(audit.trail()));
        h.register(jp.mamori.ops.Checks.checkpointer(audit.checkpointer(), audit.trail(),
                Duration.ofSeconds(cfg.audit().checkpointSeconds()), clock));
        h.register(jp.mamori.ops.Checks.tsa(cfg.audit().tsaUrl(), audit.checkpointer()));
        h.register(jp.mamori.ops.Checks.siem(audit.siem(), cfg.access().syslog()));
        h.register(jp.mamori.ops.Checks.certificate(() -> tls == null ? null : tls.certificate(), clock));
        h.register(jp.mamori.ops.Checks.disk("disk-data", cfg.dataDir(), cfg.ops().diskMinFreeBytes()));
        if (backups != null && cfg.backup().enabled()) {
            h.register(jp.mamori.ops.Checks.disk("disk-backup", cfg.backup().dir(), cfg.ops().diskMinFreeBytes()));
        }
        h.register(new jp.mamori.ops.BackupHealth(backups, pgBackRest, cfg.backup().enabled(), clock));
        return h;
    }

    /**
     * The live compliance probes (issue 20) over the capabilities just started: second factors, leavers and unused
     * accounts, access reviews, break-glass reviews, the audit trail, the clock, TLS, backups, deviations and the
     * readiness for degraded mode. Their status changes are stored, audited and alerted by {@link
     * jp.mamori.compliance.Probes}.
     */
    static jp.mamori.compliance.Probes probes(ServerConfig cfg, Database db, jp.mamori.audit.Audit audit,
                                              Identity identity, jp.mamori.access.AccessAdmin accessAdmin,
                                              jp.mamori.access.BreakGlass breakGlass, jp.mamori.ops.Health health,
                                              jp.mamori.ops.Alerts alerts, Tls.Material tls, List<String> deviations,
                                              java.util.function.Supplier<List<String>> liveDeviations,
                                              boolean readOnly) {
        jp.mamori.compliance.Probes p = new jp.mamori.compliance.Probes(db.dataSource(), audit.recorder(), alerts,
                Clock.systemUTC());
        String backupOff = readOnly ? "読み取り専用の閲覧用 / a read-only viewer (serve --read-only)"
                : !cfg.backup().enabled() ? "バックアップ無効 / backups are off (--no-backup)" : null;
        List<String> startDeviations = List.copyOf(deviations);
        p.register(jp.mamori.compliance.StandardProbes.mfaCoverage(identity.accounts(), identity.factors(),
                        identity.mfaExceptions()))
                .register(jp.mamori.compliance.StandardProbes.accountSweep(identity.accounts(),
                        cfg.identity().unusedDays(), cfg.identity().suspendUnused()))
                .register(jp.mamori.compliance.StandardProbes.accessReviews(accessAdmin.reviews(),
                        jp.mamori.compliance.StandardProbes.REVIEW_INTERVAL))
                .register(jp.mamori.compliance.StandardProbes.breakGlass(breakGlass))
                .register(jp.mamori.compliance.StandardProbes.auditTrail(health::report, audit.checkpointer()))
                .register(jp.mamori.compliance.StandardProbes.clock(audit::lastClockState))
                .register(jp.mamori.compliance.StandardProbes.tls(() -> tls == null ? null
                        : new jp.mamori.compliance.StandardProbes.TlsProfile(Tls.PROTOCOLS,
                        tls.certificate().getNotAfter().toInstant())))
                .register(jp.mamori.compliance.StandardProbes.backups(health::report, backupOff))
                .register(jp.mamori.compliance.StandardProbes.deviations(() -> {
                    List<String> all = new java.util.ArrayList<>(startDeviations);
                    all.addAll(identity.deviations()); // MFA exceptions in force, as the home page lists them
                    all.addAll(liveDeviations.get()); // e.g. a critical vendor notice unacknowledged for 24 h
                    return all;
                }))
                .register(jp.mamori.compliance.StandardProbes.downtimeReadiness(health::report, () -> {
                    jp.mamori.audit.Audit.JournalState j = audit.journal();
                    return j == null || j.journaling() ? 0 : j.unmerged().size();
                }))
                .register(jp.mamori.compliance.StandardProbes.monitoring(health::report, cfg.audit().syslogTls()
                        .or(() -> cfg.access().syslog()).orElse(null), () -> alerts == null ? null : alerts.open().size()))
                .register(jp.mamori.compliance.StandardProbes.redundancy(jp.mamori.compliance.StandardProbes
                        .databaseHosts(cfg.database().jdbcUrl().orElse(null)), cfg.database().embedded()));
        return p;
    }

    /**
     * The settings of the running server that the SDS's answers depend on (issue 20), in words; a setting that departs
     * from the secure default is marked (its deviation is also listed on its own).
     */
    static List<jp.mamori.compliance.ServiceSpecification.Setting> sdsSettings(ServerConfig cfg, int mfaExceptions) {
        List<jp.mamori.compliance.ServiceSpecification.Setting> out = new java.util.ArrayList<>();
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("通信の暗号化", "Encryption in transit",
                cfg.plainHttp() ? "平文 HTTP（ループバックのみ） / plain HTTP on loopback"
                        : "HTTPS（TLS 1.3 / 1.2、AEAD 暗号のみ） / HTTPS (TLS 1.3 / 1.2, AEAD only)", !cfg.plainHttp()));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("二要素認証", "Second factor",
                mfaExceptions == 0 ? "全員に必須 / required for everyone"
                        : "必須（例外 " + mfaExceptions + " 件） / required, " + mfaExceptions + " exception(s)",
                mfaExceptions == 0));
        ServerConfig.IdentityOptions id = cfg.identity();
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("無操作時のロック", "Idle lock",
                id.idleLockMinutes() + " 分 / " + id.idleLockMinutes() + " min",
                id.idleLockMinutes() <= ServerConfig.IdentityOptions.DEFAULT.idleLockMinutes()));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("未使用アカウント", "Unused accounts",
                id.unusedDays() + " 日で" + (id.suspendUnused() ? "自動停止" : "報告のみ") + " / after " + id.unusedDays()
                        + " days " + (id.suspendUnused() ? "suspended" : "reported only"), id.suspendUnused()));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("監査証跡の保存", "Audit trail retention",
                cfg.audit().retentionYears() + " 年 / " + cfg.audit().retentionYears() + " years", true));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("監査証跡の外部転送（SIEM）", "Audit trail to a SIEM",
                cfg.audit().syslogTls().map(h -> "TLS syslog: " + h).orElse("なし / none"), true));
        ServerConfig.BackupOptions b = cfg.backup();
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("バックアップ", "Backups", b.enabled()
                ? "毎日 " + b.hour() + " 時、世代 日次 " + b.keep().daily() + "・週次 " + b.keep().weekly() + "・月次 "
                + b.keep().monthly() + "・年次 " + b.keep().yearly() + "、暗号化 AES-256-GCM / daily at " + b.hour()
                + ":00, generations " + b.keep().daily() + "/" + b.keep().weekly() + "/" + b.keep().monthly() + "/"
                + b.keep().yearly() + ", encrypted"
                : "無効（--no-backup） / off", b.enabled()));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("ネットワークから切り離した複製",
                "Copy out of the network's reach", b.offlineDir().isPresent() || b.s3().isPresent()
                ? (b.offlineDir().isPresent() ? "オフライン媒体 / offline media" : "")
                + (b.offlineDir().isPresent() && b.s3().isPresent() ? "、" : "")
                + (b.s3().isPresent() ? "S3 Object Lock" : "") : "なし / none", true));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("復元訓練の間隔", "Restore drill interval",
                b.drillDays() + " 日 / " + b.drillDays() + " days", true));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("データベース", "Database",
                cfg.database().embedded() ? "内蔵 PostgreSQL / embedded PostgreSQL"
                        : jp.mamori.compliance.StandardProbes.databaseHosts(cfg.database().jdbcUrl().orElse(null))
                        + " 台の PostgreSQL / PostgreSQL host(s)", true));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("施設の電子印（印刷物・出力）", "Institution seal",
                cfg.signatures().sealPkcs12().isPresent() || cfg.signatures().sealPkcs11().isPresent()
                        ? "設定済み / configured" : "未設定 / not configured", true));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("タイムスタンプ局（TSA）", "Time-stamping authority",
                cfg.signatures().tsaUrls().isEmpty() ? "未設定 / not configured"
                        : cfg.signatures().tsaUrls().size() + " 件 / " + cfg.signatures().tsaUrls().size(), true));
        out.add(new jp.mamori.compliance.ServiceSpecification.Setting("書き込み時の検証（FHIR）", "Validation on write (FHIR)",
                validationSetting(cfg), true));
        return out;
    }

    /**
     * The record store's validation ({@code --validation}); with {@code jp-core} the FHIR packages are loaded here, once,
     * and a broken or missing package stops the start with its name and the reason (issue 23).
     */
    static FhirSupport fhirSupport(ServerConfig cfg) {
        if (cfg.validation() != jp.mamori.config.Validation.JP_CORE) {
            return new FhirSupport(cfg.validation());
        }
        jp.mamori.profiles.FhirPackages packages = jp.mamori.profiles.FhirPackages.load(FhirSupport.CTX,
                cfg.profiles().packages());
        for (jp.mamori.profiles.FhirPackages.Loaded l : packages.loaded()) {
            log.info("FHIR package {} loaded from {}: {} profiles, {} value sets, {} code systems", l.label(),
                    l.source(), l.profiles(), l.valueSets(), l.codeSystems());
        }
        FhirSupport fhir = new FhirSupport(cfg.validation(), packages, cfg.profiles().required());
        log.info("JP Core validation on write: claimed profiles, and required {}", fhir.requiredProfiles());
        return fhir;
    }

    /** Words for the compliance evidence: what a write is checked against. */
    static String validationSetting(ServerConfig cfg) {
        return switch (cfg.validation()) {
            case STRUCTURE -> "構造（R4 の型・必須要素・参照先・必須コード） / structure (R4 types, cardinality, reference"
                    + " targets, required codes)";
            case FULL -> "構造と HAPI インスタンス検証（FHIRPath 制約・用語） / structure and HAPI instance validation"
                    + " (FHIRPath invariants, terminology)";
            case JP_CORE -> "JP Core プロファイル（名乗ったプロファイル" + (cfg.profiles().required().isEmpty() ? ""
                    : "、必須: " + String.join(", ", cfg.profiles().required())) + "） / JP Core profiles (claimed"
                    + (cfg.profiles().required().isEmpty() ? "" : ", required: "
                    + String.join(", ", cfg.profiles().required())) + ")";
        };
    }

    /** The jobs that run once per installation (issue 18 §1): their lock names, for logs and the health report. */
    static final String JOB_CHECKPOINTER = "audit-checkpointer";
    static final String JOB_AUDIT_REPORTS = "audit-reports";
    static final String JOB_DOWNTIME_KIT = "downtime-kit";
    static final String JOB_ACCOUNT_SWEEP = "account-sweep";
    static final String JOB_SIGNATURE_UPKEEP = "signature-upkeep";
    static final String JOB_BACKUPS = "backup-schedule";
    static final String JOB_ALERTS = "alerts";

    /**
     * Registers every job that must run once per installation (ADR 0013, BACKUP-7) and returns their gates. The audit
     * appenders are not among them: every process appends its own entries to the one chain (ADR 0006). Retention has
     * no scheduled sweep (disposal is started by a person); when one comes, it belongs here.
     */
    static java.util.Map<String, java.util.function.BooleanSupplier> jobs(jp.mamori.db.Leadership l) {
        java.util.Map<String, java.util.function.BooleanSupplier> m = new java.util.LinkedHashMap<>();
        m.put(JOB_CHECKPOINTER, l.job(JOB_CHECKPOINTER, "監査証跡のチェックポイント署名 / audit checkpoints"));
        m.put(JOB_AUDIT_REPORTS, l.job(JOB_AUDIT_REPORTS, "監査レポートの集計 / audit report derivation"));
        m.put(JOB_DOWNTIME_KIT, l.job(JOB_DOWNTIME_KIT, "縮退用資料の作成 / downtime kit"));
        m.put(JOB_ACCOUNT_SWEEP, l.job(JOB_ACCOUNT_SWEEP,
                "アカウントの定期処理・緊急時アクセスの督促 / account sweep and break-glass escalation"));
        m.put(JOB_SIGNATURE_UPKEEP, l.job(JOB_SIGNATURE_UPKEEP, "電子署名の維持 / signature upkeep"));
        m.put(JOB_BACKUPS, l.job(JOB_BACKUPS, "バックアップの定時実行 / scheduled backups"));
        m.put(JOB_ALERTS, l.job(JOB_ALERTS, "稼働状況の定期確認と警報 / periodic health checks and alerts"));
        return m;
    }

    /** The health report's line on leadership: which jobs this process runs for the installation. */
    static jp.mamori.ops.HealthCheck.Result leadershipLine(jp.mamori.db.Leadership l) {
        List<String> ja = new java.util.ArrayList<>();
        List<String> en = new java.util.ArrayList<>();
        for (jp.mamori.db.Leadership.Lead lead : l.leads()) {
            if (lead.leading()) {
                String[] label = lead.job().label().split(" / ", 2);
                ja.add(label[0]);
                en.add(label.length > 1 ? label[1] : label[0]);
            }
        }
        if (ja.isEmpty()) {
            return jp.mamori.ops.HealthCheck.Result.up("定期処理は他のプロセスが担当しています / another process runs"
                    + " the installation's jobs");
        }
        return jp.mamori.ops.HealthCheck.Result.up("このプロセスが担当: " + String.join("、", ja) + " / this process runs: "
                + String.join(", ", en));
    }

    /** Which jobs this process leads (issue 18 §1). */
    public jp.mamori.db.Leadership leadership() {
        return leadership;
    }

    /** The health report (issue 18 §5); others register their checks on it. */
    public jp.mamori.ops.Health health() {
        return health;
    }

    /** Vendor notices (issue 19; VULN-2, VULN-3). */
    public jp.mamori.maintenance.VendorNotices vendorNotices() {
        return vendorNotices;
    }

    /** The registers (台帳) of the compliance console (issue 20): devices, vendors, appointments, contacts, …. */
    public jp.mamori.compliance.Registers registers() {
        return registers;
    }

    /** Vendor maintenance's work requests (issue 19); {@link jp.mamori.maintenance.WorkOrders#vendors()} the vendors. */
    public jp.mamori.maintenance.WorkOrders workOrders() {
        return workOrders;
    }

    /** The work reports of vendor maintenance (issue 19): {@link jp.mamori.maintenance.WorkReports#overdue} for probes. */
    public jp.mamori.maintenance.WorkReports workReports() {
        return workReports;
    }

    /**
     * Directory sync (issue 21): {@link jp.mamori.directory.DirectorySync#state()} is the plain read for a probe or a
     * health line (configured or not, last success, last failure and why, whether the newest run failed).
     */
    public jp.mamori.directory.DirectorySync directorySync() {
        return directorySync;
    }

    /**
     * With a directory configured (issue 21), its connection is tried once before anything starts: a server on
     * {@code ldap://} that does not offer StartTLS, or a filter that is not one, refuses the start in one line (plain
     * LDAP is never used); any other failure (unreachable, untrusted, the bind) is logged, and the first run records it.
     */
    static void checkDirectory(ServerConfig cfg) {
        if (!cfg.directory().enabled()) {
            return;
        }
        try {
            new jp.mamori.directory.LdapDirectory(cfg.directory()).check();
        } catch (jp.mamori.directory.DirectoryException e) {
            if (e.kind() == jp.mamori.directory.DirectoryException.Kind.NO_STARTTLS) {
                throw new ConfigException(e.getMessage());
            }
            log.warn("directory at start: {}", e.getMessage());
        }
    }

    /** The shares with partner clinicians of other institutions (issue 21, AUTH-11). */
    /** FHIR Bulk Data export (issue 23). */
    public jp.mamori.bulk.BulkExport bulk() {
        return bulk;
    }

    /** The disclosure ledger and packages (issue 23). */
    public jp.mamori.disclosure.Disclosures disclosures() {
        return disclosures;
    }

    public jp.mamori.access.PartnerShares partnerShares() {
        return partnerShares;
    }

    /** Sign-in through the institution's OpenID Connect provider (issue 21). */
    public jp.mamori.federation.Federation federation() {
        return federation;
    }

    /** The directory sync of this server (off, with nothing to read, unless a directory is configured). */
    static jp.mamori.directory.DirectorySync directorySync(ServerConfig cfg, Database db, Identity identity,
                                                          jp.mamori.audit.Audit audit) {
        jp.mamori.directory.Directory directory = cfg.directory().enabled()
                ? new jp.mamori.directory.LdapDirectory(cfg.directory()) : () -> java.util.List.of();
        return new jp.mamori.directory.DirectorySync(db.dataSource(), identity.accounts(), audit.recorder(),
                Clock.systemUTC(), cfg.directory(), directory);
    }

    /** The live compliance probes (issue 20): the latest evidence per probe and per requirement, and its history. */
    public jp.mamori.compliance.Probes probes() {
        return probes;
    }

    /** The alerts (issue 18 §5): raised by health checks turning red and failed logins; others raise their own. */
    public jp.mamori.ops.Alerts alerts() {
        return alerts;
    }

    /** The metrics served at {@code /metrics}. */
    public jp.mamori.ops.Metrics metrics() {
        return metrics;
    }

    /** The downtime kit (issue 18 §3): per ward, encrypted PDFs of the minimum information for care. */
    public jp.mamori.continuity.DowntimeKit downtimeKit() {
        return downtimeKit;
    }

    /** The console, whose one gate every console page passes. */
    public Console console() {
        return console;
    }

    /** The signature upkeep (time-stamps, LTA extension, re-time-stamping); null when signatures are not set up. */
    public jp.mamori.signatures.SignatureUpkeep signatureUpkeep() {
        return signatureUpkeep;
    }

    /**
     * The institution seal for printouts, when one is configured (issue 17; ADR 0012 "Sealed printouts"): its key
     * opened once with its PIN ({@code MAMORI_SEAL_PIN} or {@code <data>/secrets/seal-pin}) and held, its
     * certificate checked against the trust folder. No PIN, a wrong PIN, an unreadable key, no trusted root or a
     * certificate that is expired, revoked or not trusted: the server does not start, with one line saying which.
     */
    /**
     * The one {@code Signatures} of the server, over the trust folder, the TSAs and the revocation setting (issue 17):
     * shared by the signing of documents, their upkeep and the seal; null when the trust folder holds no certificate.
     *
     * @throws ConfigException when a file in the trust folder is not a certificate (or too many, too large)
     */
    static jp.mamori.signatures.Signatures signatures(ServerConfig cfg) {
        try {
            return jp.mamori.signatures.SignatureSetup.settings(cfg.signatures())
                    .map(jp.mamori.signatures.Signatures::new).orElse(null);
        } catch (jp.mamori.signatures.SignatureFailure f) {
            throw new ConfigException(f.getMessage());
        }
    }

    static Optional<jp.mamori.signatures.PdfSeal> openSeal(ServerConfig cfg, java.util.Map<String, String> env,
                                                           jp.mamori.signatures.Signatures signatures) {
        ServerConfig.SignatureOptions o = cfg.signatures();
        if (!o.seal()) {
            return Optional.empty();
        }
        String option = o.sealPkcs12().isPresent() ? "--seal-pkcs12" : "--seal-pkcs11";
        if (signatures == null) {
            throw new ConfigException("組織の署名には信頼する認証局の証明書が必要です(" + o.trustDir()
                    + ") / the institution seal (" + option + ") needs the trusted root certificates in "
                    + o.trustDir() + " (--signature-trust-dir)");
        }
        try {
            jp.mamori.signatures.SignerKey key = jp.mamori.signatures.SignatureSetup.openSeal(o, cfg.dataDir(), env)
                    .orElseThrow();
            jp.mamori.signatures.PdfSeal seal = jp.mamori.signatures.PdfSeal.open(signatures, key,
                    o.institutionName().orElseGet(Tls::hostName));
            log.info("institution seal open ({}): printouts are sealed as {}", option,
                    seal.certificate().getSubjectX500Principal().getName());
            return Optional.of(seal);
        } catch (jp.mamori.signatures.SignatureFailure f) {
            throw new ConfigException("組織の署名(" + option + ")を使えません / the institution seal (" + option
                    + ") cannot be used: " + f.getMessage());
        }
    }

    /** The configuration the server runs with. */
    public ServerConfig config() {
        return config;
    }

    /** The backups of the embedded database; null with an external one. */
    public jp.mamori.preservation.Backups backups() {
        return backups;
    }

    /** The backups of an external database through pgBackRest; null when none is configured. */
    public jp.mamori.preservation.PgBackRestBackups pgBackRest() {
        return pgBackRest;
    }

    /**
     * Refuses a data folder into which a restore did not finish ({@code RESTORE-INCOMPLETE}, ADR 0010): neither the
     * server nor a tool may use a half-restored database as if it were whole.
     */
    public static void refuseUnfinishedRestore(Path dataDir) {
        if (Files.exists(dataDir.resolve(jp.mamori.preservation.Restore.INCOMPLETE))) {
            throw new ConfigException("a restore into " + dataDir + " did not finish: restore again with --force"
                    + " / このフォルダへの復元は完了していません。--force を付けて復元し直してください");
        }
    }

    /**
     * Refuses to start a data folder that was moved onto an external database ({@code database.external}) without
     * {@code --db-url}: the embedded database created in its place would be empty, and the records would seem lost.
     */
    public static void refuseEmbeddedOnMovedFolder(ServerConfig cfg) {
        Optional<String> url = jp.mamori.preservation.MoveToExternal.externalUrl(cfg.dataDir());
        if (url.isPresent() && cfg.database().embedded()) {
            throw new ConfigException("the database of " + cfg.dataDir() + " is external (" + url.get()
                    + "): start with --db-url and --db-user / このデータフォルダのデータベースは外部にあります");
        }
    }

    /** Only one Mamori process works on a data folder at a time. */
    public static final class DataFolderLock implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock lock;

        private DataFolderLock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        public static DataFolderLock acquire(Path dataDir) throws IOException {
            Optional<DataFolderLock> l = tryAcquire(dataDir);
            if (l.isEmpty()) {
                throw new ConfigException("another Mamori process is using " + dataDir
                        + " / このデータフォルダは他の Mamori プロセスが使用中です");
            }
            return l.get();
        }

        public static Optional<DataFolderLock> tryAcquire(Path dataDir) throws IOException {
            Files.createDirectories(dataDir.resolve("runtime"));
            FileChannel ch = FileChannel.open(dataDir.resolve("runtime").resolve("mamori.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            try {
                FileLock l = ch.tryLock();
                if (l == null) {
                    ch.close();
                    return Optional.empty();
                }
                return Optional.of(new DataFolderLock(ch, l));
            } catch (OverlappingFileLockException e) {
                ch.close();
                return Optional.empty();
            }
        }

        @Override
        public void close() {
            try {
                lock.release();
                channel.close();
            } catch (IOException ignored) {
                // The lock goes with the process anyway.
            }
        }
    }
}
