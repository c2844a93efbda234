package jp.mamori.config;


import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting of a Mamori server, validated once before anything starts. The defaults are the
 * guideline-compliant settings; a weaker one is accepted only when asked for by name, and is then listed
 * by {@link #deviations()} so that logs and compliance evidence can show it.
 *
 * <p>{@link #toString()} masks secrets.
 */
public record ServerConfig(
        Path dataDir,
        String bindAddress,
        int port,
        boolean plainHttp,
        Optional<Path> keystore,
        Optional<String> keystorePassword,
        Database database,
        long maxBodyBytes,
        int defaultPageSize,
        int maxPageSize,
        Validation validation,
        /* {@code --fhir-package}, {@code --jp-core-require}: the profile packages of {@code --validation jp-core} */
        ProfileOptions profiles,
        Optional<String> publicUrl,
        IdentityOptions identity,
        java.time.Duration accessTokenLifetime,
        AccessOptions access,
        AuditOptions audit,
        java.time.ZoneId timeZone,
        ListenerOptions listener,
        BackupOptions backup,
        PgBackRestOptions pgbackrest,
        SignatureOptions signatures,
        OpsOptions ops, DowntimeOptions downtime,
        /* {@code --compliance-dir}: a folder of checklist files (issue 20) read at start beside the seeds */
        Optional<Path> complianceDir,
        /* {@code --directory-*}: the institution's directory, read for leavers (issue 21); off unless given */
        DirectoryOptions directory) {

    /**
     * Health, metrics and alerts (issue 18 §5; DEGRADED-*, NET-13, NET-14).
     *
     * @param diskMinFreeBytes    a data or backup folder's disk with less free space is red ({@code --health-disk-min-free},
     *                            default 1G)
     * @param failedLogins        failed logins within {@code failedLoginMinutes} that raise an alert
     *                            ({@code --alert-failed-logins N/MINUTES}, default 20/5)
     * @param failedLoginMinutes  the alert's window
     * @param checkSeconds        how often the health checks run for alerts and gauges ({@code --health-check-seconds},
     *                            default 30)
     * @param anonymousMetrics    {@code /metrics} without authentication ({@code --metrics-anonymous}): a deviation
     * @param afterHoursAlert     a person's after-hours accesses to patient data in one day that raise an alert
     *                            ({@code --alert-after-hours N}, default 30; 0 turns the alert off: a deviation). The
     *                            audit report lists every one; the alert is for the night that stands out (AUDIT-8).
     * @param degradedCheckSeconds how often the primary monitor asks whether a writable primary answers
     *                            ({@code --degraded-check-seconds}, default 1; issue 18 §2, DEGRADED-1)
     * @param readOnly            the standalone viewer ({@code --read-only}, DEGRADED-4): the database refuses writes,
     *                            nothing is migrated or written at start, degraded read-only mode for the whole run
     */
    public record OpsOptions(long diskMinFreeBytes, int failedLogins, int failedLoginMinutes, int checkSeconds,
                             boolean anonymousMetrics, int afterHoursAlert, int degradedCheckSeconds, boolean readOnly) {
        public static final OpsOptions DEFAULT = new OpsOptions(1024L * 1024 * 1024, 20, 5, 30, false, 30, 1, false);

        public OpsOptions {
            if (diskMinFreeBytes < 0) {
                throw new ConfigException("--health-disk-min-free must be a size such as 1G");
            }
            if (failedLogins < 1 || failedLogins > 100_000 || failedLoginMinutes < 1 || failedLoginMinutes > 1440) {
                throw new ConfigException("--alert-failed-logins takes N/MINUTES, e.g. 20/5 (N 1 to 100000, MINUTES 1 to"
                        + " 1440) / 例: 20/5");
            }
            if (checkSeconds < 1 || checkSeconds > 3600) {
                throw new ConfigException("--health-check-seconds must be 1 to 3600");
            }
            if (afterHoursAlert < 0 || afterHoursAlert > 100_000) {
                throw new ConfigException("--alert-after-hours must be 0 (off) to 100000 / 0(無効)〜100000 で指定してください");
            }
            if (degradedCheckSeconds < 1 || degradedCheckSeconds > 60) {
                throw new ConfigException("--degraded-check-seconds は 1 から 60 です / --degraded-check-seconds must be 1"
                        + " to 60");
            }
        }
    }

    /**
     * The downtime kit (issue 18 §3; BACKUP-12, DEGRADED-4): encrypted PDFs of the minimum information for care, per
     * ward and department, written every {@code minutes} to {@code dir}, the last {@code generations} kept per place.
     *
     * @param minutes     how often ({@code --downtime-minutes}, default 60); 0: no kit, a deviation
     * @param dir         where ({@code --downtime-dir}, default {@code <data>/downtime-kit}): a folder on a downtime
     *                    PC or a share
     * @param generations how many files each ward keeps ({@code --downtime-generations}, default 3)
     */
    public record DowntimeOptions(int minutes, Path dir, int generations) {
        public static DowntimeOptions defaults(Path data) {
            return new DowntimeOptions(60, data.resolve("downtime-kit"), 3);
        }

        public DowntimeOptions {
            if (minutes < 0 || minutes > 24 * 60) {
                throw new ConfigException("--downtime-minutes は 0(作成しない)〜1440 です / --downtime-minutes must be"
                        + " 0 (no kit) to 1440");
            }
            if (generations < 1 || generations > 100) {
                throw new ConfigException("--downtime-generations は 1〜100 です / --downtime-generations must be 1 to"
                        + " 100");
            }
        }

        /** Settings weaker than the defaults, one line each. */
        public List<String> deviations() {
            List<String> out = new ArrayList<>();
            if (minutes == 0) {
                out.add("no downtime kit (--downtime-minutes 0): during downtime nobody has the minimum information for"
                        + " care (BACKUP-12) / 縮退用資料を作成しません");
            } else if (minutes > 60) {
                out.add("the downtime kit is refreshed only every " + minutes + " minutes (default 60; BACKUP-12)"
                        + " / 縮退用資料の更新間隔が長すぎます");
            }
            return out;
        }
    }

    /**
     * Signatures on finalized documents and the institution seal (issue 17; ADR 0012).
     *
     * @param trustDir         trusted root certificates (HPKI root CAs, the institution's own CA), PEM or DER files
     *                         ({@code --signature-trust-dir}; default {@code <data>/signatures/trust})
     * @param tsaUrls          RFC 3161 time-stamping services, tried in order ({@code --signature-tsa-url}, comma
     *                         separated); none: every signature stays at B level, "time-stamp pending", a deviation
     * @param onlineRevocation fetch CRLs and OCSP answers to check certificates (default); off
     *                         ({@code --signature-offline-revocation}) is a deviation
     * @param sealPkcs12       the institution seal's key for printouts and exports ({@code --seal-pkcs12}); its PIN from
     *                         {@code MAMORI_SEAL_PIN} or {@code <data>/secrets/seal-pin}
     * @param sealPkcs11       the seal's key on a token instead: library, token label, key label
     *                         ({@code --seal-pkcs11 LIBRARY:TOKEN:KEY}); PIN as above
     * @param renewDays        an archive time-stamp is renewed this many days before its certificate expires
     *                         ({@code --signature-renew-days}, default 365)
     * @param institutionName  the institution's name, written as the place (/Location) of each sealed printout
     *                         ({@code --institution-name}); none: this host's name
     */
    public record SignatureOptions(Path trustDir, List<String> tsaUrls, boolean onlineRevocation,
                                   Optional<Path> sealPkcs12, Optional<List<String>> sealPkcs11, int renewDays,
                                   Optional<String> institutionName) {
        public SignatureOptions {
            institutionName = institutionName.map(String::strip).filter(n -> !n.isEmpty());
            if (institutionName.isPresent() && (institutionName.get().length() > 200
                    || institutionName.get().codePoints().anyMatch(Character::isISOControl))) {
                throw new ConfigException("--institution-name は 200 文字以内で改行などを含めません / --institution-name"
                        + " must be at most 200 characters without control characters");
            }
            tsaUrls = List.copyOf(tsaUrls);
            for (String u : tsaUrls) {
                if (!u.matches("https?://[^\\s]{1,2000}")) {
                    throw new ConfigException("--signature-tsa-url は http(s):// の URL です / --signature-tsa-url takes"
                            + " http:// or https:// URLs, comma separated: " + u);
                }
            }
            if (sealPkcs12.isPresent() && sealPkcs11.isPresent()) {
                throw new ConfigException("--seal-pkcs12 と --seal-pkcs11 はどちらか一つです / give --seal-pkcs12 or"
                        + " --seal-pkcs11, not both");
            }
            if (sealPkcs11.isPresent() && (sealPkcs11.get().size() != 3
                    || sealPkcs11.get().stream().anyMatch(String::isBlank))) {
                throw new ConfigException("--seal-pkcs11 は LIBRARY:TOKEN:KEY です / --seal-pkcs11 takes"
                        + " LIBRARY:TOKEN-LABEL:KEY-LABEL");
            }
            if (renewDays < 30 || renewDays > 3650) {
                throw new ConfigException("--signature-renew-days は 30〜3650 です / --signature-renew-days must be"
                        + " 30 to 3650");
            }
        }

        /** Whether an institution seal is configured. */
        public boolean seal() {
            return sealPkcs12.isPresent() || sealPkcs11.isPresent();
        }

        /** The weaker settings, for the deviations list. */
        public List<String> deviations() {
            List<String> out = new ArrayList<>();
            if (tsaUrls.isEmpty()) {
                out.add("no time-stamping service (--signature-tsa-url): signatures stay at B level, their time is"
                        + " the server's claim, not a trusted time (SIGN-3) / タイムスタンプ局が未設定です");
            }
            if (!onlineRevocation) {
                out.add("signer certificates are not checked for revocation (--signature-offline-revocation; SIGN-1)"
                        + " / 失効確認をしていません");
            }
            if (!seal()) {
                out.add("no institution seal (--seal-pkcs12 or --seal-pkcs11): printouts and exports are not sealed"
                        + " / 組織の署名（印刷物・出力）が未設定です");
            }
            return out;
        }
    }

    /**
     * Backups of an external PostgreSQL through pgBackRest (issue 16; ADR 0010 "External PostgreSQL (pgBackRest)"):
     * the DBA sets pgBackRest up (repository, encryption, retention, archive_command); Mamori checks it, takes the
     * scheduled backups, lists, verifies and drills them.
     *
     * @param stanza   the pgBackRest stanza ({@code --backup-pgbackrest-stanza}); empty: not configured
     * @param command  how to call pgBackRest, split on spaces, no shell ({@code --backup-pgbackrest-command}, default
     *                 {@code pgbackrest}; e.g. {@code sudo -u postgres pgbackrest})
     * @param config   pgBackRest's configuration file, if not its default ({@code --backup-pgbackrest-config})
     * @param drillDir where restore drills put their scratch cluster: a folder the database's OS user owns
     *                 ({@code --backup-pgbackrest-drill-dir}); empty: no drills, a deviation
     */
    public record PgBackRestOptions(Optional<String> stanza, List<String> command, Optional<Path> config,
                                    Optional<Path> drillDir) {
        public static final PgBackRestOptions NONE = new PgBackRestOptions(Optional.empty(), List.of("pgbackrest"),
                Optional.empty(), Optional.empty());

        public PgBackRestOptions {
            command = List.copyOf(command);
            if (stanza.isPresent() && !stanza.get().matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
                throw new ConfigException("--backup-pgbackrest-stanza takes a stanza name (letters, digits, . _ -)"
                        + " / スタンザ名が正しくありません");
            }
            if (command.isEmpty() || command.size() > 32 || command.stream().anyMatch(w -> w.isEmpty()
                    || w.length() > 1024 || w.chars().anyMatch(Character::isISOControl))) {
                throw new ConfigException("--backup-pgbackrest-command takes a command such as \"sudo -u postgres"
                        + " pgbackrest\" / pgBackRest のコマンドが正しくありません");
            }
            if (command.stream().anyMatch(w -> w.toLowerCase(java.util.Locale.ROOT).matches(".*(cipher-pass|password"
                    + "|passwd|secret).*"))) {
                throw new ConfigException("--backup-pgbackrest-command must not carry secrets (command lines are visible"
                        + " to every user): keep repo1-cipher-pass in pgBackRest's configuration file"
                        + " / 秘密情報をコマンドに含めないでください");
            }
            if (config.isPresent() && !config.get().isAbsolute()) {
                throw new ConfigException("--backup-pgbackrest-config takes an absolute path");
            }
            if (drillDir.isPresent() && !drillDir.get().isAbsolute()) {
                throw new ConfigException("--backup-pgbackrest-drill-dir takes an absolute path");
            }
        }

        public boolean configured() {
            return stanza.isPresent();
        }
    }

    /**
     * Backups (保存性, issue 16; ADR 0010). On by default: a base backup every day at {@code hour} (the server's time
     * zone) and every closed WAL segment, at most {@code walSeconds} after a write, to {@code dir}; kept by
     * generation; a restore drill every {@code drillDays}.
     *
     * @param enabled         false only with {@code --no-backup}, a deviation
     * @param dir             the backup folder: another disk, not the data folder's (default: beside the data folder)
     * @param offlineDir      a folder on removable media, written while it is mounted (an offline copy), if any
     * @param offlineMaxDays  how old the offline copy may grow before that is a deviation
     * @param hour            the hour of the daily base backup, 0–23
     * @param keep            base backups kept: the newest of each of so many days, weeks, months and years
     * @param walSeconds      a WAL segment is closed and shipped at most this long after a write (recovery point)
     * @param drillDays       a restore drill at least this often (0: none scheduled, a deviation)
     */
    public record BackupOptions(boolean enabled, Path dir, Optional<Path> offlineDir, int offlineMaxDays, int hour,
                                Keep keep, int walSeconds, int drillDays, Optional<S3> s3) {
        /** Without an Object Lock copy. */
        public BackupOptions(boolean enabled, Path dir, Optional<Path> offlineDir, int offlineMaxDays, int hour,
                             Keep keep, int walSeconds, int drillDays) {
            this(enabled, dir, offlineDir, offlineMaxDays, hour, keep, walSeconds, drillDays, Optional.empty());
        }

        /**
         * The copy in S3-compatible object storage under Object Lock in COMPLIANCE mode (BACKUP-1, BACKUP-3; ADR 0010
         * "Object Lock copies").
         *
         * @param endpoint    the store's URL (path-style requests), or empty for AWS itself
         * @param bucket      the bucket: versioning and Object Lock enabled
         * @param prefix      the key prefix under which {@code INSTALLATION/base/...} and {@code .../wal/...} go
         * @param region      the signing region
         * @param credentials a file {@code access-key-id ID} / {@code secret-access-key SECRET} (owner-only); when
         *                    it does not exist, the SDK's default chain (environment, profile, instance role)
         * @param maxHours    how old the newest backup in the bucket may be before that is a deviation
         */
        public record S3(Optional<java.net.URI> endpoint, String bucket, String prefix, String region,
                         Path credentials, int maxHours) {
            private static final java.util.regex.Pattern BUCKET =
                    java.util.regex.Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
            private static final java.util.regex.Pattern PREFIX =
                    java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,7}");
            private static final java.util.regex.Pattern REGION = java.util.regex.Pattern.compile("[a-z0-9-]{1,32}");

            public S3 {
                if (bucket == null || !BUCKET.matcher(bucket).matches()) {
                    throw new ConfigException("--backup-s3-bucket は 3〜63 文字の小文字・数字・点・ハイフンです / "
                            + "--backup-s3-bucket must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)");
                }
                if (prefix == null || !PREFIX.matcher(prefix).matches()) {
                    throw new ConfigException("--backup-s3-prefix が正しくありません / --backup-s3-prefix must be"
                            + " letters, digits, '.', '_', '-' in up to 8 segments separated by '/'");
                }
                if (region == null || !REGION.matcher(region).matches()) {
                    throw new ConfigException("--backup-s3-region が正しくありません / --backup-s3-region must be a"
                            + " region name such as ap-northeast-1");
                }
                if (endpoint.isPresent()) {
                    java.net.URI u = endpoint.get();
                    if (u.getScheme() == null || !(u.getScheme().equals("https") || u.getScheme().equals("http"))
                            || u.getHost() == null || u.getRawUserInfo() != null || u.getRawQuery() != null
                            || u.getRawFragment() != null) {
                        throw new ConfigException("--backup-s3-endpoint は https://HOST[:PORT] の形です /"
                                + " --backup-s3-endpoint must be https://HOST[:PORT] (no user, query or fragment)");
                    }
                }
                if (maxHours < 1 || maxHours > 24 * 366) {
                    throw new ConfigException("--backup-s3-max-hours must be 1 to 8784");
                }
            }

            /** Whether requests go in clear text to a host other than this machine's loopback. */
            public boolean plainHttpOffHost() {
                return endpoint.isPresent() && endpoint.get().getScheme().equals("http")
                        && !(endpoint.get().getHost().equals("127.0.0.1") || endpoint.get().getHost().equals("localhost")
                        || endpoint.get().getHost().equals("[::1]"));
            }
        }

        /** Generations: daily, weekly, monthly and yearly backups kept. */
        public record Keep(int daily, int weekly, int monthly, int yearly) {
            public static final Keep DEFAULT = new Keep(7, 5, 12, 5);

            public Keep {
                if (daily < 1 || daily > 366 || weekly < 0 || weekly > 520 || monthly < 0 || monthly > 1200
                        || yearly < 0 || yearly > 100) {
                    throw new ConfigException("--backup-keep takes DAILY,WEEKLY,MONTHLY,YEARLY such as 7,5,12,5"
                            + " (daily 1–366) / 世代数の指定が正しくありません");
                }
            }

            /** The most base backups the rules keep at once. */
            public int generations() {
                return daily + weekly + monthly + yearly;
            }

            static Keep parse(String s) {
                String[] p = s.split(",");
                if (p.length != 4) {
                    throw new ConfigException("--backup-keep takes DAILY,WEEKLY,MONTHLY,YEARLY such as 7,5,12,5"
                            + " / 世代数の指定が正しくありません");
                }
                try {
                    return new Keep(Integer.parseInt(p[0].strip()), Integer.parseInt(p[1].strip()),
                            Integer.parseInt(p[2].strip()), Integer.parseInt(p[3].strip()));
                } catch (NumberFormatException e) {
                    throw new ConfigException("--backup-keep takes DAILY,WEEKLY,MONTHLY,YEARLY such as 7,5,12,5"
                            + " / 世代数の指定が正しくありません");
                }
            }
        }

        /** The defaults for a data folder: backups beside it. */
        public static BackupOptions defaults(Path dataDir) {
            return new BackupOptions(true, defaultDir(dataDir), Optional.empty(), 7, 2, Keep.DEFAULT, 60, 7);
        }

        static Path defaultDir(Path dataDir) {
            Path name = dataDir.getFileName();
            return dataDir.resolveSibling((name == null ? "mamori-data" : name.toString()) + "-backups");
        }

        public BackupOptions {
            if (offlineMaxDays < 1 || offlineMaxDays > 366) {
                throw new ConfigException("--backup-offline-max-days must be 1 to 366");
            }
            if (hour < 0 || hour > 23) {
                throw new ConfigException("--backup-hour must be 0 to 23");
            }
            if (walSeconds < 10 || walSeconds > 3600) {
                throw new ConfigException("--backup-wal-seconds must be 10 to 3600");
            }
            if (drillDays < 0 || drillDays > 366) {
                throw new ConfigException("--backup-drill-days must be 0 (no scheduled drills) to 366");
            }
        }

        /**
         * Settings weaker than the defaults. What only the running server can tell (no offline or write-protected
         * copy yet, a stale offline copy, the backup folder on the data folder's disk, a failed backup or drill) the
         * preservation capability reports itself.
         */
        List<String> deviations(Path dataDir) {
            List<String> out = new ArrayList<>();
            if (!enabled) {
                out.add("backups are off (--no-backup): a lost disk or ransomware loses every record (BACKUP-1,"
                        + " STORE-1 保存性)");
                return out;
            }
            if (dir.startsWith(dataDir)) {
                out.add("the backup folder " + dir + " is inside the data folder: one lost disk loses both (BACKUP-7)");
            }
            if (keep.generations() < 5) {
                out.add("only " + keep.generations() + " backup generations are kept (at least 5 for an EHR; BACKUP-1,"
                        + " BACKUP-2)");
            }
            if (keep.weekly() + keep.monthly() + keep.yearly() == 0) {
                out.add("no weekly, monthly or yearly backups are kept: ransomware that waits longer than "
                        + keep.daily() + " days leaves no clean copy (BACKUP-2)");
            }
            if (walSeconds > 300) {
                out.add("WAL is shipped only " + walSeconds + " s after a write (default 60): up to that much"
                        + " acknowledged work can be lost (recovery point > 5 minutes)");
            }
            if (drillDays == 0) {
                out.add("no scheduled restore drills (--backup-drill-days 0): restores are not proven (BACKUP-5)");
            } else if (drillDays > 7) {
                out.add("restore drills only every " + drillDays + " days (default 7; BACKUP-5)");
            }
            if (offlineDir.isPresent() && offlineMaxDays > 7) {
                out.add("the offline copy may be " + offlineMaxDays + " days old before it is reported (default 7)");
            }
            s3.filter(S3::plainHttpOffHost).ifPresent(o -> out.add("the Object Lock copy is sent without TLS to "
                    + o.endpoint().get() + " (sealed parts, but signed requests and names in clear; CRYPTO-2)"));
            s3.filter(o -> o.maxHours() > 26).ifPresent(o -> out.add("the Object Lock copy may be " + o.maxHours()
                    + " hours old before it is reported (default 26)"));
            return out;
        }
    }

    /**
     * The audit trail. Auditing itself has no option: it is always on.
     *
     * @param retentionYears     how long entries are kept at least (AUDIT-5; nothing deletes them)
     * @param syslogTls          HOST:PORT of a SIEM receiving every entry over TLS syslog (RFC 5425), if any
     * @param syslogCa           the CA certificate(s) the SIEM's certificate must chain to (PEM); else the JDK's
     * @param clockCheckMinutes  how often the host clock's synchronisation is recorded
     * @param workStartHour      working hours for the after-hours report, [start, end) in Japan time
     * @param volumeFactor       a person's day is unusual above this many times their median daily count
     * @param checkpointSeconds  how often a checkpoint is signed when entries were added (AUDIT-3)
     * @param anchorDir          the append-only folder for checkpoint copies (WORM media); else data/audit-anchor
     * @param tsaUrl             an RFC 3161 time-stamp authority for every checkpoint, if any
     */
    public record AuditOptions(int retentionYears, Optional<String> syslogTls, Optional<Path> syslogCa,
                               int clockCheckMinutes, int workStartHour, int workEndHour, double volumeFactor,
                               int checkpointSeconds, Optional<Path> anchorDir, Optional<String> tsaUrl) {
        public static final AuditOptions DEFAULT = new AuditOptions(5, Optional.empty(), Optional.empty(), 10, 8, 19,
                3.0, 10, Optional.empty(), Optional.empty());

        /** As before checkpoints had options: their defaults. */
        public AuditOptions(int retentionYears, Optional<String> syslogTls, Optional<Path> syslogCa,
                            int clockCheckMinutes, int workStartHour, int workEndHour, double volumeFactor) {
            this(retentionYears, syslogTls, syslogCa, clockCheckMinutes, workStartHour, workEndHour, volumeFactor, 10,
                    Optional.empty(), Optional.empty());
        }

        public AuditOptions {
            if (retentionYears < 1 || retentionYears > 100) {
                throw new ConfigException("--audit-retention-years must be 1 to 100");
            }
            if (clockCheckMinutes < 1 || clockCheckMinutes > 1440) {
                throw new ConfigException("--audit-clock-check-minutes must be 1 to 1440");
            }
            if (workStartHour < 0 || workEndHour > 24 || workStartHour >= workEndHour) {
                throw new ConfigException("--audit-working-hours must be START-END in whole hours, e.g. 8-19");
            }
            if (!(volumeFactor > 1.0) || volumeFactor > 100) {
                throw new ConfigException("--audit-volume-factor must be above 1 and at most 100");
            }
            if (syslogTls.isPresent() && !syslogTls.get().matches("\\[?[A-Za-z0-9.:-]+\\]?:[0-9]{1,5}")) {
                throw new ConfigException("--audit-syslog-tls takes HOST:PORT");
            }
            if (syslogCa.isPresent() && syslogTls.isEmpty()) {
                throw new ConfigException("--audit-syslog-ca needs --audit-syslog-tls");
            }
            if (checkpointSeconds < 1 || checkpointSeconds > 3600) {
                throw new ConfigException("--audit-checkpoint-seconds must be 1 to 3600");
            }
            if (tsaUrl.isPresent() && !tsaUrl.get().matches("https?://\\S+")) {
                throw new ConfigException("--audit-tsa-url takes an http:// or https:// URL");
            }
        }

        public String syslogHost() {
            String v = syslogTls.orElseThrow();
            return v.substring(0, v.lastIndexOf(':')).replace("[", "").replace("]", "");
        }

        public int syslogPort() {
            String v = syslogTls.orElseThrow();
            return Integer.parseInt(v.substring(v.lastIndexOf(':') + 1));
        }
    }

    /**
     * Break-glass and security notices.
     *
     * @param syslog    where security notices go besides the log and the console inbox, if anywhere
     * @param syslogTls whether to send them over TLS (RFC 5425); plain TCP only to a loopback relay
     */
    public record AccessOptions(int breakGlassHours, int reviewEscalationHours, Optional<String> syslog,
                                boolean syslogTls, int proxyEscalateHours) {
        public static final AccessOptions DEFAULT = new AccessOptions(2, 72, Optional.empty(), false, 24);

        /** With the default escalation of proxy entries (24 hours). */
        public AccessOptions(int breakGlassHours, int reviewEscalationHours, Optional<String> syslog,
                             boolean syslogTls) {
            this(breakGlassHours, reviewEscalationHours, syslog, syslogTls, 24);
        }

        public AccessOptions {
            if (proxyEscalateHours < 1 || proxyEscalateHours > 24 * 30) {
                throw new ConfigException("--proxy-escalate-hours must be between 1 and 720 / 代行入力の督促時間は 1〜720 時間です");
            }
            if (breakGlassHours < 1 || breakGlassHours > 12) {
                throw new ConfigException("--break-glass-hours must be between 1 and 12");
            }
            if (reviewEscalationHours < 1 || reviewEscalationHours > 24 * 30) {
                throw new ConfigException("--break-glass-review-hours must be between 1 and 720");
            }
            if (syslog.isPresent()) {
                String v = syslog.get();
                int colon = v.lastIndexOf(':');
                boolean ok = colon > 0 && v.substring(colon + 1).matches("[0-9]{1,5}")
                        && Integer.parseInt(v.substring(colon + 1)) >= 1 && Integer.parseInt(v.substring(colon + 1)) <= 65535;
                if (!ok) {
                    throw new ConfigException("--notify-syslog and --notify-syslog-tls take HOST:PORT");
                }
                if (!syslogTls && !isLoopback(v.substring(0, colon).replace("[", "").replace("]", ""))) {
                    throw new ConfigException("--notify-syslog (plain TCP) is allowed only to a loopback relay: notices"
                            + " name patients; use --notify-syslog-tls HOST:PORT / 平文のsyslog送信はループバックのみです");
                }
            }
        }

        public String syslogHost() {
            String v = syslog.orElseThrow();
            return v.substring(0, v.lastIndexOf(':')).replace("[", "").replace("]", "");
        }

        public int syslogPort() {
            String v = syslog.orElseThrow();
            return Integer.parseInt(v.substring(v.lastIndexOf(':') + 1));
        }
    }

    /**
     * Limits on slow and on too many connections, so that a few clients cannot hold every connection the server
     * has (STORE-8: availability for continuity of care). Jetty's idle timeout alone restarts with every byte.
     *
     * @param headerSeconds            a request's line and headers must have arrived this many seconds after the
     *                                 connection opened (so the TLS handshake counts too) or, for a later request
     *                                 on the same connection, after its first byte
     * @param minBodyBytesPerSecond    once the server has waited {@code headerSeconds} in all for a body, the body
     *                                 must have come at least this fast over that waiting time, else 408; 0: no minimum
     * @param maxConnectionsPerAddress connections one remote address may hold open at once; more are closed as
     *                                 they open; 0: no limit
     */
    public record ListenerOptions(int headerSeconds, int minBodyBytesPerSecond, int maxConnectionsPerAddress) {
        /** A hospital behind NAT or a terminal server stays well under 100 connections in normal use. */
        public static final ListenerOptions DEFAULT = new ListenerOptions(20, 1024, 100);

        public ListenerOptions {
            if (headerSeconds < 1 || headerSeconds > 600) {
                throw new ConfigException("--header-timeout must be 1 to 600 seconds");
            }
            if (minBodyBytesPerSecond < 0) {
                throw new ConfigException("--min-body-rate must be 0 (no minimum) or more bytes per second");
            }
            if (maxConnectionsPerAddress < 0 || maxConnectionsPerAddress > 1_000_000) {
                throw new ConfigException("--max-connections-per-address must be 0 (no limit) to 1000000");
            }
        }
    }

    /**
     * Identity settings as given on the command line; defaults are the guideline-compliant values.
     *
     * @param unusedDays    an active account without a login for this many days is unused (ACCT-2)
     * @param suspendUnused suspend unused accounts (default) rather than only report them
     */
    public record IdentityOptions(int idleLockMinutes, int maxSessionHours, int unusedDays, boolean suspendUnused,
                                  int minPasswordLength, int enrolmentCodeHours) {
        public static final IdentityOptions DEFAULT = new IdentityOptions(15, 12, 90, true, 12, 72);

        public IdentityOptions {
            if (idleLockMinutes < 1 || idleLockMinutes > 120) {
                throw new ConfigException("--session-idle-minutes must be between 1 and 120");
            }
            if (maxSessionHours < 1 || maxSessionHours > 24) {
                throw new ConfigException("--session-max-hours must be between 1 and 24");
            }
            if (unusedDays < 7 || unusedDays > 730) {
                throw new ConfigException("--unused-days must be between 7 and 730");
            }
            if (minPasswordLength < 8 || minPasswordLength > 64) {
                throw new ConfigException("--min-password-length must be between 8 and 64");
            }
            if (enrolmentCodeHours < 1 || enrolmentCodeHours > 24 * 14) {
                throw new ConfigException("--enrolment-code-hours must be between 1 and 336");
            }
        }
    }

    public static final int DEFAULT_PORT = 8443;
    /** Large enough for the transaction bundles that synthetic-patient generators produce (tens of MB). */
    public static final long DEFAULT_MAX_BODY_BYTES = 128L * 1024 * 1024;

    /** Where the records live: the embedded PostgreSQL under the data folder, or an external server. */
    /**
     * @param appPassword the password the server gives its runtime role {@code mamori_app} and logs in with
     *                    (external databases; the embedded one generates its own). Without it, an external
     *                    database is used through {@code SET ROLE}, which a deviation reports.
     */
    public record Database(Optional<String> jdbcUrl, Optional<String> user, Optional<String> password,
                           Optional<String> appPassword) {
        public boolean embedded() {
            return jdbcUrl.isEmpty();
        }

        @Override
        public String toString() {
            return embedded() ? "embedded" : jdbcUrl.get() + " user=" + user.orElse("(default)")
                    + " password=" + (password.isPresent() ? "****" : "(none)")
                    + " app-password=" + (appPassword.isPresent() ? "****" : "(none: SET ROLE)");
        }
    }

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new ConfigException("--port must be between 0 and 65535, got " + port);
        }
        if (maxBodyBytes < 1024) {
            throw new ConfigException("--max-body must be at least 1024 bytes");
        }
        if (defaultPageSize < 1 || maxPageSize < defaultPageSize) {
            throw new ConfigException("page sizes must satisfy 1 <= default <= max");
        }
        if (plainHttp && !isLoopback(bindAddress)) {
            throw new ConfigException("--http (plain HTTP) is allowed only on a loopback address; "
                    + "bind with --bind 127.0.0.1 or drop --http / 平文HTTPはループバックアドレスでのみ使用できます");
        }
        if (publicUrl.isPresent()) {
            String u = publicUrl.get();
            if (!u.matches("https://[A-Za-z0-9.-]+(:[0-9]{1,5})?") && !(plainHttp
                    && u.matches("http://(localhost|127\\.0\\.0\\.1)(:[0-9]{1,5})?"))) {
                throw new ConfigException("--public-url must be https://HOST[:PORT] (the address people open, without a path)");
            }
        }
        if (accessTokenLifetime.toSeconds() < 1 || accessTokenLifetime.toSeconds() > 3600) {
            throw new ConfigException("--access-token-lifetime must be 1 to 3600 seconds");
        }
        if (keystore.isPresent() && keystorePassword.isEmpty()) {
            throw new ConfigException("--keystore needs its password in MAMORI_KEYSTORE_PASSWORD");
        }
    }

    /** Settings weaker than the guideline-compliant defaults, one line each. Empty when none. */
    public List<String> deviations() {
        List<String> out = new ArrayList<>();
        if (jp.mamori.kernel.BenchBuild.UNAUDITED) {
            out.add(jp.mamori.kernel.BenchBuild.DEVIATION);
        }
        if (plainHttp) {
            out.add("plain HTTP without TLS on " + bindAddress + ":" + port + " (NET-1/NET-3 expect TLS)");
        }
        IdentityOptions d = IdentityOptions.DEFAULT;
        if (identity.idleLockMinutes() > d.idleLockMinutes()) {
            out.add("sessions lock after " + identity.idleLockMinutes() + " idle minutes (default 15; AUTH-9)");
        }
        if (identity.maxSessionHours() > d.maxSessionHours()) {
            out.add("sessions last up to " + identity.maxSessionHours() + " hours (default 12)");
        }
        if (identity.minPasswordLength() < d.minPasswordLength()) {
            out.add("passwords may be as short as " + identity.minPasswordLength() + " characters (default 12; AUTH-5)");
        }
        if (!identity.suspendUnused()) {
            out.add("unused accounts are reported but not suspended (ACCT-2)");
        }
        if (access.breakGlassHours() > AccessOptions.DEFAULT.breakGlassHours()) {
            out.add("break-glass lasts " + access.breakGlassHours() + " hours (default 2)");
        }
        if (access.reviewEscalationHours() > AccessOptions.DEFAULT.reviewEscalationHours()) {
            out.add("unreviewed break-glass uses escalate only after " + access.reviewEscalationHours()
                    + " hours (default 72)");
        }
        if (identity.unusedDays() > d.unusedDays()) {
            out.add("accounts count as unused only after " + identity.unusedDays() + " days (default 90; ACCT-2)");
        }
        if (audit.retentionYears() < AuditOptions.DEFAULT.retentionYears()) {
            out.add("audit entries are kept for " + audit.retentionYears() + " years (default 5, the longest statutory"
                    + " record retention; AUDIT-5)");
        }
        if (audit.checkpointSeconds() > AuditOptions.DEFAULT.checkpointSeconds()) {
            out.add("audit checkpoints are signed every " + audit.checkpointSeconds() + " s (default 10): more entries"
                    + " wait unproven (AUDIT-3)");
        }
        ListenerOptions l = ListenerOptions.DEFAULT;
        if (listener.headerSeconds() > l.headerSeconds()) {
            out.add("request headers may take " + listener.headerSeconds() + " s to arrive (default "
                    + l.headerSeconds() + "): slow clients hold connections longer");
        }
        if (listener.minBodyBytesPerSecond() < l.minBodyBytesPerSecond()) {
            out.add(listener.minBodyBytesPerSecond() == 0 ? "request bodies have no minimum rate (default "
                    + l.minBodyBytesPerSecond() + " bytes/s): a client may hold a connection by sending slowly"
                    : "request bodies may arrive at " + listener.minBodyBytesPerSecond() + " bytes/s (default "
                    + l.minBodyBytesPerSecond() + ")");
        }
        if (listener.maxConnectionsPerAddress() == 0 || listener.maxConnectionsPerAddress()
                > l.maxConnectionsPerAddress()) {
            out.add(listener.maxConnectionsPerAddress() == 0 ? "no limit on connections per remote address (default "
                    + l.maxConnectionsPerAddress() + ")" : "one remote address may hold "
                    + listener.maxConnectionsPerAddress() + " connections (default " + l.maxConnectionsPerAddress() + ")");
        }
        out.addAll(backup.deviations(dataDir));
        if (ops.anonymousMetrics()) {
            out.add("/metrics is served without authentication (--metrics-anonymous): anyone who reaches the port learns"
                    + " request rates and the health of this server (NET-13) / メトリクスを認証なしで公開しています");
        }
        if (ops.afterHoursAlert() == 0) {
            out.add("no alert on after-hours access (--alert-after-hours 0): the audit report still lists it, but nobody is"
                    + " told at the time (AUDIT-8) / 時間外アクセスの警告を無効にしています");
        }
        out.addAll(downtime.deviations());
        out.addAll(directory.deviations());
        if (!database.embedded() && database.appPassword().isEmpty()) {
            out.add("external database without MAMORI_DB_APP_PASSWORD: request handling reaches the runtime role by"
                    + " SET ROLE from the owner's login, which injected SQL could RESET");
        }
        return out;
    }

    /** Parses {@code serve} options. Environment supplies secrets so they stay out of process listings. */
    public static ServerConfig fromArgs(List<String> args, Map<String, String> env) {
        Args a = Args.parse(args, java.util.stream.Stream.concat(java.util.stream.Stream.of("--data", "--port", "--bind", "--db-url", "--db-user", "--db-password",
                "--keystore", "--max-body", "--validation", "--public-url", "--session-idle-minutes",
                "--session-max-hours", "--unused-days", "--unused-action", "--min-password-length",
                "--enrolment-code-hours", "--access-token-lifetime", "--break-glass-hours", "--break-glass-review-hours",
                "--proxy-escalate-hours",
                "--notify-syslog", "--notify-syslog-tls", "--audit-retention-years", "--audit-syslog-tls",
                "--audit-syslog-ca", "--audit-clock-check-minutes", "--audit-working-hours", "--audit-volume-factor",
                "--audit-checkpoint-seconds", "--audit-anchor-dir", "--audit-tsa-url", "--time-zone",
                "--header-timeout", "--min-body-rate", "--max-connections-per-address", "--backup-dir",
                "--backup-offline-dir", "--backup-offline-max-days", "--backup-hour", "--backup-keep",
                "--backup-wal-seconds", "--backup-drill-days", "--backup-s3-endpoint", "--backup-s3-bucket",
                "--backup-s3-prefix", "--backup-s3-region", "--backup-s3-credentials", "--backup-s3-max-hours",
                "--backup-pgbackrest-stanza", "--backup-pgbackrest-command", "--backup-pgbackrest-config",
                "--backup-pgbackrest-drill-dir", "--signature-trust-dir", "--signature-tsa-url", "--seal-pkcs12",
                "--seal-pkcs11", "--signature-renew-days", "--institution-name", "--health-disk-min-free",
                "--alert-failed-logins", "--health-check-seconds", "--alert-after-hours", "--downtime-minutes",
                "--downtime-dir", "--downtime-generations", "--degraded-check-seconds", "--compliance-dir"),
                java.util.stream.Stream.concat(DirectoryOptions.OPTIONS.stream(), ProfileOptions.OPTIONS.stream())).toList(),
                List.of("--http", "--no-backup", "--signature-offline-revocation", "--metrics-anonymous", "--read-only"));
        Path data = Path.of(a.value("--data").orElse("mamori-data")).toAbsolutePath().normalize();
        boolean http = a.flag("--http");
        String bind = a.value("--bind").orElse(http ? "127.0.0.1" : "0.0.0.0");
        int port = a.intValue("--port").orElse(http ? 8080 : DEFAULT_PORT);
        Database db = new Database(
                a.value("--db-url").or(() -> Optional.ofNullable(env.get("MAMORI_DB_URL"))).map(ServerConfig::jdbcUrl),
                a.value("--db-user").or(() -> Optional.ofNullable(env.get("MAMORI_DB_USER"))),
                a.value("--db-password").or(() -> Optional.ofNullable(env.get("MAMORI_DB_PASSWORD"))),
                Optional.ofNullable(env.get("MAMORI_DB_APP_PASSWORD")).filter(v -> !v.isBlank()));
        long maxBody = a.value("--max-body").map(ServerConfig::parseSize).orElse(DEFAULT_MAX_BODY_BYTES);
        Validation validation = switch (a.value("--validation").orElse("structure")) {
            case "structure" -> Validation.STRUCTURE;
            case "full" -> Validation.FULL;
            case "jp-core" -> Validation.JP_CORE;
            default -> throw new ConfigException("--validation は structure, full, jp-core のどれかです /"
                    + " --validation must be structure, full or jp-core");
        };
        IdentityOptions d = IdentityOptions.DEFAULT;
        boolean suspend = switch (a.value("--unused-action").orElse("suspend")) {
            case "suspend" -> true;
            case "report" -> false;
            default -> throw new ConfigException("--unused-action must be suspend or report");
        };
        IdentityOptions identity = new IdentityOptions(a.intValue("--session-idle-minutes").orElse(d.idleLockMinutes()),
                a.intValue("--session-max-hours").orElse(d.maxSessionHours()),
                a.intValue("--unused-days").orElse(d.unusedDays()), suspend,
                a.intValue("--min-password-length").orElse(d.minPasswordLength()),
                a.intValue("--enrolment-code-hours").orElse(d.enrolmentCodeHours()));
        return new ServerConfig(data, bind, port, http, a.value("--keystore").map(Path::of),
                Optional.ofNullable(env.get("MAMORI_KEYSTORE_PASSWORD")), db, maxBody, 20, 1000, validation,
                ProfileOptions.from(a, data, validation),
                a.value("--public-url").map(u -> u.endsWith("/") ? u.substring(0, u.length() - 1) : u), identity,
                java.time.Duration.ofSeconds(a.intValue("--access-token-lifetime").orElse(300)), accessOptions(a),
                auditOptions(a), timeZone(a), listenerOptions(a), backupOptions(a, data), pgBackRestOptions(a, db),
                signatureOptions(a, data), opsOptions(a), downtimeOptions(a, data),
                a.value("--compliance-dir").map(v -> Path.of(v).toAbsolutePath().normalize()),
                DirectoryOptions.from(a));
    }

    private static OpsOptions opsOptions(Args a) {
        OpsOptions d = OpsOptions.DEFAULT;
        int n = d.failedLogins();
        int minutes = d.failedLoginMinutes();
        if (a.value("--alert-failed-logins").isPresent()) {
            String[] p = a.value("--alert-failed-logins").get().split("/");
            try {
                n = Integer.parseInt(p[0].strip());
                minutes = p.length > 1 ? Integer.parseInt(p[1].strip()) : minutes;
            } catch (RuntimeException e) {
                throw new ConfigException("--alert-failed-logins takes N/MINUTES, e.g. 20/5 / 例: 20/5");
            }
        }
        long disk;
        try {
            disk = a.value("--health-disk-min-free").map(ServerConfig::parseSize).orElse(d.diskMinFreeBytes());
        } catch (ConfigException e) {
            throw new ConfigException("--health-disk-min-free must be a size such as 1G / 例: 1G");
        }
        return new OpsOptions(disk, n, minutes, a.intValue("--health-check-seconds").orElse(d.checkSeconds()),
                a.flag("--metrics-anonymous"), a.intValue("--alert-after-hours").orElse(d.afterHoursAlert()),
                a.intValue("--degraded-check-seconds").orElse(d.degradedCheckSeconds()), a.flag("--read-only"));
    }

    private static DowntimeOptions downtimeOptions(Args a, Path data) {
        DowntimeOptions d = DowntimeOptions.defaults(data);
        return new DowntimeOptions(a.intValue("--downtime-minutes").orElse(d.minutes()),
                a.value("--downtime-dir").map(p -> Path.of(p).toAbsolutePath().normalize()).orElse(d.dir()),
                a.intValue("--downtime-generations").orElse(d.generations()));
    }

    private static SignatureOptions signatureOptions(Args a, Path data) {
        return new SignatureOptions(a.value("--signature-trust-dir").map(p -> Path.of(p).toAbsolutePath().normalize())
                .orElse(data.resolve("signatures").resolve("trust")),
                a.value("--signature-tsa-url").map(v -> List.of(v.strip().split("\\s*,\\s*"))).orElse(List.of()),
                !a.flag("--signature-offline-revocation"),
                a.value("--seal-pkcs12").map(p -> Path.of(p).toAbsolutePath().normalize()),
                a.value("--seal-pkcs11").map(v -> List.of(v.split(":", -1))),
                a.intValue("--signature-renew-days").orElse(365), a.value("--institution-name"));
    }

    private static PgBackRestOptions pgBackRestOptions(Args a, Database db) {
        PgBackRestOptions o = new PgBackRestOptions(a.value("--backup-pgbackrest-stanza"),
                a.value("--backup-pgbackrest-command").map(c -> List.of(c.strip().split(" +")))
                        .orElse(PgBackRestOptions.NONE.command()),
                a.value("--backup-pgbackrest-config").map(Path::of),
                a.value("--backup-pgbackrest-drill-dir").map(Path::of));
        if (o.configured() && db.embedded()) {
            throw new ConfigException("--backup-pgbackrest-stanza is for an external database (--db-url); the embedded"
                    + " one is backed up by Mamori itself / pgBackRest は外部データベース用です");
        }
        if (!o.configured() && (a.value("--backup-pgbackrest-command").isPresent()
                || a.value("--backup-pgbackrest-config").isPresent()
                || a.value("--backup-pgbackrest-drill-dir").isPresent())) {
            throw new ConfigException("the --backup-pgbackrest-* options need --backup-pgbackrest-stanza"
                    + " / スタンザ名を指定してください");
        }
        return o;
    }

    private static BackupOptions backupOptions(Args a, Path data) {
        BackupOptions d = BackupOptions.defaults(data);
        return new BackupOptions(!a.flag("--no-backup"),
                a.value("--backup-dir").map(p -> Path.of(p).toAbsolutePath().normalize()).orElse(d.dir()),
                a.value("--backup-offline-dir").map(p -> Path.of(p).toAbsolutePath().normalize()),
                a.intValue("--backup-offline-max-days").orElse(d.offlineMaxDays()),
                a.intValue("--backup-hour").orElse(d.hour()),
                a.value("--backup-keep").map(BackupOptions.Keep::parse).orElse(d.keep()),
                a.intValue("--backup-wal-seconds").orElse(d.walSeconds()),
                a.intValue("--backup-drill-days").orElse(d.drillDays()), s3Options(a, data));
    }

    private static Optional<BackupOptions.S3> s3Options(Args a, Path data) {
        Optional<String> bucket = a.value("--backup-s3-bucket");
        if (bucket.isEmpty()) {
            for (String o : List.of("--backup-s3-endpoint", "--backup-s3-prefix", "--backup-s3-region",
                    "--backup-s3-credentials", "--backup-s3-max-hours")) {
                if (a.value(o).isPresent()) {
                    throw new ConfigException(o + " には --backup-s3-bucket が必要です / " + o
                            + " needs --backup-s3-bucket");
                }
            }
            return Optional.empty();
        }
        Optional<java.net.URI> endpoint;
        try {
            endpoint = a.value("--backup-s3-endpoint").map(java.net.URI::create);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("--backup-s3-endpoint は URL ではありません / --backup-s3-endpoint is not a URL");
        }
        return Optional.of(new BackupOptions.S3(endpoint, bucket.get(), a.value("--backup-s3-prefix").orElse("mamori"),
                a.value("--backup-s3-region").orElse("ap-northeast-1"),
                a.value("--backup-s3-credentials").map(p -> Path.of(p).toAbsolutePath().normalize())
                        .orElse(data.resolve("secrets").resolve("backup-s3-credentials")),
                a.intValue("--backup-s3-max-hours").orElse(26)));
    }

    private static ListenerOptions listenerOptions(Args a) {
        ListenerOptions d = ListenerOptions.DEFAULT;
        return new ListenerOptions(a.intValue("--header-timeout").orElse(d.headerSeconds()),
                a.intValue("--min-body-rate").orElse(d.minBodyBytesPerSecond()),
                a.intValue("--max-connections-per-address").orElse(d.maxConnectionsPerAddress()));
    }

    /** {@code --time-zone}: the zone the console shows and prints times in (default Asia/Tokyo, i.e. JST). */
    private static java.time.ZoneId timeZone(Args a) {
        String z = a.value("--time-zone").orElse("Asia/Tokyo");
        try {
            return java.time.ZoneId.of(z);
        } catch (java.time.DateTimeException e) {
            throw new ConfigException("--time-zone must be a time zone such as Asia/Tokyo / タイムゾーン名が正しくありません: " + z);
        }
    }

    private static AuditOptions auditOptions(Args a) {
        AuditOptions d = AuditOptions.DEFAULT;
        int start = d.workStartHour();
        int end = d.workEndHour();
        if (a.value("--audit-working-hours").isPresent()) {
            String[] p = a.value("--audit-working-hours").get().split("-");
            try {
                start = Integer.parseInt(p[0].strip());
                end = Integer.parseInt(p[1].strip());
            } catch (RuntimeException e) {
                throw new ConfigException("--audit-working-hours must be START-END in whole hours, e.g. 8-19");
            }
        }
        double factor;
        try {
            factor = a.value("--audit-volume-factor").map(Double::parseDouble).orElse(d.volumeFactor());
        } catch (NumberFormatException e) {
            throw new ConfigException("--audit-volume-factor must be a number such as 3");
        }
        return new AuditOptions(a.intValue("--audit-retention-years").orElse(d.retentionYears()),
                a.value("--audit-syslog-tls"), a.value("--audit-syslog-ca").map(Path::of),
                a.intValue("--audit-clock-check-minutes").orElse(d.clockCheckMinutes()), start, end, factor,
                a.intValue("--audit-checkpoint-seconds").orElse(d.checkpointSeconds()),
                a.value("--audit-anchor-dir").map(p -> Path.of(p).toAbsolutePath().normalize()), a.value("--audit-tsa-url"));
    }

    private static AccessOptions accessOptions(Args a) {
        if (a.value("--notify-syslog").isPresent() && a.value("--notify-syslog-tls").isPresent()) {
            throw new ConfigException("give --notify-syslog or --notify-syslog-tls, not both");
        }
        AccessOptions d = AccessOptions.DEFAULT;
        return new AccessOptions(a.intValue("--break-glass-hours").orElse(d.breakGlassHours()),
                a.intValue("--break-glass-review-hours").orElse(d.reviewEscalationHours()),
                a.value("--notify-syslog-tls").or(() -> a.value("--notify-syslog")),
                a.value("--notify-syslog-tls").isPresent(),
                a.intValue("--proxy-escalate-hours").orElse(d.proxyEscalateHours()));
    }

    /** Accepts a JDBC URL or a libpq-style {@code postgresql://} URL. */
    static String jdbcUrl(String url) {
        if (url.startsWith("jdbc:postgresql:")) {
            return url;
        }
        if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
            return "jdbc:postgresql://" + url.substring(url.indexOf("://") + 3);
        }
        throw new ConfigException("--db-url must be jdbc:postgresql://HOST:PORT/DB or postgresql://HOST:PORT/DB");
    }

    static long parseSize(String s) {
        String t = s.trim().toUpperCase();
        long mult = 1;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            mult = switch (t.charAt(t.length() - 1)) {
                case 'K' -> 1024L;
                case 'M' -> 1024L * 1024;
                default -> 1024L * 1024 * 1024;
            };
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ConfigException("--max-body must be a size such as 128M, got '" + s + "'");
        }
    }

    public static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "ServerConfig[data=" + dataDir + ", bind=" + bindAddress + ":" + port + ", tls=" + !plainHttp
                + ", keystore=" + keystore.map(Path::toString).orElse("(generated)") + ", database=" + database
                + ", maxBody=" + maxBodyBytes + ", validation=" + validation + "]";
    }
}
