package jp.mamori.preservation;

import jp.mamori.config.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.GetObjectLockConfigurationResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectLockEnabled;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The Object Lock copy (BACKUP-1 "3-2-1", BACKUP-3): the backups and shipped WAL of one installation copied to
 * S3-compatible object storage, every object version written with Object Lock in COMPLIANCE mode, so that nobody
 * holding the bucket's credentials (root on this server included) and not even the storage account's owner can delete
 * or alter a copy before its retention date. The bucket mirrors the main destination's layout:
 * <pre>
 *   PREFIX/INSTALLATION/base/ID/PART           parts, then manifest.sig, then manifest.json (last)
 *   PREFIX/INSTALLATION/wal/NAME               shipped WAL (unique, immutable names)
 * </pre>
 * Every object is sent with its SHA-256 (the store refuses a body that does not match), then read back with HEAD:
 * size, lock mode and retention date must be what was asked for. A backup's retention runs from its creation to the
 * end of the longest finished generation period (daily, weekly, monthly, yearly; {@link Generations}) that keeps it,
 * plus one period, extended when a period ends ({@link #retainUntil}); WAL is kept as long as the newest backup. Object Lock only protects versions: a holder of the credentials
 * can put a NEW version over a key (junk, or a newer manifest), so everything read back is checked against the signed
 * manifest ({@link #verify}, {@link #download}), which only this installation's key can sign.
 */
public final class ObjectLockCopy implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ObjectLockCopy.class);
    /** The state file in the local state folder. */
    public static final String LOCAL_STATE = "s3-last-refresh";
    private static final String STATE_HEADER = "mamori-s3-refresh 1";
    private static final int MAX_STATE_BYTES = 4096;
    private static final int MAX_CREDENTIALS_BYTES = 4096;
    private static final int MAX_SIGNATURE_BYTES = 1024;
    /** At most so many keys are listed (a hostile store cannot make the list take the heap): ample for years. */
    private static final int MAX_LISTED = 200_000;
    private static final int MAX_KEY_LENGTH = 512;
    /** A shipped WAL file is a segment (16 MiB by default) or smaller; a store sending more is refused. */
    private static final long MAX_WAL_BYTES = 1L << 30;
    private static final Pattern INSTALLATION = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern BACKUP_ID = CopyManifests.BACKUP_ID;
    private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9]{1,128}");
    private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9/+=]{1,256}");
    /** The deviation when the bucket would let a copy be deleted. */
    static final String DELETABLE = "削除可能な複製 / copy is deletable";

    private final FolderParts main;
    private final String installationId;
    private final PublicKey signer;
    private final ServerConfig.BackupOptions.S3 options;
    private final ServerConfig.BackupOptions.Keep keep;
    private final ZoneId zone;
    private final Path localStateDir;
    private final S3Client s3;
    private final String root;
    private final Map<String, Instant> lockedUntil = new java.util.HashMap<>();
    private volatile String bucketProblem;
    private volatile boolean bucketGood;
    private volatile String lastProblem;

    /**
     * The Object Lock copy of {@code main} ({@code DIR/INSTALLATION}) in the bucket {@code options} name; manifests
     * are checked with {@code signer}; retention follows {@code keep} in {@code zone}; the state that
     * {@link #status} reads is kept in {@code localStateDir}.
     */
    public ObjectLockCopy(FolderParts main, String installationId, PublicKey signer,
                          ServerConfig.BackupOptions.S3 options, ServerConfig.BackupOptions.Keep keep, ZoneId zone,
                          Path localStateDir) {
        if (installationId == null || !INSTALLATION.matcher(installationId).matches()) {
            throw new IllegalArgumentException("installation id is not 16 hex characters");
        }
        this.main = Objects.requireNonNull(main);
        this.installationId = installationId;
        this.signer = Objects.requireNonNull(signer);
        this.options = Objects.requireNonNull(options);
        this.keep = Objects.requireNonNull(keep);
        this.zone = Objects.requireNonNull(zone);
        this.localStateDir = localStateDir.toAbsolutePath().normalize();
        this.root = options.prefix() + "/" + installationId + "/";
        this.s3 = client(options);
    }

    /** The client: path-style for an endpoint override, the URL-connection transport, bounded timeouts and retries. */
    private static S3Client client(ServerConfig.BackupOptions.S3 o) {
        var b = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(10))
                        .socketTimeout(Duration.ofSeconds(60)).build())
                .region(Region.of(o.region()))
                .credentialsProvider(credentials(o.credentials()))
                // the SHA-256 of every body is given by us; no other checksum is added or required
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .overrideConfiguration(c -> c.retryStrategy(RetryMode.STANDARD)
                        .apiCallTimeout(Duration.ofMinutes(30)));
        o.endpoint().ifPresent(u -> b.endpointOverride(u).forcePathStyle(true));
        return b.build();
    }

    /**
     * The credentials: the owner-only file ({@code access-key-id ID} and {@code secret-access-key SECRET}, one per
     * line) when it exists, else the SDK's default chain. Never logged; a malformed file is named, its content never.
     */
    static AwsCredentialsProvider credentials(Path file) {
        if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            return DefaultCredentialsProvider.builder().build();
        }
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || !jp.mamori.db.Secrets.ownerOnly(file)) {
                throw new BackupException("S3 の認証情報 " + file + " は所有者だけが読める通常ファイルにしてください (chmod 600)"
                        + " / the S3 credentials file " + file + " must be a plain file only its owner can read"
                        + " (chmod 600)");
            }
            byte[] b;
            try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                b = in.readNBytes(MAX_CREDENTIALS_BYTES + 1);
            }
            Map<String, String> v = new LinkedHashMap<>();
            boolean ok = b.length <= MAX_CREDENTIALS_BYTES;
            for (String line : new String(b, StandardCharsets.US_ASCII).split("\n")) {
                String l = line.strip();
                if (!ok || l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                String[] w = l.split("\\s+");
                ok = w.length == 2 && (w[0].equals("access-key-id") || w[0].equals("secret-access-key"))
                        && v.put(w[0], w[1]) == null;
            }
            ok &= v.size() == 2 && KEY_ID.matcher(v.get("access-key-id")).matches()
                    && SECRET.matcher(v.get("secret-access-key")).matches();
            if (!ok) {
                throw new BackupException("S3 の認証情報 " + file + " の形式が正しくありません / the S3 credentials file "
                        + file + " is malformed: two lines, 'access-key-id ID' and 'secret-access-key SECRET'");
            }
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(v.get("access-key-id"),
                    v.get("secret-access-key")));
        } catch (IOException e) {
            throw new BackupException("S3 の認証情報 " + file + " を読めません / cannot read the S3 credentials file "
                    + file + ": " + Messages.firstLine(e), e);
        }
    }

    /** Where this installation's objects are: {@code PREFIX/INSTALLATION/}. */
    public String keyPrefix() {
        return root;
    }

    /** The bucket. */
    public String bucket() {
        return options.bucket();
    }

    // ------------------------------------------------------------------ the bucket

    /**
     * Checks the bucket: versioning enabled, Object Lock enabled, and a default retention (if any) in COMPLIANCE
     * mode. Returns the deviation, or empty; an unreachable store is a deviation too.
     */
    public synchronized Optional<String> checkBucket() {
        String problem = null;
        try {
            var v = s3.getBucketVersioning(r -> r.bucket(options.bucket()));
            if (v.status() != BucketVersioningStatus.ENABLED) {
                problem = "the bucket " + options.bucket() + " has no versioning enabled";
            } else {
                GetObjectLockConfigurationResponse l;
                try {
                    l = s3.getObjectLockConfiguration(r -> r.bucket(options.bucket()));
                } catch (S3Exception e) {
                    if (e.statusCode() != 404) {
                        throw e;
                    }
                    l = null;
                }
                if (l == null || l.objectLockConfiguration() == null
                        || l.objectLockConfiguration().objectLockEnabled() != ObjectLockEnabled.ENABLED) {
                    problem = "the bucket " + options.bucket() + " has no Object Lock";
                } else if (l.objectLockConfiguration().rule() != null
                        && l.objectLockConfiguration().rule().defaultRetention() != null
                        && l.objectLockConfiguration().rule().defaultRetention().mode()
                        != ObjectLockRetentionMode.COMPLIANCE) {
                    problem = "the bucket " + options.bucket() + " retains in "
                            + l.objectLockConfiguration().rule().defaultRetention().modeAsString()
                            + " mode by default, not COMPLIANCE";
                }
            }
        } catch (SdkException e) {
            // not evidence either way: the refresh that follows fails and says why
            bucketProblem = null;
            return Optional.of("バケット " + options.bucket() + " を確認できません / the bucket " + options.bucket()
                    + " cannot be checked: " + sdkLine(e) + " (BACKUP-3)");
        }
        bucketProblem = problem == null ? null : DELETABLE + ": " + problem + " (BACKUP-3)";
        bucketGood = problem == null;
        return Optional.ofNullable(bucketProblem);
    }

    // ------------------------------------------------------------------ refreshing

    /**
     * What one refresh did.
     *
     * @param backups      the backups that became complete in the bucket
     * @param walFiles     the WAL files uploaded
     * @param repaired     parts of backups complete in the bucket whose current version had another size: put again
     * @param extended     objects whose retention was extended (a backup that a longer generation now keeps)
     * @param bytes        bytes uploaded
     * @param took         how long it took
     * @param newestBackup the newest backup complete in the bucket afterwards
     * @param problems     backups or WAL files of the backup folder that could not be uploaded, one line each
     */
    public record Refresh(List<String> backups, List<String> walFiles, List<String> repaired, List<String> extended,
                          long bytes, Duration took, Optional<String> newestBackup, List<String> problems) {
        public Refresh {
            backups = List.copyOf(backups);
            repaired = List.copyOf(repaired);
            walFiles = List.copyOf(walFiles);
            extended = List.copyOf(extended);
            problems = List.copyOf(problems);
        }

        /** One line for the log. */
        public String summary() {
            return "Object Lock copy refreshed: " + backups.size() + " backup(s), " + walFiles.size() + " WAL file(s), "
                    + repaired.size() + " repaired, " + extended.size() + " retention(s) extended, " + bytes + " bytes in " + took.toMillis()
                    + " ms; newest " + newestBackup.orElse("(none)")
                    + (problems.isEmpty() ? "" : "; " + problems.size() + " problem(s)");
        }
    }

    /**
     * Uploads every finished backup of the backup folder not yet complete in the bucket (its parts, then its
     * signature, then its manifest) and every shipped WAL file not yet there, each locked in COMPLIANCE mode until its
     * retention date and read back; then records the refresh in the local state folder.
     *
     * @throws BackupException when the store cannot be reached or refuses a write: one line, no credentials in it
     */
    public synchronized Refresh refresh(Instant now) {
        long t0 = System.nanoTime();
        try {
            Refresh r = refreshOnce(now, t0);
            lastProblem = null;
            return r;
        } catch (BackupException e) {
            lastProblem = e.getMessage();
            throw e;
        } catch (SdkException e) {
            lastProblem = "オブジェクトロック複製を更新できません / cannot refresh the Object Lock copy in bucket "
                    + options.bucket() + ": " + sdkLine(e);
            throw new BackupException(lastProblem, e);
        }
    }

    private Refresh refreshOnce(Instant now, long t0) {
        if (!bucketGood) {
            checkBucket(); // until it is found sound; a deviation here does not stop the upload (a copy is better)
        }
        Map<String, Long> there = listed(root);
        List<String> problems = new ArrayList<>();
        List<String> uploadedBackups = new ArrayList<>();
        List<String> walFiles = new ArrayList<>();
        List<String> extended = new ArrayList<>();
        List<String> repaired = new ArrayList<>();
        long bytes = 0;
        // the plan over the backup folder's finished backups decides how long each must be kept
        Map<String, Manifest.Signed> signed = new TreeMap<>();
        Map<String, Manifest> manifests = new TreeMap<>();
        List<Generations.Kept> kept = new ArrayList<>();
        for (String id : finishedIds(main.list("base/"), "base/")) {
            try {
                Manifest.Signed s = readSigned(main, id);
                Manifest m = checked(s, id);
                signed.put(id, s);
                manifests.put(id, m);
                kept.add(new Generations.Kept(id, m.createdAt(), Backups.startSegment(m)));
            } catch (BackupException e) {
                problems.add("バックアップ " + id + " は複製できません / backup " + id + " is not copied: "
                        + e.getMessage());
            }
        }
        Generations.Plan plan = kept.isEmpty() ? null : Generations.plan(kept, keep, zone, now);
        Instant walUntil = now.plus(Duration.ofDays(keep.daily() + 1L));
        byte[] buffer = new byte[1 << 16];
        for (var e : manifests.entrySet()) {
            String id = e.getKey();
            Manifest m = e.getValue();
            Instant until = retainUntil(m.createdAt(), plan == null ? List.of() : plan.kept().getOrDefault(id,
                    List.of()), keep, zone, now);
            if (until.isBefore(now.plus(Duration.ofDays(1)))) {
                until = now.plus(Duration.ofDays(1)).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1); // late copies
            }
            if (until.isAfter(walUntil)) {
                walUntil = until;
            }
            String prefix = BackupInfo.prefix(id);
            Manifest.Signed s = signed.get(id);
            if (Long.valueOf(s.json().length).equals(there.get(root + prefix + Backups.MANIFEST))) {
                // complete in the bucket: a part whose current version has another size (put over it) is put again
                // (verify() finds one of the same size); the retention is extended when a longer generation keeps it
                for (Manifest.Part p : m.parts()) {
                    if (!Long.valueOf(p.sealedSize()).equals(there.get(root + p.name()))) {
                        try {
                            put(root + p.name(), RequestBody.fromFile(main.file(p.name())), p.sealedSize(), p.sha256(),
                                    until);
                            repaired.add(p.name());
                            bytes += p.sealedSize();
                        } catch (BackupException ex) {
                            if (ex.getCause() instanceof SdkException) {
                                throw ex;
                            }
                            problems.add(ex.getMessage());
                        }
                    }
                }
                Instant known = lockedUntil.get(id);
                if (known != null && !known.isBefore(until)) {
                    continue;
                }
                if (extend(root + prefix + Backups.MANIFEST, until)) {
                    for (Manifest.Part p : m.parts()) {
                        extend(root + p.name(), until);
                    }
                    extend(root + prefix + Backups.SIGNATURE, until);
                    extended.add(id);
                }
                lockedUntil.put(id, until);
                continue;
            }
            try {
                for (Manifest.Part p : m.parts()) {
                    Path f = main.file(p.name());
                    if (!Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS) || Files.size(f) != p.sealedSize()) {
                        throw new BackupException("バックアップ " + id + " の部品 " + p.name() + " が目録と一致しません /"
                                + " part " + p.name() + " in the backup folder does not match the signed manifest:"
                                + " backup " + id + " is not copied");
                    }
                    put(root + p.name(), RequestBody.fromFile(f), p.sealedSize(), p.sha256(), until);
                    bytes += p.sealedSize();
                }
            } catch (IOException ex) {
                problems.add("バックアップ " + id + " の部品を読めません / cannot read backup " + id + ": "
                        + Messages.firstLine(ex));
                continue;
            } catch (BackupException ex) {
                if (ex.getCause() instanceof SdkException) {
                    throw ex; // the store failed: stop, no refresh is recorded
                }
                problems.add(ex.getMessage());
                continue;
            }
            put(root + prefix + Backups.SIGNATURE, RequestBody.fromBytes(s.signature()), s.signature().length,
                    hex(sha256(s.signature())), until);
            put(root + prefix + Backups.MANIFEST, RequestBody.fromBytes(s.json()), s.json().length,
                    hex(sha256(s.json())), until);
            bytes += s.signature().length + s.json().length;
            uploadedBackups.add(id);
            lockedUntil.put(id, until);
        }
        for (String name : main.list(WalShipper.PREFIX)) {
            Path f = main.file(name);
            try {
                long size = Files.size(f);
                if (Long.valueOf(size).equals(there.get(root + name))) {
                    continue;
                }
                String sha = sha256(f, buffer);
                put(root + name, RequestBody.fromFile(f), size, sha, walUntil);
                bytes += size;
                walFiles.add(name);
            } catch (NoSuchFileException ex) {
                // pruned meanwhile
            } catch (IOException ex) {
                problems.add("WAL " + name + " を読めません / cannot read " + name + ": " + Messages.firstLine(ex));
            }
        }
        Optional<String> newest = Optional.empty();
        Optional<Instant> newestAt = Optional.empty();
        TreeSet<String> complete = new TreeSet<>(finishedIds(listed(root + "base/").keySet(), root + "base/"));
        for (var e : manifests.entrySet()) {
            if (complete.contains(e.getKey()) && (newestAt.isEmpty()
                    || e.getValue().createdAt().isAfter(newestAt.get()))) {
                newest = Optional.of(e.getKey());
                newestAt = Optional.of(e.getValue().createdAt());
            }
        }
        writeLocalState(now, newest, newestAt);
        Refresh r = new Refresh(uploadedBackups, walFiles, repaired, extended, bytes,
                Duration.ofNanos(System.nanoTime() - t0), newest, problems);
        log.info("{}", r.summary());
        for (String p : problems) {
            log.warn("Object Lock copy: {}", p);
        }
        return r;
    }

    /**
     * How long a backup taken at {@code createdAt} that the generation rules keep for {@code reasons} (at {@code now},
     * in {@code zone}) must be locked: to the end of the longest of them plus one period (a day, week, month or year
     * of the rule), at least the daily window; rounded up to the second (S3 dates carry no fraction).
     *
     * <p>A weekly, monthly or yearly reason counts only once its period has ended: until then the backup is only the
     * newest of an unfinished week, month or year, and every new backup would otherwise be locked for the longest
     * generation (with 7,5,12,5 some six years, every day: thousands of full copies nobody can delete). Once the
     * period ends, its newest backup is the keeper, and the next refresh extends its lock (BACKUP-1, BACKUP-2).
     */
    static Instant retainUntil(Instant createdAt, List<String> reasons, ServerConfig.BackupOptions.Keep keep,
                               ZoneId zone, Instant now) {
        long days = keep.daily() + 1L;
        java.time.LocalDate today = java.time.LocalDate.ofInstant(now, zone);
        for (String r : reasons) {
            String[] w = r.split(" ", 2);
            long d = switch (w[0]) {
                case "weekly" -> w.length == 2 && !w[1].equals(String.format("%d-W%02d",
                        today.get(java.time.temporal.IsoFields.WEEK_BASED_YEAR),
                        today.get(java.time.temporal.IsoFields.WEEK_OF_WEEK_BASED_YEAR)))
                        ? (keep.weekly() + 1L) * 7 : 0;
                case "monthly" -> w.length == 2 && !w[1].equals(String.format("%d-%02d", today.getYear(),
                        today.getMonthValue())) ? (keep.monthly() + 1L) * 31 : 0;
                case "yearly" -> w.length == 2 && !w[1].equals(Integer.toString(today.getYear()))
                        ? (keep.yearly() + 1L) * 366 : 0;
                default -> keep.daily() + 1L;
            };
            days = Math.max(days, d);
        }
        Instant t = createdAt.plus(Duration.ofDays(days));
        Instant s = t.truncatedTo(ChronoUnit.SECONDS);
        return s.equals(t) ? s : s.plusSeconds(1);
    }

    /** Uploads one object locked until {@code until}, with its SHA-256, then reads it back with HEAD. */
    private void put(String key, RequestBody body, long size, String shaHex, Instant until) {
        String sha64 = Base64.getEncoder().encodeToString(HexFormat.of().parseHex(shaHex));
        PutObjectResponse put;
        try {
            put = s3.putObject(r -> r.bucket(options.bucket()).key(key).contentLength(size).checksumSHA256(sha64)
                    .objectLockMode(ObjectLockMode.COMPLIANCE).objectLockRetainUntilDate(until), body);
        } catch (SdkException e) {
            throw new BackupException("オブジェクトロック複製に " + key + " を書けません / cannot upload " + key + " to bucket "
                    + options.bucket() + ": " + sdkLine(e), e);
        }
        HeadObjectResponse h;
        try {
            h = s3.headObject(r -> {
                r.bucket(options.bucket()).key(key).checksumMode(ChecksumMode.ENABLED);
                if (put.versionId() != null) {
                    r.versionId(put.versionId());
                }
            });
        } catch (SdkException e) {
            throw new BackupException("オブジェクトロック複製の " + key + " を読み戻せません / cannot read back " + key
                    + " from bucket " + options.bucket() + ": " + sdkLine(e), e);
        }
        String wrong = null;
        if (h.contentLength() == null || h.contentLength() != size) {
            wrong = "its size is " + h.contentLength() + ", not " + size;
        } else if (h.checksumSHA256() != null && !h.checksumSHA256().equals(sha64)) {
            wrong = "its SHA-256 differs";
        } else if (h.objectLockMode() != ObjectLockMode.COMPLIANCE) {
            wrong = "it is not locked in COMPLIANCE mode (" + h.objectLockModeAsString() + "): " + DELETABLE;
        } else if (h.objectLockRetainUntilDate() == null || h.objectLockRetainUntilDate().isBefore(until)) {
            wrong = "it is locked only until " + h.objectLockRetainUntilDate() + ", not " + until + ": " + DELETABLE;
        }
        if (wrong != null) {
            throw new BackupException("オブジェクトロック複製の " + key + " を読み戻すと正しくありません / " + key + " in bucket "
                    + options.bucket() + " reads back wrong: " + wrong,
                    SdkException.builder().message("read-back").build());
        }
    }

    /** Extends the retention of the current version of {@code key} to {@code until} when it is shorter. */
    private boolean extend(String key, Instant until) {
        HeadObjectResponse h = s3.headObject(r -> r.bucket(options.bucket()).key(key));
        if (h.objectLockRetainUntilDate() != null && !h.objectLockRetainUntilDate().isBefore(until)) {
            return false;
        }
        s3.putObjectRetention(r -> r.bucket(options.bucket()).key(key).versionId(h.versionId())
                .retention(x -> x.mode(ObjectLockRetentionMode.COMPLIANCE).retainUntilDate(until)));
        return true;
    }

    /** The keys (and sizes) of the current versions under {@code prefix}, at most {@link #MAX_LISTED}. */
    private Map<String, Long> listed(String prefix) {
        Map<String, Long> out = new TreeMap<>();
        String token = null;
        int pages = 0;
        do {
            String t = token;
            ListObjectsV2Response l = s3.listObjectsV2(r -> r.bucket(options.bucket()).prefix(prefix)
                    .continuationToken(t));
            for (S3Object o : l.contents()) {
                if (o.key() == null || !o.key().startsWith(prefix) || o.key().length() > MAX_KEY_LENGTH
                        || o.size() == null) {
                    continue; // not ours: a store answering off the prefix, or a name no part has
                }
                out.put(o.key(), o.size());
            }
            token = Boolean.TRUE.equals(l.isTruncated()) ? l.nextContinuationToken() : null;
            if (out.size() > MAX_LISTED || (token != null && (token.equals(t) || ++pages > MAX_LISTED / 100))) {
                throw new BackupException("バケットの一覧が多すぎます / bucket " + options.bucket() + " lists more than "
                        + MAX_LISTED + " objects under " + prefix + " (or pages without end): refused");
            }
        } while (token != null);
        return out;
    }

    // ------------------------------------------------------------------ status

    /**
     * Where the Object Lock copy stands.
     *
     * @param lastRefresh  when it was last refreshed, if ever
     * @param newestBackup the newest backup complete in the bucket then, and when it was taken
     * @param deviation    one line when never refreshed, older than the policy, failed, or the bucket lets a copy be
     *                     deleted
     */
    public record Status(Optional<Instant> lastRefresh, Optional<String> newestBackup, Optional<Instant> newestAt,
                         Optional<String> deviation) {
    }

    /** The status at {@code now}, from the local state and what this process saw. */
    public Status status(Instant now) {
        State s;
        try {
            s = readState(localStateDir.resolve(LOCAL_STATE));
        } catch (BackupException e) {
            return new Status(Optional.empty(), Optional.empty(), Optional.empty(), Optional.of(e.getMessage()));
        }
        // one line, the most pressing first: a bucket that lets copies go, a failing upload, a stale copy
        List<String> d = new ArrayList<>();
        if (bucketProblem != null) {
            d.add(bucketProblem);
        }
        if (lastProblem != null) {
            d.add(lastProblem + " (BACKUP-3)");
        }
        if (s == null || s.newestAt().isEmpty()) {
            d.add("no backup is in the Object Lock copy yet (bucket " + options.bucket() + "; BACKUP-1, BACKUP-3)"
                    + " / オブジェクトロック複製にバックアップがまだありません");
        } else {
            Duration age = Duration.between(s.newestAt().get(), now);
            if (age.compareTo(Duration.ofHours(options.maxHours())) > 0) {
                d.add("the newest backup in the Object Lock copy is " + age.toHours() + " hours old (policy: "
                        + options.maxHours() + "; BACKUP-1, BACKUP-3) / オブジェクトロック複製の最新バックアップは "
                        + age.toHours() + " 時間前のものです");
            }
        }
        return new Status(s == null ? Optional.empty() : Optional.of(s.at()),
                s == null ? Optional.empty() : s.newest(), s == null ? Optional.empty() : s.newestAt(),
                d.stream().findFirst());
    }

    private record State(Instant at, Optional<String> newest, Optional<Instant> newestAt) {
    }

    private void writeLocalState(Instant at, Optional<String> newest, Optional<Instant> newestAt) {
        byte[] state = (STATE_HEADER + "\n"
                + "installation " + installationId + "\n"
                + "at " + at + "\n"
                + "newest-backup " + newest.orElse("-") + "\n"
                + "newest-at " + newestAt.map(Instant::toString).orElse("-") + "\n").getBytes(StandardCharsets.US_ASCII);
        try (OutputStream out = new FolderParts(localStateDir).create(LOCAL_STATE)) {
            out.write(state);
        } catch (IOException e) {
            throw new BackupException("オブジェクトロック複製の記録を書けません / cannot write the Object Lock copy's state in "
                    + localStateDir + ": " + Messages.firstLine(e), e);
        }
    }

    private State readState(Path f) {
        Optional<Map<String, String>> read = StateFile.read(f, STATE_HEADER, MAX_STATE_BYTES,
                Set.of("installation", "at", "newest-backup", "newest-at"), "オブジェクトロック複製の記録");
        if (read.isEmpty()) {
            return null;
        }
        Map<String, String> v = read.get();
        boolean ok = !v.isEmpty() && installationId.equals(v.get("installation"));
        try {
            if (ok) {
                String newest = v.get("newest-backup");
                String newestAt = v.get("newest-at");
                if ((newest.equals("-") || BACKUP_ID.matcher(newest).matches())
                        && newest.equals("-") == newestAt.equals("-")) {
                    return new State(Instant.parse(v.get("at")),
                            newest.equals("-") ? Optional.empty() : Optional.of(newest),
                            newestAt.equals("-") ? Optional.empty() : Optional.of(Instant.parse(newestAt)));
                }
            }
        } catch (DateTimeParseException e) {
            // refused below
        }
        throw new BackupException("オブジェクトロック複製の記録 " + f + " の形式が正しくありません / the Object Lock copy's"
                + " state " + f + " is malformed");
    }

    // ------------------------------------------------------------------ verifying and downloading

    /**
     * Re-reads every backup in the bucket: its signed manifest (checked with the installation's key), then every
     * part's size and SHA-256 and lock mode; and every WAL file still in the backup folder against that copy. One line
     * per problem, naming the backup and part; empty when all is well.
     */
    public synchronized List<String> verify() {
        List<String> out = new ArrayList<>();
        Map<String, Long> there;
        try {
            there = listed(root);
        } catch (SdkException e) {
            return List.of("バケット " + options.bucket() + " を読めません / cannot list bucket " + options.bucket() + ": "
                    + sdkLine(e));
        }
        TreeSet<String> withParts = new TreeSet<>();
        for (String k : there.keySet()) {
            String[] p = k.substring(root.length()).split("/");
            if (p.length == 3 && p[0].equals("base")) {
                withParts.add(p[1]);
            }
        }
        List<String> finished = finishedIds(there.keySet(), root + "base/");
        byte[] buffer = new byte[1 << 16];
        for (String id : withParts) {
            if (!finished.contains(id)) {
                out.add("バケットのバックアップ " + id + " は未完了です（目録がありません） / backup " + id + " in the bucket is"
                        + " unfinished (no manifest); the next refresh completes it");
                continue;
            }
            try {
                Manifest m = checked(readSigned(id), id);
                for (Manifest.Part p : m.parts()) {
                    String problem = objectProblem(root + p.name(), p.sealedSize(), p.sha256(), buffer, null);
                    if (problem != null) {
                        out.add("バケットのバックアップ " + id + " の部品 " + p.name() + " が正しくありません / backup " + id
                                + " in the bucket: part " + p.name() + " " + problem);
                    }
                }
            } catch (BackupException e) {
                out.add("バケットのバックアップ " + id + " / backup " + id + " in the bucket: " + e.getMessage());
            } catch (SdkException e) {
                out.add("バケットのバックアップ " + id + " を読めません / cannot read backup " + id + " in the bucket: "
                        + sdkLine(e));
            }
        }
        for (String k : there.keySet()) {
            String name = k.substring(root.length());
            if (!name.startsWith(WalShipper.PREFIX)) {
                continue;
            }
            try {
                Path local = main.file(name);
                if (!Files.isRegularFile(local)) {
                    continue; // only the backup folder's copy can tell; a restore checks each sealed WAL file
                }
                String problem = objectProblem(k, Files.size(local), sha256(local, buffer), buffer, null);
                if (problem != null) {
                    out.add("バケットの WAL " + name + " がバックアップ先と一致しません / " + name + " in the bucket " + problem
                            + " (compared with the backup folder's copy)");
                }
            } catch (IOException | BackupException e) {
                // the backup folder's copy went away: nothing to compare with
            } catch (SdkException e) {
                out.add("バケットの WAL " + name + " を読めません / cannot read " + name + ": " + sdkLine(e));
            }
        }
        return out;
    }

    /**
     * Fetches backup {@code id} (and the shipped WAL from its start onwards) from the bucket into
     * {@code localFolder/INSTALLATION}, the main destination's layout, so that {@link Restore} and the drill work on
     * it unchanged. The signed manifest is checked first and every part against it as it is written; a part that does
     * not match stops the download (one line) and what was written of this backup is deleted, so no complete-looking
     * copy of a tampered backup is ever left. Returns the installation's folder.
     */
    public synchronized FolderParts download(String id, Path localFolder) {
        if (id == null || !BACKUP_ID.matcher(id).matches()) {
            throw new BackupException("バックアップ名が正しくありません / not a backup id: " + Messages.quote(id));
        }
        FolderParts into = new FolderParts(localFolder.toAbsolutePath().normalize().resolve(installationId));
        if (into.root().startsWith(main.root()) || main.root().startsWith(into.root())) {
            throw new BackupException("取得先 " + into.root() + " がバックアップ先と重なっています / the download folder "
                    + into.root() + " overlaps the backup folder " + main.root());
        }
        String prefix = BackupInfo.prefix(id);
        byte[] buffer = new byte[1 << 16];
        try {
            Manifest.Signed s = readSigned(id);
            Manifest m = checked(s, id);
            try {
                for (Manifest.Part p : m.parts()) {
                    String problem = objectProblem(root + p.name(), p.sealedSize(), p.sha256(), buffer, into);
                    if (problem != null && !problem.contains(DELETABLE)) { // the content is what counts here
                        throw new BackupException("バケットのバックアップ " + id + " の部品 " + p.name() + " が目録と一致しません"
                                + "（改ざんの疑い）: 取得を中止しました / backup " + id + " in the bucket: part " + p.name()
                                + " " + problem + "; the download is refused");
                    }
                }
                write(into, prefix + Backups.SIGNATURE, s.signature());
                write(into, prefix + Backups.MANIFEST, s.json());
            } catch (RuntimeException e) {
                for (Manifest.Part p : m.parts()) {
                    into.delete(p.name());
                }
                throw e;
            }
            String start = Backups.startSegment(m);
            Generations.Plan from = new Generations.Plan(Map.of(id, List.of("download")), List.of(), List.of(start));
            List<String> names = new ArrayList<>();
            for (String k : listed(root + WalShipper.PREFIX).keySet()) {
                names.add(k.substring(root.length() + WalShipper.PREFIX.length()));
            }
            List<String> notNeeded = from.walToDelete(names);
            for (String n : names) {
                if (!notNeeded.contains(n) && WalNames.isArchived(n)) {
                    copyObject(root + WalShipper.PREFIX + n, into, WalShipper.PREFIX + n, buffer);
                }
            }
            log.info("Object Lock copy: backup {} downloaded to {}", id, into.root());
            return into;
        } catch (SdkException e) {
            throw new BackupException("バケットからバックアップ " + id + " を取得できません / cannot download backup " + id
                    + " from bucket " + options.bucket() + ": " + sdkLine(e), e);
        }
    }

    /** The newest backup complete in the bucket whose manifest verifies, if any. */
    public synchronized Optional<String> newestInBucket() {
        try {
            List<String> ids = finishedIds(listed(root + "base/").keySet(), root + "base/");
            Optional<String> best = Optional.empty();
            Instant bestAt = null;
            for (String id : ids) {
                try {
                    Manifest m = checked(readSigned(id), id);
                    if (bestAt == null || m.createdAt().isAfter(bestAt)) {
                        best = Optional.of(id);
                        bestAt = m.createdAt();
                    }
                } catch (BackupException e) {
                    log.warn("Object Lock copy: backup {} in the bucket is skipped: {}", id, e.getMessage());
                }
            }
            return best;
        } catch (SdkException e) {
            throw new BackupException("バケット " + options.bucket() + " を読めません / cannot list bucket "
                    + options.bucket() + ": " + sdkLine(e), e);
        }
    }

    private void write(FolderParts into, String name, byte[] bytes) {
        try (OutputStream out = into.create(name)) {
            out.write(bytes);
        } catch (IOException e) {
            throw new BackupException("取得先に書けません / cannot write " + name + " in " + into.root() + ": "
                    + Messages.firstLine(e), e);
        }
    }

    private void copyObject(String key, FolderParts into, String name, byte[] buffer) {
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(options.bucket()).key(key))) {
            OutputStream out = into.create(name);
            try {
                long n = 0;
                for (int r; (r = in.read(buffer)) > 0; ) {
                    n += r;
                    if (n > MAX_WAL_BYTES) {
                        throw new BackupException("バケットの " + key + " が大きすぎます / " + key + " in the bucket is"
                                + " larger than " + MAX_WAL_BYTES + " bytes: refused");
                    }
                    out.write(buffer, 0, r);
                }
                out.close();
            } catch (IOException | RuntimeException e) {
                PartSink.abort(out);
                throw e;
            }
        } catch (IOException e) {
            throw new BackupException("バケットから " + key + " を取得できません / cannot download " + key + ": "
                    + Messages.firstLine(e), e);
        }
    }

    /**
     * What is wrong with the current version of {@code key} against a size and SHA-256 (and its lock), or null; with
     * {@code into}, the object is written there as {@code key}'s part name while it is read (aborted on a mismatch).
     */
    private String objectProblem(String key, long size, String sha, byte[] buffer, FolderParts into) {
        ResponseInputStream<GetObjectResponse> in;
        try {
            in = s3.getObject(r -> r.bucket(options.bucket()).key(key));
        } catch (NoSuchKeyException e) {
            return "is missing";
        }
        OutputStream out = null;
        try (in) {
            GetObjectResponse h = in.response();
            if (h.contentLength() != null && h.contentLength() != size) {
                return h.contentLength() < size ? "is truncated (" + h.contentLength() + " of " + size + " bytes)"
                        : "is longer than the manifest says (" + h.contentLength() + " of " + size + " bytes)";
            }
            if (into != null) {
                out = into.create(key.substring(root.length()));
            }
            MessageDigest d = DigestingOutputStream.newSha256();
            long n = 0;
            for (int r; (r = in.read(buffer)) > 0; ) {
                n += r;
                if (n > size) {
                    break;
                }
                d.update(buffer, 0, r);
                if (out != null) {
                    out.write(buffer, 0, r);
                }
            }
            String problem = n != size ? "has " + (n > size ? "more" : "fewer") + " bytes than the manifest says ("
                    + size + ")" : !sha.equals(hex(d.digest())) ? "is altered (SHA-256 does not match)"
                    : h.objectLockMode() != ObjectLockMode.COMPLIANCE ? "is not locked in COMPLIANCE mode: " + DELETABLE
                    : null;
            if (out != null) {
                if (problem == null || problem.contains(DELETABLE)) {
                    out.close();
                } else {
                    PartSink.abort(out);
                }
                out = null;
            }
            return problem;
        } catch (IOException e) {
            if (out != null) {
                PartSink.abort(out);
            }
            return "cannot be read: " + Messages.firstLine(e);
        }
    }

    private Manifest.Signed readSigned(String id) {
        String prefix = root + BackupInfo.prefix(id);
        byte[] json = small(prefix + Backups.MANIFEST, Manifest.MAX_JSON);
        byte[] sig = small(prefix + Backups.SIGNATURE, MAX_SIGNATURE_BYTES);
        return Manifest.Signed.of(json, sig);
    }

    /** An object of at most {@code max} bytes, whole. */
    private byte[] small(String key, int max) {
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(r -> r.bucket(options.bucket()).key(key))) {
            Long len = in.response().contentLength();
            if (len != null && len > max) {
                throw new BackupException(key + " はバケットで大きすぎます / " + key + " in the bucket is larger than "
                        + max + " bytes: refused");
            }
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                throw new BackupException(key + " はバケットで大きすぎます / " + key + " in the bucket is larger than "
                        + max + " bytes: refused");
            }
            return b;
        } catch (NoSuchKeyException e) {
            throw new BackupException("バケットに " + key + " がありません / " + key + " is not in the bucket");
        } catch (IOException e) {
            throw new BackupException("バケットの " + key + " を読めません / cannot read " + key + ": "
                    + Messages.firstLine(e), e);
        }
    }

    // ------------------------------------------------------------------ expiring

    /** One object version deleted by {@link #expire}: its key, version and the retention date that had passed. */
    public record Expired(String key, String versionId, Instant retainedUntil) {
    }

    /**
     * Deletes the object versions whose retention date has passed (by {@code now}, and by the store's own clock,
     * which refuses an earlier try) and that no kept generation needs: the parts of backups that the generation plan
     * over the bucket's backups no longer keeps, and the WAL before every kept backup's start. It never tries a
     * version still locked. Returns each deletion so the caller records it in the audit trail.
     */
    public synchronized List<Expired> expire(Instant now) {
        try {
            Map<String, Long> there = listed(root);
            List<Generations.Kept> kept = new ArrayList<>();
            for (String id : finishedIds(there.keySet(), root + "base/")) {
                try {
                    Manifest m = checked(readSigned(id), id);
                    kept.add(new Generations.Kept(id, m.createdAt(), Backups.startSegment(m)));
                } catch (BackupException e) {
                    log.warn("Object Lock copy: backup {} in the bucket is left alone: {}", id, e.getMessage());
                }
            }
            if (kept.isEmpty()) {
                return List.of();
            }
            Generations.Plan plan = Generations.plan(kept, keep, zone, now);
            List<String> keys = new ArrayList<>();
            for (String id : plan.deleted()) {
                String prefix = root + BackupInfo.prefix(id);
                // the manifest first: a backup deleted half-way is never listed as finished
                keys.add(prefix + Backups.MANIFEST);
                for (String k : there.keySet()) {
                    if (k.startsWith(prefix) && !k.equals(prefix + Backups.MANIFEST)) {
                        keys.add(k);
                    }
                }
            }
            List<String> wal = new ArrayList<>();
            for (String k : there.keySet()) {
                if (k.startsWith(root + WalShipper.PREFIX)) {
                    wal.add(k.substring(root.length() + WalShipper.PREFIX.length()));
                }
            }
            for (String n : plan.walToDelete(wal)) {
                keys.add(root + WalShipper.PREFIX + n);
            }
            List<Expired> out = new ArrayList<>();
            String lockedBackup = null;
            for (String key : keys) {
                if (lockedBackup != null && key.startsWith(lockedBackup)) {
                    continue; // its manifest is still locked: its parts are kept with it
                }
                HeadObjectResponse h;
                try {
                    h = s3.headObject(r -> r.bucket(options.bucket()).key(key));
                } catch (NoSuchKeyException e) {
                    continue;
                }
                Instant until = h.objectLockRetainUntilDate();
                if (until != null && !until.isBefore(now)) {
                    if (key.endsWith("/" + Backups.MANIFEST)) {
                        lockedBackup = key.substring(0, key.length() - Backups.MANIFEST.length());
                    }
                    continue;
                }
                s3.deleteObject(r -> r.bucket(options.bucket()).key(key).versionId(h.versionId()));
                out.add(new Expired(key, h.versionId(), until));
                log.info("Object Lock copy: deleted {} (version {}, retained until {})", key, h.versionId(), until);
            }
            return out;
        } catch (SdkException e) {
            throw new BackupException("オブジェクトロック複製の期限切れを削除できません / cannot expire the Object Lock copy in"
                    + " bucket " + options.bucket() + ": " + sdkLine(e), e);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** The ids of the backups among {@code keys} (under {@code base}) whose manifest is there, sorted. */
    private static List<String> finishedIds(java.util.Collection<String> keys, String base) {
        return CopyManifests.finishedIds(keys, base);
    }

    private static Manifest.Signed readSigned(FolderParts folder, String id) {
        return CopyManifests.readSigned(folder, id);
    }

    /** The manifest, its signature checked with the installation's key, naming this backup and installation. */
    private Manifest checked(Manifest.Signed signed, String id) {
        return CopyManifests.checked(signed, id, signer, installationId);
    }

    /** One line from an SDK failure: the S3 error code and status, or the first line; never headers or keys. */
    static String sdkLine(SdkException e) {
        if (e instanceof S3Exception s && s.awsErrorDetails() != null) {
            return s.awsErrorDetails().errorCode() + " (HTTP " + s.statusCode() + ")";
        }
        String m = String.valueOf(e.getMessage());
        if (m.startsWith("Unable to load credentials")) {
            return "no S3 credentials: neither the credentials file (--backup-s3-credentials) nor the SDK's"
                    + " environment, profile or instance role gives any";
        }
        int nl = m.indexOf('\n');
        m = nl < 0 ? m : m.substring(0, nl);
        return m.length() > 200 ? m.substring(0, 200) + "…" : m;
    }

    private static byte[] sha256(byte[] b) {
        return DigestingOutputStream.newSha256().digest(b);
    }

    private static String sha256(Path f, byte[] buffer) throws IOException {
        MessageDigest d = DigestingOutputStream.newSha256();
        try (InputStream in = Files.newInputStream(f, LinkOption.NOFOLLOW_LINKS)) {
            for (int r; (r = in.read(buffer)) > 0; ) {
                d.update(buffer, 0, r);
            }
        }
        return hex(d.digest());
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    @Override
    public void close() {
        s3.close();
    }
}
