package jp.mamori.preservation;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import jp.mamori.config.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectLockMode;
import software.amazon.awssdk.services.s3.model.ObjectLockRetentionMode;
import software.amazon.awssdk.services.s3.model.S3Exception;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Object Lock copy against {@link S3Peer} (our own S3 peer on loopback, SigV4-checked, enforcing COMPLIANCE
 * retention as AWS documents it; a real store's enforcement is not tested here). Through the S3 API: a locked version
 * cannot be deleted (by version id) or have its retention shortened; an overwrite is a new version and the locked one
 * stays and verifies; expiry deletes only after the date; tampering is refused; a bucket without Object Lock is a
 * deviation; the credentials appear in no message or log line.
 */
class ObjectLockCopyTest {
    private static final Instant T0 = Instant.parse("2026-12-07T03:00:00Z");
    private static final String BUCKET = "mamori-copies";
    private static final ServerConfig.BackupOptions.Keep KEEP = new ServerConfig.BackupOptions.Keep(1, 0, 0, 0);

    @TempDir
    Path dir;
    private final AtomicReference<Instant> clock = new AtomicReference<>(T0);
    private S3Peer peer;
    private BackupKeys keys;
    private FolderParts main;
    private String inst;
    private Path credentials;
    private ListAppender<ILoggingEvent> logs;
    private final List<AutoCloseable> closing = new java.util.ArrayList<>();

    @BeforeEach
    void setUp() throws IOException {
        peer = new S3Peer(clock);
        peer.createBucket(BUCKET, true, true, null);
        keys = BackupKeys.loadOrCreate(dir.resolve("data"));
        inst = keys.installationId();
        main = new FolderParts(dir.resolve("backups").resolve(inst));
        credentials = dir.resolve("data").resolve("secrets").resolve("backup-s3-credentials");
        Files.createDirectories(credentials.getParent());
        Files.writeString(credentials, "# test store\naccess-key-id " + S3Peer.ACCESS_KEY + "\nsecret-access-key "
                + S3Peer.SECRET_KEY + "\n");
        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-------"));
        logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    }

    @AfterEach
    void tearDown() throws Exception {
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
        for (AutoCloseable c : closing) {
            c.close();
        }
        peer.close();
        for (ILoggingEvent e : logs.list) {
            String line = e.getFormattedMessage() + (e.getThrowableProxy() == null ? ""
                    : e.getThrowableProxy().getMessage());
            assertFalse(line.contains(S3Peer.SECRET_KEY) || line.contains(S3Peer.ACCESS_KEY),
                    "a log line names the credentials: " + line);
        }
    }

    private ServerConfig.BackupOptions.S3 options(String bucket, java.net.URI endpoint) {
        return new ServerConfig.BackupOptions.S3(Optional.of(endpoint), bucket, "mamori", S3Peer.REGION,
                credentials, 26);
    }

    private ObjectLockCopy copy() {
        return copy(BUCKET);
    }

    private ObjectLockCopy copy(String bucket) {
        ObjectLockCopy c = new ObjectLockCopy(main, inst, keys.signerPublicKey(), options(bucket, peer.endpoint()),
                KEEP, ZoneId.of("Asia/Tokyo"), dir.resolve("state"));
        closing.add(c);
        return c;
    }

    /** A client as an attacker with root on the server (and so the bucket's credentials) would use it. */
    private S3Client attacker() {
        S3Client c = S3Client.builder().httpClient(UrlConnectionHttpClient.create()).region(Region.of(S3Peer.REGION))
                .endpointOverride(peer.endpoint()).forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(S3Peer.ACCESS_KEY,
                        S3Peer.SECRET_KEY))).build();
        closing.add(c);
        return c;
    }

    private String key(String part) {
        return "mamori/" + inst + "/" + part;
    }

    /** A sealed, signed backup in the main folder taken at {@code at}. */
    private Manifest backup(String id, Instant at) throws IOException {
        SealedParts sp = new SealedParts(main, new Envelope(keys), Envelope.Opener.of(keys));
        String[] names = {"data.tar", "wal.tar", "folder.tar"};
        int[] sizes = {300_000, 40_000, 3_000};
        for (int i = 0; i < names.length; i++) {
            try (OutputStream out = sp.create(BackupInfo.prefix(id) + names[i])) {
                out.write(Fixtures.plain(sizes[i], id.hashCode() * 31L + i));
            }
        }
        Manifest.Builder m = Manifest.builder().installationId(inst).backupId(id).kind("full")
                .createdAt(at).postgres("17.6", "7581234567890123456").wal(1, "0/2000028", "0/2000100")
                .records(10, 10).auditNextSeq(5).resourceCount("Patient", 3);
        sp.sealed().forEach(m::part);
        Manifest manifest = m.build();
        Manifest.Signed signed = manifest.sign(keys);
        write(BackupInfo.prefix(id) + Backups.SIGNATURE, signed.signature());
        write(BackupInfo.prefix(id) + Backups.MANIFEST, signed.json());
        return manifest;
    }

    private void write(String part, byte[] bytes) throws IOException {
        try (OutputStream out = main.create(part)) {
            out.write(bytes);
        }
    }

    private static String sha256b64(byte[] b) throws Exception {
        return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void lockedCopiesCannotBeDeletedOrShortenedAndAnOverwriteLeavesTheLockedVersion() throws Exception {
        Manifest a = backup("20261207-030000", T0);
        write("wal/000000010000000000000002", Fixtures.plain(5_000, 2));
        ObjectLockCopy c = copy();
        assertEquals(Optional.empty(), c.checkBucket());
        ObjectLockCopy.Refresh r = c.refresh(T0);
        assertEquals(List.of("20261207-030000"), r.backups(), r.summary());
        assertEquals(List.of("wal/000000010000000000000002"), r.walFiles());
        assertTrue(r.problems().isEmpty(), r.problems().toString());
        assertEquals(Optional.of("20261207-030000"), r.newestBackup());
        assertEquals(List.of(), c.verify());

        // every object went with its lock and its SHA-256 (a real store refuses a locked PUT without a checksum)
        List<String> puts = peer.requests.stream().filter(q -> q.startsWith("PUT ")).toList();
        assertEquals(6, puts.size(), puts.toString());
        for (String q : puts) {
            assertTrue(q.contains("X-amz-object-lock-mode: [COMPLIANCE]") && q.contains("X-amz-checksum-sha256: [")
                    && q.contains("X-amz-object-lock-retain-until-date: ["), q);
        }
        String data = key(a.parts().get(0).name());
        S3Client s3 = attacker();
        HeadObjectResponse h = s3.headObject(x -> x.bucket(BUCKET).key(data));
        assertEquals(ObjectLockMode.COMPLIANCE, h.objectLockMode());
        // kept by the daily rule of 1 (and as the newest): 2 days from its creation
        assertEquals(T0.plus(Duration.ofDays(2)), h.objectLockRetainUntilDate());
        String locked = h.versionId();

        // delete by version id: refused; shorten the retention, or turn it to GOVERNANCE: refused
        S3Exception del = assertThrows(S3Exception.class, () -> s3.deleteObject(x -> x.bucket(BUCKET).key(data)
                .versionId(locked)));
        assertEquals(403, del.statusCode());
        assertEquals("AccessDenied", del.awsErrorDetails().errorCode());
        S3Exception shorten = assertThrows(S3Exception.class, () -> s3.putObjectRetention(x -> x.bucket(BUCKET)
                .key(data).versionId(locked).retention(y -> y.mode(ObjectLockRetentionMode.COMPLIANCE)
                        .retainUntilDate(T0.plus(Duration.ofHours(1))))));
        assertEquals(403, shorten.statusCode());
        assertThrows(S3Exception.class, () -> s3.putObjectRetention(x -> x.bucket(BUCKET).key(data).versionId(locked)
                .retention(y -> y.mode(ObjectLockRetentionMode.GOVERNANCE).retainUntilDate(T0.plus(Duration.ofDays(3))))));

        // overwrite with junk of the same size: a new version; verify names the part; the locked one is intact
        byte[] junk = new byte[(int) a.parts().get(0).sealedSize()];
        Arrays.fill(junk, (byte) 7);
        String junkSha = sha256b64(junk);
        s3.putObject(x -> x.bucket(BUCKET).key(data).checksumSHA256(junkSha), RequestBody.fromBytes(junk));
        List<S3Peer.Version> versions = peer.versions(BUCKET, data);
        assertEquals(2, versions.size());
        assertEquals(locked, versions.get(0).id);
        assertArrayEquals(Files.readAllBytes(main.file(a.parts().get(0).name())), versions.get(0).data,
                "the locked version still holds the sealed part");
        List<String> problems = c.verify();
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains(a.parts().get(0).name()) && problems.get(0).contains("altered"),
                problems.get(0));
        assertFalse(problems.get(0).contains("\n"));

        // a download of the tampered backup is refused with one line, and leaves no complete-looking copy
        Path restoreInto = dir.resolve("from-bucket");
        BackupException refused = assertThrows(BackupException.class, () -> c.download("20261207-030000",
                restoreInto));
        assertTrue(refused.getMessage().contains("refused") && !refused.getMessage().contains("\n"),
                refused.getMessage());
        assertFalse(Files.exists(restoreInto.resolve(inst).resolve("base").resolve("20261207-030000")
                .resolve(Backups.MANIFEST)));

        // a delete without a version id only hides the object behind a marker; the locked version stays
        s3.deleteObject(x -> x.bucket(BUCKET).key(key(BackupInfo.prefix("20261207-030000") + Backups.MANIFEST)));
        assertEquals(2, peer.versions(BUCKET, key(BackupInfo.prefix("20261207-030000") + Backups.MANIFEST)).size());
        assertFalse(peer.versions(BUCKET, key(BackupInfo.prefix("20261207-030000") + Backups.MANIFEST)).get(0)
                .deleteMarker);
        for (String line : problems) {
            assertFalse(line.contains(S3Peer.SECRET_KEY));
        }
    }

    @Test
    void aDownloadedBackupIsInTheMainLayoutAndVerifies() throws Exception {
        Manifest a = backup("20261207-030000", T0);
        write("wal/000000010000000000000001", Fixtures.plain(700, 1));
        write("wal/000000010000000000000002", Fixtures.plain(900, 2));
        write("wal/000000010000000000000003", Fixtures.plain(800, 3));
        peer.pageSize = 2; // the listing comes in pages
        ObjectLockCopy c = copy();
        c.refresh(T0);
        assertEquals(Optional.of("20261207-030000"), c.newestInBucket());
        FolderParts got = c.download("20261207-030000", dir.resolve("from-bucket"));
        for (Manifest.Part p : a.parts()) {
            assertArrayEquals(Files.readAllBytes(main.file(p.name())), Files.readAllBytes(got.file(p.name())));
        }
        // the WAL from the backup's start segment onwards; not the segment before it
        assertEquals(List.of("wal/000000010000000000000002", "wal/000000010000000000000003"), got.list("wal/"));
        Manifest again = Manifest.Signed.read(got.file(BackupInfo.prefix("20261207-030000") + Backups.MANIFEST),
                got.file(BackupInfo.prefix("20261207-030000") + Backups.SIGNATURE)).verify(keys.signerPublicKey());
        assertEquals(a, again);
    }

    @Test
    void expiryDeletesOnlyAfterTheDateAndOnlyWhatNoGenerationKeeps() throws Exception {
        backup("20261207-030000", T0);
        write("wal/000000010000000000000001", Fixtures.plain(700, 1));
        ObjectLockCopy c = copy();
        c.refresh(T0);
        Instant t1 = T0.plus(Duration.ofDays(1));
        clock.set(t1);
        backup("20261208-030000", t1);
        c.refresh(t1);
        assertEquals(Optional.of("20261208-030000"), c.newestInBucket());
        assertEquals(1, peer.requests.stream().filter(q -> q.startsWith("GET /" + BUCKET + "?versioning")).count(),
                "the bucket is checked until found sound, not at every refresh");

        // the first backup is no longer kept (daily 1), but it is locked until T0 + 2 days: nothing is tried
        assertEquals(List.of(), c.expire(t1));
        assertEquals(List.of(), peer.refused, "no deletion of a locked version was even tried");

        Instant after = T0.plus(Duration.ofDays(2)).plusSeconds(1);
        clock.set(after);
        List<ObjectLockCopy.Expired> gone = c.expire(after);
        List<String> keysGone = gone.stream().map(ObjectLockCopy.Expired::key).toList();
        assertEquals(key("base/20261207-030000/" + Backups.MANIFEST), keysGone.get(0), "the manifest first");
        assertTrue(keysGone.contains(key("base/20261207-030000/data.tar")), keysGone.toString());
        assertTrue(keysGone.contains(key("wal/000000010000000000000001")), keysGone.toString());
        assertTrue(gone.stream().allMatch(e -> e.retainedUntil().isBefore(after)));
        assertTrue(peer.keys(BUCKET).stream().noneMatch(k -> k.contains("20261207-030000")), peer.keys(BUCKET)
                .toString());
        assertTrue(peer.keys(BUCKET).contains(key("base/20261208-030000/" + Backups.MANIFEST)));
        assertEquals(List.of(), peer.refused);
        assertEquals(List.of(), c.verify());
    }

    @Test
    void aBucketWithoutObjectLockOrWithGovernanceIsADeviationAndNothingIsLeftLookingComplete() throws Exception {
        peer.createBucket("plain-bucket", true, false, null);
        peer.createBucket("governance-bucket", true, true, "GOVERNANCE");
        peer.createBucket("unversioned", false, false, null);
        backup("20261207-030000", T0);
        ObjectLockCopy plain = copy("plain-bucket");
        assertTrue(plain.checkBucket().orElseThrow().contains(ObjectLockCopy.DELETABLE));
        BackupException e = assertThrows(BackupException.class, () -> plain.refresh(T0));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        assertTrue(plain.status(T0).deviation().orElseThrow().contains(ObjectLockCopy.DELETABLE));
        assertTrue(peer.keys("plain-bucket").isEmpty());
        assertTrue(copy("governance-bucket").checkBucket().orElseThrow().contains("GOVERNANCE"));
        assertTrue(copy("unversioned").checkBucket().orElseThrow().contains("versioning"));
    }

    @Test
    void anUnreachableStoreOrWrongCredentialsGiveOneLineWithoutTheCredentials() throws Exception {
        backup("20261207-030000", T0);
        ObjectLockCopy ok = copy();
        peer.close();
        BackupException down = assertThrows(BackupException.class, () -> ok.refresh(T0));
        assertFalse(down.getMessage().contains("\n"), down.getMessage());
        assertTrue(ok.status(T0).deviation().orElseThrow().startsWith("オブジェクトロック複製を更新できません / cannot"
                + " refresh the Object Lock copy"), ok.status(T0).deviation().toString());
        peer = new S3Peer(clock);
        peer.createBucket(BUCKET, true, true, null);

        Files.writeString(credentials, "access-key-id " + S3Peer.ACCESS_KEY + "\nsecret-access-key WRONGsecret\n");
        BackupException bad = assertThrows(BackupException.class, () -> copy().refresh(T0));
        assertTrue(bad.getMessage().contains("SignatureDoesNotMatch"), bad.getMessage());
        assertFalse(bad.getMessage().contains("WRONGsecret") || bad.getMessage().contains(S3Peer.ACCESS_KEY));

        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-r--r--"));
        BackupException open = assertThrows(BackupException.class, this::copy);
        assertTrue(open.getMessage().contains("chmod 600"), open.getMessage());
        Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(credentials, "secret " + S3Peer.SECRET_KEY + "\n");
        BackupException malformed = assertThrows(BackupException.class, this::copy);
        assertFalse(malformed.getMessage().contains(S3Peer.SECRET_KEY), malformed.getMessage());
        for (String r : peer.requests) {
            assertFalse(r.contains(S3Peer.SECRET_KEY), "the secret never travels");
        }
    }

    @Test
    void statusReportsAStaleCopyAndTheLateBackupIsLockedFromNow() throws Exception {
        backup("20261201-030000", T0.minus(Duration.ofDays(6)));
        ObjectLockCopy c = copy();
        assertTrue(c.status(T0).deviation().orElseThrow().contains("no backup"));
        c.refresh(T0);
        ObjectLockCopy.Status s = c.status(T0);
        assertEquals(Optional.of("20261201-030000"), s.newestBackup());
        assertTrue(s.deviation().orElseThrow().contains("144 hours old"), s.deviation().toString());
        // its generation's date had passed: it is still locked, from now on
        HeadObjectResponse h = attacker().headObject(x -> x.bucket(BUCKET).key(key("base/20261201-030000/"
                + Backups.MANIFEST)));
        assertTrue(h.objectLockRetainUntilDate().isAfter(T0), h.toString());
        backup("20261207-030000", T0);
        c.refresh(T0);
        assertEquals(Optional.empty(), c.status(T0).deviation());
        assertTrue(new String(Files.readAllBytes(dir.resolve("state").resolve(ObjectLockCopy.LOCAL_STATE)),
                StandardCharsets.US_ASCII).contains("20261207-030000"));
    }

    @Test
    void aLongerGenerationExtendsTheLockAndNeverShortensIt() throws Exception {
        backup("20261207-030000", T0);
        copy().refresh(T0);
        String manifest = key("base/20261207-030000/" + Backups.MANIFEST);
        assertEquals(T0.plus(Duration.ofDays(2)), attacker().headObject(x -> x.bucket(BUCKET).key(manifest))
                .objectLockRetainUntilDate());
        // with a weekly generation, while its week runs it is locked for the daily window only; once the week is
        // over it is that week's keeper, and its copy is locked for two weeks from its creation
        ObjectLockCopy weekly = new ObjectLockCopy(main, inst, keys.signerPublicKey(), options(BUCKET, peer.endpoint()),
                new ServerConfig.BackupOptions.Keep(1, 1, 0, 0), ZoneId.of("Asia/Tokyo"), dir.resolve("state"));
        closing.add(weekly);
        assertEquals(List.of(), weekly.refresh(T0).extended());
        Instant nextWeek = Instant.parse("2026-12-14T00:00:00Z"); // Monday in Tokyo
        clock.set(nextWeek);
        ObjectLockCopy.Refresh r = weekly.refresh(nextWeek);
        assertEquals(List.of("20261207-030000"), r.extended());
        assertEquals(List.of(), r.backups());
        for (String part : List.of("data.tar", "wal.tar", "folder.tar", Backups.SIGNATURE, Backups.MANIFEST)) {
            assertEquals(T0.plus(Duration.ofDays(14)), attacker().headObject(x -> x.bucket(BUCKET)
                    .key(key("base/20261207-030000/" + part))).objectLockRetainUntilDate(), part);
        }
        // and back to the shorter policy: nothing is shortened (nor tried)
        ObjectLockCopy.Refresh back = copy().refresh(nextWeek);
        assertEquals(List.of(), back.extended());
        assertEquals(T0.plus(Duration.ofDays(14)), attacker().headObject(x -> x.bucket(BUCKET).key(manifest))
                .objectLockRetainUntilDate());
        assertEquals(List.of(), peer.refused);
    }
}
