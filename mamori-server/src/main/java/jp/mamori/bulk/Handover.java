package jp.mamori.bulk;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.Outcome;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.WriteEntries;
import jp.mamori.db.Secrets;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.Resource;

import javax.sql.DataSource;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The contract-end hand-over (DISPOSAL-7, STORE-2): the whole record store written out as NDJSON files (one type at a
 * time, bounded by bytes) with a manifest naming every file with its SHA-256, signed with the installation's hand-over
 * key (Ed25519, {@code <data>/secrets/handover-signing-key}, created on first use, owner-only); verified (signature,
 * every hash, files missing or added); and imported into a fresh Mamori through the normal write path, versions keeping
 * their ids, with the reason {@value #REASON}.
 *
 * <p>What is handed over: the current version of every record that is not deleted, as stored. Not the history of
 * earlier versions: written through the record service, the next system would give them new version numbers, times and
 * authors, which would misrepresent them; the full history stays provable in this installation's backups and audit
 * trail, which are kept for their own retention periods (and can be handed over as such). The export and the import are
 * each one entry in the trail, with the counts and the manifest's hash.
 */
public final class Handover {
    public static final String MANIFEST = "manifest.json";
    public static final String SIGNATURE = "manifest.json.sig";
    public static final String PUBLIC_KEY = "signing-key.pub";
    public static final String FORMAT = "mamori-handover/1";
    public static final String REASON = "handover import";
    static final String KEY_FILE = "handover-signing-key";
    static final Caller EXPORTER = Caller.system("handover-export");
    static final Caller IMPORTER = Caller.system("handover-import");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern FILE_NAME = Pattern.compile("[A-Z][A-Za-z]{1,63}\\.[0-9]{1,6}\\.ndjson");
    private static final long MAX_MANIFEST_BYTES = 64L * 1024 * 1024;
    /** Resources written per transaction on import. */
    private static final int IMPORT_BATCH = 200;
    /** A line longer than this is refused (as the record store would refuse such a resource). */
    private static final int MAX_LINE_CHARS = 256 * 1024 * 1024;

    private final RecordService records;
    private final AuditRecorder recorder;
    private final Path dataDir;

    /** Reads and writes through a record service of its own, each write's entry staged in its transaction. */
    public Handover(DataSource ds, AuditRecorder recorder, Path dataDir) {
        this.records = new RecordService(ds, new AccessPolicy(), new FhirSupport(), 50, 1000);
        this.records.journal(new WriteEntries(recorder));
        this.recorder = recorder;
        this.dataDir = dataDir;
    }

    /** One file in the manifest. */
    public record Entry(String file, String type, long count, long bytes, String sha256) {
    }

    /** What an export or import did. */
    public record Summary(long resources, Map<String, Long> perType, int files, String manifestSha256,
                          String keyFingerprint, long millis) {
        public String text() {
            return "リソース " + resources + " 件、ファイル " + files + " 個 / " + resources + " resources in " + files
                    + " files (" + millis + " ms); manifest sha256 " + manifestSha256 + ", key " + keyFingerprint;
        }
    }

    // ------------------------------------------------------------------------------------------------ export

    /**
     * Writes every current record into {@code dir} (created, or empty), files of at most {@code maxFileBytes}, then
     * the signed manifest, and records the hand-over in the trail.
     */
    public Summary export(Path dir, long maxFileBytes, Actor by) throws IOException {
        long started = System.nanoTime();
        prepareEmpty(dir);
        List<Entry> entries = new ArrayList<>();
        Map<String, Long> perType = new LinkedHashMap<>();
        Instant transactionTime = Instant.now();
        try (NdjsonParts parts = new NdjsonParts(dir, maxFileBytes, false, (type, n) -> type + "." + n + ".ndjson",
                c -> {
                    entries.add(new Entry(c.path().getFileName().toString(), c.type(), c.count(), c.bytes(),
                            c.sha256()));
                    perType.merge(c.type(), c.count(), Long::sum);
                })) {
            for (String type : importOrder(FhirSupport.CTX.getResourceTypes())) {
                String cursor = null;
                do {
                    Map<String, List<String>> q = new LinkedHashMap<>();
                    q.put("_count", List.of("1000"));
                    if (cursor != null) {
                        q.put("_cursor", List.of(cursor));
                    }
                    RecordService.SearchPage page = records.search(EXPORTER, type, q);
                    for (RecordService.Stored st : page.matches()) {
                        if (st.body() != null) {
                            parts.write(type, st.id(), st.body());
                        }
                    }
                    cursor = page.nextCursor();
                } while (cursor != null);
                parts.finish();
            }
        }
        byte[] manifest = manifest(transactionTime, entries, perType);
        Files.write(dir.resolve(MANIFEST), manifest);
        KeyPair key = signingKey();
        Files.writeString(dir.resolve(SIGNATURE), Base64.getEncoder().encodeToString(sign(key.getPrivate(), manifest))
                + "\n", StandardCharsets.US_ASCII);
        Files.writeString(dir.resolve(PUBLIC_KEY), Base64.getEncoder().encodeToString(key.getPublic().getEncoded())
                + "\n", StandardCharsets.US_ASCII);
        long total = perType.values().stream().mapToLong(Long::longValue).sum();
        Summary s = new Summary(total, perType, entries.size(), sha256(manifest), fingerprint(key.getPublic()),
                (System.nanoTime() - started) / 1_000_000);
        Map<String, String> d = new LinkedHashMap<>();
        d.put("folder", dir.toAbsolutePath().toString());
        d.put("resources", Long.toString(total));
        d.put("files", Integer.toString(entries.size()));
        perType.forEach((t, n) -> d.put("count." + t, Long.toString(n)));
        d.put("manifest-sha256", s.manifestSha256());
        d.put("key-fingerprint", s.keyFingerprint());
        d.put("history", "current versions only");
        recorder.append(AuditEvent.by(by, AuditAction.HANDOVER_EXPORT).purpose(Purpose.ADMINISTRATION)
                .outcome(Outcome.SUCCESS).details(d).build());
        return s;
    }

    /** Patient first (what the others refer to), then every other type in name order. */
    static List<String> importOrder(Set<String> types) {
        List<String> out = new ArrayList<>();
        out.add("Patient");
        for (String t : new TreeSet<>(types)) {
            if (!t.equals("Patient")) {
                out.add(t);
            }
        }
        return out;
    }

    private static byte[] manifest(Instant transactionTime, List<Entry> entries, Map<String, Long> perType)
            throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = BulkExport.JSON.createGenerator(out)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            g.writeStringField("format", FORMAT);
            g.writeStringField("transactionTime", transactionTime.toString());
            g.writeStringField("history", "current versions only / 各記録の最新版のみ（履歴は含まない）");
            g.writeObjectFieldStart("totals");
            for (Map.Entry<String, Long> e : perType.entrySet()) {
                g.writeNumberField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
            g.writeArrayFieldStart("files");
            for (Entry e : entries) {
                g.writeStartObject();
                g.writeStringField("file", e.file());
                g.writeStringField("type", e.type());
                g.writeNumberField("count", e.count());
                g.writeNumberField("bytes", e.bytes());
                g.writeStringField("sha256", e.sha256());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        out.write('\n');
        return out.toByteArray();
    }

    private static void prepareEmpty(Path dir) throws IOException {
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException(dir + " はフォルダではありません / is not a folder");
            }
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
                if (ds.iterator().hasNext()) {
                    throw new IllegalArgumentException(dir + " は空ではありません / is not empty: the hand-over is"
                            + " written into a new or empty folder");
                }
            }
        } else {
            Files.createDirectories(dir);
        }
        NdjsonParts.ownerOnly(dir);
    }

    // ------------------------------------------------------------------------------------------------ the key

    /** The installation's hand-over key, created on first use (owner-only, in the data folder's secrets). */
    KeyPair signingKey() throws IOException {
        Path f = dataDir.resolve("secrets").resolve(KEY_FILE);
        try {
            KeyFactory kf = KeyFactory.getInstance("Ed25519");
            if (!Files.exists(f)) {
                KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
                Files.createDirectories(f.getParent());
                Secrets.writeOwnerOnly(f, "# Mamori hand-over signing key (Ed25519): signs the manifest of a"
                        + " contract-end hand-over. Keep it secret.\n"
                        + "private " + Base64.getEncoder().encodeToString(kp.getPrivate().getEncoded()) + "\n"
                        + "public " + Base64.getEncoder().encodeToString(kp.getPublic().getEncoded()) + "\n");
                return kp;
            }
            if (!Secrets.ownerOnly(f)) {
                throw new IllegalStateException(f + " can be read by others: make it owner-only (chmod 600)");
            }
            Map<String, String> v = new LinkedHashMap<>();
            for (String line : Files.readAllLines(f, StandardCharsets.US_ASCII)) {
                int sp = line.indexOf(' ');
                if (!line.startsWith("#") && sp > 0) {
                    v.put(line.substring(0, sp), line.substring(sp + 1).trim());
                }
            }
            PrivateKey priv = kf.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(v.get("private"))));
            PublicKey pub = kf.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(v.get("public"))));
            return new KeyPair(pub, priv);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalStateException("the hand-over signing key " + f + " cannot be used: " + e.getMessage(), e);
        }
    }

    private static byte[] sign(PrivateKey key, byte[] message) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(key);
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** SHA-256 of the key's X.509 encoding, hex. */
    public static String fingerprint(PublicKey key) {
        return sha256(key.getEncoded());
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------ verify

    /**
     * The outcome of a verification: {@code problems} empty when the signature holds and every file is there, as
     * listed, and nothing else is; otherwise one line each (changed, missing, extra file, bad signature).
     */
    public record Verification(List<String> problems, List<Entry> entries, String manifestSha256,
                               String keyFingerprint) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    /**
     * Checks the hand-over in {@code dir}: the manifest's signature (with {@code trusted} when given, which must be the
     * key the folder names; with the folder's key otherwise, whose fingerprint the caller compares with the trail's
     * entry), then every file's size and SHA-256, and that no file is missing or extra.
     */
    public static Verification verify(Path dir, PublicKey trusted) throws IOException {
        List<String> problems = new ArrayList<>();
        Path m = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(m, LinkOption.NOFOLLOW_LINKS)) {
            return new Verification(List.of("マニフェストがありません / missing: " + MANIFEST), List.of(), null, null);
        }
        if (Files.size(m) > MAX_MANIFEST_BYTES) {
            return new Verification(List.of("マニフェストが大きすぎます / " + MANIFEST + " is too large"), List.of(),
                    null, null);
        }
        byte[] manifest = Files.readAllBytes(m);
        String fingerprint = null;
        PublicKey key = trusted;
        try {
            PublicKey named = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(
                    Base64.getDecoder().decode(Files.readString(dir.resolve(PUBLIC_KEY), StandardCharsets.US_ASCII)
                            .trim())));
            fingerprint = fingerprint(named);
            if (trusted != null && !fingerprint(trusted).equals(fingerprint)) {
                problems.add("署名鍵が指定の鍵と違います / " + PUBLIC_KEY + " is not the trusted key (fingerprint "
                        + fingerprint + ")");
            }
            if (key == null) {
                key = named;
            }
        } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
            problems.add("公開鍵を読めません / " + PUBLIC_KEY + " is missing or not an Ed25519 public key");
        }
        if (key != null) {
            try {
                byte[] sig = Base64.getDecoder().decode(Files.readString(dir.resolve(SIGNATURE),
                        StandardCharsets.US_ASCII).trim());
                Signature s = Signature.getInstance("Ed25519");
                s.initVerify(key);
                s.update(manifest);
                if (!s.verify(sig)) {
                    problems.add("署名が一致しません（マニフェストが変更されています） / the signature does not match: "
                            + MANIFEST + " was changed or signed by another key");
                }
            } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
                problems.add("署名を読めません / " + SIGNATURE + " is missing or unreadable");
            }
        }
        List<Entry> entries = new ArrayList<>();
        Set<String> listed = new TreeSet<>();
        try {
            JsonNode root = JSON.readTree(manifest);
            if (!FORMAT.equals(root.path("format").asText())) {
                problems.add("マニフェストの形式が違います / " + MANIFEST + " is not " + FORMAT);
            }
            for (JsonNode f : root.path("files")) {
                Entry e = new Entry(f.path("file").asText(), f.path("type").asText(), f.path("count").asLong(),
                        f.path("bytes").asLong(), f.path("sha256").asText());
                if (!FILE_NAME.matcher(e.file()).matches() || !e.file().startsWith(e.type() + ".")
                        || !FhirSupport.isResourceType(e.type()) || !listed.add(e.file())) {
                    problems.add("マニフェストの項目が不正です / a manifest entry is not valid: " + e.file());
                    continue;
                }
                entries.add(e);
            }
        } catch (IOException e) {
            problems.add("マニフェストを読めません / " + MANIFEST + " is not JSON");
        }
        for (Entry e : entries) {
            Path p = dir.resolve(e.file());
            if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                problems.add("ファイルがありません / missing: " + e.file());
                continue;
            }
            String actual;
            try (InputStream in = Files.newInputStream(p)) {
                MessageDigest d = MessageDigest.getInstance("SHA-256");
                byte[] buf = new byte[1 << 16];
                int n;
                while ((n = in.read(buf)) > 0) {
                    d.update(buf, 0, n);
                }
                actual = HexFormat.of().formatHex(d.digest());
            } catch (GeneralSecurityException ex) {
                throw new IllegalStateException(ex);
            }
            if (!actual.equals(e.sha256()) || Files.size(p) != e.bytes()) {
                problems.add("ファイルが変更されています / changed: " + e.file() + " (sha256 " + actual + ")");
            }
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            Set<String> extra = new TreeSet<>();
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!listed.contains(name) && !Set.of(MANIFEST, SIGNATURE, PUBLIC_KEY).contains(name)) {
                    extra.add(name);
                }
            }
            for (String x : extra) {
                problems.add("一覧にないファイルがあります / extra: " + x);
            }
        }
        return new Verification(problems, entries, sha256(manifest), fingerprint);
    }

    // ------------------------------------------------------------------------------------------------ import

    /**
     * Imports the hand-over in {@code dir} after verifying it (refused whole when verification finds anything): every
     * resource through the record service as {@code system:handover-import}, keeping its id, with the reason
     * {@value #REASON}, {@value #IMPORT_BATCH} a transaction, Patients first. A resource the record store refuses is a
     * report line; the rest go on.
     */
    public Summary importFrom(Path dir, PublicKey trusted, Actor by, Consumer<String> report) throws IOException {
        long started = System.nanoTime();
        Verification v = verify(dir, trusted);
        if (!v.ok()) {
            throw new IllegalArgumentException("引渡しデータの検証に失敗しました。取り込みません / the hand-over does not"
                    + " verify, nothing imported: " + String.join("; ", v.problems()));
        }
        Map<String, Long> perType = new LinkedHashMap<>();
        long refused = 0;
        List<Entry> ordered = new ArrayList<>();
        for (String t : importOrder(FhirSupport.CTX.getResourceTypes())) {
            for (Entry e : v.entries()) {
                if (e.type().equals(t)) {
                    ordered.add(e);
                }
            }
        }
        for (Entry e : ordered) {
            List<Resource> batch = new ArrayList<>(IMPORT_BATCH);
            int line = 0;
            try (BufferedReader r = Files.newBufferedReader(dir.resolve(e.file()), StandardCharsets.UTF_8)) {
                String text;
                while ((text = r.readLine()) != null) {
                    line++;
                    if (text.isBlank()) {
                        continue;
                    }
                    if (text.length() > MAX_LINE_CHARS) {
                        report.accept("拒否 / refused\t" + e.file() + ":" + line + "\ttoo long");
                        refused++;
                        continue;
                    }
                    Resource res;
                    try {
                        res = (Resource) FhirSupport.parse(FhirSupport.Format.JSON,
                                text.getBytes(StandardCharsets.UTF_8));
                    } catch (RuntimeException ex) {
                        report.accept("拒否 / refused\t" + e.file() + ":" + line + "\tnot FHIR JSON: " + ex.getMessage());
                        refused++;
                        continue;
                    }
                    if (!res.fhirType().equals(e.type())) {
                        report.accept("拒否 / refused\t" + e.file() + ":" + line + "\ta " + res.fhirType() + " in a "
                                + e.type() + " file");
                        refused++;
                        continue;
                    }
                    batch.add(res);
                    if (batch.size() == IMPORT_BATCH) {
                        refused += write(batch, e.file(), report, perType);
                        batch.clear();
                    }
                }
            }
            if (!batch.isEmpty()) {
                refused += write(batch, e.file(), report, perType);
            }
        }
        long total = perType.values().stream().mapToLong(Long::longValue).sum();
        Summary s = new Summary(total, perType, v.entries().size(), v.manifestSha256(), v.keyFingerprint(),
                (System.nanoTime() - started) / 1_000_000);
        Map<String, String> d = new LinkedHashMap<>();
        d.put("folder", dir.toAbsolutePath().toString());
        d.put("resources", Long.toString(total));
        d.put("refused", Long.toString(refused));
        perType.forEach((t, n) -> d.put("count." + t, Long.toString(n)));
        d.put("manifest-sha256", v.manifestSha256());
        d.put("key-fingerprint", String.valueOf(v.keyFingerprint()));
        recorder.append(AuditEvent.by(by, AuditAction.HANDOVER_IMPORT).purpose(Purpose.ADMINISTRATION)
                .outcome(refused == 0 ? Outcome.SUCCESS : Outcome.ERROR).details(d).build());
        return new Summary(total, perType, v.entries().size(), v.manifestSha256(), v.keyFingerprint(), s.millis());
    }

    /** One transaction for the batch; if the store refuses it, each resource alone, so that one refusal costs one. */
    private long write(List<Resource> batch, String file, Consumer<String> report, Map<String, Long> perType) {
        try {
            records.writeWith((c, writer) -> {
                for (Resource r : batch) {
                    writer.update(IMPORTER, r.fhirType(), r.getIdElement().getIdPart(), prepared(r), null, REASON);
                }
                return null;
            });
            for (Resource r : batch) {
                perType.merge(r.fhirType(), 1L, Long::sum);
            }
            return 0;
        } catch (FhirError e) {
            long refused = 0;
            for (Resource r : batch) {
                try {
                    records.writeWith((c, writer) -> writer.update(IMPORTER, r.fhirType(),
                            r.getIdElement().getIdPart(), prepared(r), null, REASON));
                    perType.merge(r.fhirType(), 1L, Long::sum);
                } catch (FhirError one) {
                    refused++;
                    report.accept("拒否 / refused\t" + file + "\t" + r.fhirType() + "/" + r.getIdElement().getIdPart()
                            + "\t" + (one.issues().isEmpty() ? "" : one.issues().get(0).diagnostics()));
                }
            }
            return refused;
        }
    }

    /** The resource as the new store records it: its version id and time are the new store's. */
    private static Resource prepared(Resource r) {
        r.getMeta().setVersionId(null);
        r.getMeta().setLastUpdated(null);
        return r;
    }
}
