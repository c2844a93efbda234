package jp.mamori.preservation;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What one backup covers, as a canonical JSON document with a detached Ed25519 signature: the installation, the
 * backup, its kind and time, the PostgreSQL cluster and WAL range, the newest record version and the number of
 * versions, the audit trail's next {@code seq}, the count of each resource type, and every part (name, plain size,
 * sealed size, SHA-256 of the sealed bytes).
 *
 * <p>The document is written in one canonical form (fixed key order, no white space, integers only) and a document
 * in any other form is refused, so the bytes signed are the bytes read. A manifest is used only after
 * {@link Signed#verify(PublicKey)} (the installation's own key) or {@link Signed#verifyWithFingerprint(String)} (a
 * restore on a new machine, against the fingerprint on the recovery sheet). Build one with {@link #builder()}.
 *
 * @param installationId  the installation (16 hex characters, {@link BackupKeys#installationId()})
 * @param backupId        the backup's id (1–64 of letters, digits, '.', '_', '-')
 * @param kind            what kind of backup ("full", "wal", …: 1–32 of lower-case letters, digits, '-')
 * @param createdAt       when it was taken
 * @param postgresVersion the PostgreSQL server version (printable ASCII, at most 128 characters)
 * @param systemIdentifier the cluster's system identifier (decimal, unsigned 64-bit)
 * @param timeline        the WAL timeline (≥ 1)
 * @param startWal        the start WAL location ({@code X/X}, hexadecimal)
 * @param stopWal         the stop WAL location, not before the start
 * @param newestVersion   the newest record version number covered (≥ 0)
 * @param versionCount    how many record versions the backup holds (≥ 0)
 * @param auditNextSeq    the audit trail's next {@code seq} at the backup (≥ 0)
 * @param resourceCounts  the count of each resource type (at most 1,000 types)
 * @param parts           the parts, names unique (at most 200,000)
 */
public record Manifest(String installationId, String backupId, String kind, Instant createdAt,
                       String postgresVersion, String systemIdentifier, int timeline, String startWal, String stopWal,
                       long newestVersion, long versionCount, long auditNextSeq, Map<String, Long> resourceCounts,
                       List<Part> parts) {
    public static final int FORMAT = 1;
    static final int MAX_JSON = 64 << 20;
    static final int MAX_SIGNATURE_FILE = 1024;
    static final int MAX_PARTS = 200_000;
    static final int MAX_TYPES = 1_000;
    static final long MAX_PART_SIZE = 1L << 50;
    private static final byte[] DOMAIN = "mamori-backup-manifest v1\n".getBytes(StandardCharsets.US_ASCII);
    private static final String SIGNATURE_HEADER = "mamori-backup-manifest-signature 1";
    private static final Pattern INSTALLATION = Pattern.compile("[0-9a-f]{16}");
    private static final Pattern BACKUP_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern KIND = Pattern.compile("[a-z][a-z0-9-]{0,31}");
    private static final Pattern PRINTABLE = Pattern.compile("[\\x20-\\x7e]{1,128}");
    private static final Pattern SYSTEM_ID = Pattern.compile("0|[1-9][0-9]{0,19}");
    private static final Pattern LSN = Pattern.compile("([0-9A-F]{1,8})/([0-9A-F]{1,8})");
    private static final Pattern TYPE = Pattern.compile("[A-Z][A-Za-z]{0,63}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern FINGERPRINT = Pattern.compile("MSK1(-[0-9A-Z]{4}){8}");
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(4).maxStringLength(1024)
                    .maxNumberLength(20).maxDocumentLength(MAX_JSON).build())
            .build();

    /** Checks every field; see the record's description. */
    public Manifest {
        require(installationId != null && INSTALLATION.matcher(installationId).matches(),
                "installation is not 16 hex characters");
        require(backupId != null && BACKUP_ID.matcher(backupId).matches(), "backup id is not valid");
        require(kind != null && KIND.matcher(kind).matches(), "kind is not valid");
        require(createdAt != null, "createdAt is missing");
        require(postgresVersion != null && PRINTABLE.matcher(postgresVersion).matches(),
                "postgresVersion is not valid");
        require(systemIdentifier != null && SYSTEM_ID.matcher(systemIdentifier).matches()
                && new java.math.BigInteger(systemIdentifier).bitLength() <= 64, "systemIdentifier is not valid");
        require(timeline >= 1, "timeline must be at least 1");
        long start = lsn(startWal, "startWal");
        long stop = lsn(stopWal, "stopWal");
        require(Long.compareUnsigned(start, stop) <= 0, "stopWal is before startWal");
        require(newestVersion >= 0 && versionCount >= 0 && auditNextSeq >= 0, "counts cannot be negative");
        require(resourceCounts != null && resourceCounts.size() <= MAX_TYPES, "too many resource types");
        TreeMap<String, Long> counts = new TreeMap<>();
        for (Map.Entry<String, Long> e : resourceCounts.entrySet()) {
            require(e.getKey() != null && TYPE.matcher(e.getKey()).matches(), "resource type is not valid");
            require(e.getValue() != null && e.getValue() >= 0, "resource count cannot be negative");
            counts.put(e.getKey(), e.getValue());
        }
        resourceCounts = Collections.unmodifiableSortedMap(counts);
        require(parts != null && parts.size() <= MAX_PARTS, "too many parts");
        Set<String> names = new HashSet<>();
        for (Part p : parts) {
            require(p != null, "a part is missing");
            require(names.add(p.name()), "part " + p.name() + " is listed twice");
        }
        parts = List.copyOf(parts);
    }

    private static long lsn(String s, String field) {
        var m = s == null ? null : LSN.matcher(s);
        require(m != null && m.matches(), field + " is not a WAL location (X/X)");
        return (Long.parseLong(m.group(1), 16) << 32) | Long.parseLong(m.group(2), 16);
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new BackupException("バックアップ目録の内容が正しくありません / the backup manifest is not valid: " + what);
        }
    }

    /**
     * One part of a backup.
     *
     * @param name       the part's name, as sealed ({@link Envelope#validPartName})
     * @param plainSize  bytes before sealing
     * @param sealedSize bytes of the sealed part
     * @param sha256     SHA-256 of the sealed bytes, lower-case hexadecimal
     */
    public record Part(String name, long plainSize, long sealedSize, String sha256) {
        public Part {
            require(Envelope.validPartName(name), "a part name is not valid");
            require(plainSize >= 0 && plainSize <= MAX_PART_SIZE, "part " + name + ": plain size out of range");
            long overhead = sealedSize - plainSize;
            require(sealedSize > plainSize && overhead >= Envelope.PREAMBLE + Envelope.TAG
                            && overhead <= Envelope.MAX_HEADER + Envelope.PREAMBLE
                            + (plainSize / Envelope.MIN_CHUNK + 1) * (4L + Envelope.TAG),
                    "part " + name + ": sealed size does not fit its plain size");
            require(sha256 != null && SHA256.matcher(sha256).matches(), "part " + name + ": sha256 is not valid");
        }
    }

    /** A builder, so the lead fills what it knows, in any order. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link Manifest}; every field must be set ({@link Manifest} checks them). */
    public static final class Builder {
        private String installationId;
        private String backupId;
        private String kind;
        private Instant createdAt;
        private String postgresVersion;
        private String systemIdentifier;
        private int timeline;
        private String startWal;
        private String stopWal;
        private long newestVersion;
        private long versionCount;
        private long auditNextSeq;
        private final Map<String, Long> resourceCounts = new TreeMap<>();
        private final List<Part> parts = new ArrayList<>();

        private Builder() {
        }

        public Builder installationId(String v) {
            installationId = v;
            return this;
        }

        public Builder backupId(String v) {
            backupId = v;
            return this;
        }

        public Builder kind(String v) {
            kind = v;
            return this;
        }

        public Builder createdAt(Instant v) {
            createdAt = v;
            return this;
        }

        public Builder postgres(String version, String systemIdentifier) {
            this.postgresVersion = version;
            this.systemIdentifier = systemIdentifier;
            return this;
        }

        public Builder wal(int timeline, String start, String stop) {
            this.timeline = timeline;
            this.startWal = start;
            this.stopWal = stop;
            return this;
        }

        public Builder records(long newestVersion, long versionCount) {
            this.newestVersion = newestVersion;
            this.versionCount = versionCount;
            return this;
        }

        public Builder auditNextSeq(long v) {
            auditNextSeq = v;
            return this;
        }

        public Builder resourceCount(String type, long count) {
            resourceCounts.put(type, count);
            return this;
        }

        public Builder resourceCounts(Map<String, Long> counts) {
            resourceCounts.putAll(counts);
            return this;
        }

        public Builder part(Part p) {
            parts.add(p);
            return this;
        }

        public Manifest build() {
            return new Manifest(installationId, backupId, kind, createdAt, postgresVersion, systemIdentifier,
                    timeline, startWal, stopWal, newestVersion, versionCount, auditNextSeq, resourceCounts, parts);
        }
    }

    /** The part named {@code name}, or null. */
    public Part part(String name) {
        for (Part p : parts) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------------ JSON

    /** The canonical JSON of this manifest, naming {@code signerFingerprint} as its signer. */
    byte[] toJson(String signerFingerprint) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(512 + parts.size() * 160);
        try (JsonGenerator g = JSON.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeNumberField("format", FORMAT);
            g.writeStringField("installation", installationId);
            g.writeStringField("backup", backupId);
            g.writeStringField("kind", kind);
            g.writeStringField("createdAt", createdAt.toString());
            g.writeStringField("postgresVersion", postgresVersion);
            g.writeStringField("systemIdentifier", systemIdentifier);
            g.writeNumberField("timeline", timeline);
            g.writeStringField("startWal", startWal);
            g.writeStringField("stopWal", stopWal);
            g.writeNumberField("newestVersion", newestVersion);
            g.writeNumberField("versionCount", versionCount);
            g.writeNumberField("auditNextSeq", auditNextSeq);
            g.writeObjectFieldStart("resourceCounts");
            for (Map.Entry<String, Long> e : resourceCounts.entrySet()) {
                g.writeNumberField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
            g.writeArrayFieldStart("parts");
            for (Part p : parts) {
                g.writeStartObject();
                g.writeStringField("name", p.name());
                g.writeNumberField("plainSize", p.plainSize());
                g.writeNumberField("sealedSize", p.sealedSize());
                g.writeStringField("sha256", p.sha256());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("signer", signerFingerprint);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A manifest and the fingerprint it names as its signer, read from canonical JSON. */
    private record Parsed(Manifest manifest, String signer) {
    }

    private static Parsed parse(byte[] json) {
        try (JsonParser p = JSON.createParser(json)) {
            expect(p.nextToken() == JsonToken.START_OBJECT, "not a JSON object");
            long format = number(p, "format");
            if (format != FORMAT) {
                throw new BackupException("バックアップ目録の形式 " + format + " には対応していません / backup manifest"
                        + " format " + format + " is not supported (this server reads " + FORMAT + ")");
            }
            String installation = text(p, "installation");
            String backup = text(p, "backup");
            String kind = text(p, "kind");
            String created = text(p, "createdAt");
            String pgVersion = text(p, "postgresVersion");
            String systemId = text(p, "systemIdentifier");
            long timeline = number(p, "timeline");
            String start = text(p, "startWal");
            String stop = text(p, "stopWal");
            long newest = number(p, "newestVersion");
            long versions = number(p, "versionCount");
            long nextSeq = number(p, "auditNextSeq");
            field(p, "resourceCounts");
            expect(p.nextToken() == JsonToken.START_OBJECT, "resourceCounts is not an object");
            Map<String, Long> counts = new TreeMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String type = p.currentName();
                expect(counts.size() < MAX_TYPES, "too many resource types");
                expect(p.nextToken() == JsonToken.VALUE_NUMBER_INT, "a resource count is not an integer");
                counts.put(type, p.getLongValue());
            }
            field(p, "parts");
            expect(p.nextToken() == JsonToken.START_ARRAY, "parts is not an array");
            List<Part> parts = new ArrayList<>();
            Set<String> names = new HashSet<>();
            while (p.nextToken() == JsonToken.START_OBJECT) {
                expect(parts.size() < MAX_PARTS, "too many parts");
                String name = text(p, "name");
                long plain = number(p, "plainSize");
                long sealed = number(p, "sealedSize");
                String sha = text(p, "sha256");
                expect(p.nextToken() == JsonToken.END_OBJECT, "a part has more fields");
                if (!names.add(name)) {
                    throw new BackupException("バックアップ目録に部品 " + name + " が二度あります / the backup manifest"
                            + " lists part " + name + " twice");
                }
                parts.add(new Part(name, plain, sealed, sha));
            }
            expect(p.currentToken() == JsonToken.END_ARRAY, "parts holds something that is not a part");
            String signer = text(p, "signer");
            expect(FINGERPRINT.matcher(signer).matches(), "signer is not a fingerprint");
            expect(p.nextToken() == JsonToken.END_OBJECT, "more fields after signer");
            expect(p.nextToken() == null, "data after the document");
            expect(timeline <= Integer.MAX_VALUE, "timeline out of range");
            Instant createdAt;
            try {
                createdAt = Instant.parse(created);
            } catch (DateTimeParseException e) {
                throw invalid("createdAt is not an instant");
            }
            Manifest m = new Manifest(installation, backup, kind, createdAt, pgVersion, systemId, (int) timeline,
                    start, stop, newest, versions, nextSeq, counts, parts);
            expect(Arrays.equals(m.toJson(signer), json), "not in canonical form");
            return new Parsed(m, signer);
        } catch (StreamConstraintsException e) {
            throw invalid("a value is too long or too deep");
        } catch (IOException e) {
            throw invalid("not well-formed JSON");
        }
    }

    private static void field(JsonParser p, String name) throws IOException {
        expect(p.nextToken() == JsonToken.FIELD_NAME && name.equals(p.currentName()), "expected field " + name);
    }

    private static String text(JsonParser p, String name) throws IOException {
        field(p, name);
        expect(p.nextToken() == JsonToken.VALUE_STRING, name + " is not a string");
        return p.getText();
    }

    private static long number(JsonParser p, String name) throws IOException {
        field(p, name);
        expect(p.nextToken() == JsonToken.VALUE_NUMBER_INT, name + " is not an integer");
        expect(p.getNumberType() == JsonParser.NumberType.INT || p.getNumberType() == JsonParser.NumberType.LONG,
                name + " is out of range");
        return p.getLongValue();
    }

    private static void expect(boolean ok, String what) {
        if (!ok) {
            throw invalid(what);
        }
    }

    private static BackupException invalid(String what) {
        return new BackupException("バックアップ目録の形式が正しくありません / the backup manifest is malformed: " + what);
    }

    // ------------------------------------------------------------------------------------------------ signing

    /**
     * Signs this manifest with the installation's manifest key.
     *
     * @throws IllegalArgumentException when the manifest names another installation
     */
    public Signed sign(BackupKeys keys) {
        if (!installationId.equals(keys.installationId())) {
            throw new IllegalArgumentException("the manifest names installation " + installationId + ", the keys "
                    + keys.installationId());
        }
        byte[] json = toJson(keys.signerFingerprint());
        byte[] sig = keys.sign(RecoveryKey.concat(DOMAIN, json));
        String file = SIGNATURE_HEADER + "\n"
                + "public " + Base64.getEncoder().encodeToString(keys.signerPublicKey().getEncoded()) + "\n"
                + "signature " + Base64.getEncoder().encodeToString(sig) + "\n";
        return new Signed(json, file.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * A manifest's bytes and its detached signature file, as stored beside a backup; nothing in it is to be used
     * before {@link #verify(PublicKey)} or {@link #verifyWithFingerprint(String)} returns.
     */
    public static final class Signed {
        private final byte[] json;
        private final byte[] signature;

        private Signed(byte[] json, byte[] signature) {
            this.json = json;
            this.signature = signature;
        }

        /**
         * A signed manifest from its two files' bytes (not yet checked).
         *
         * @throws BackupException when either is larger than a manifest or signature file can be
         */
        public static Signed of(byte[] json, byte[] signature) {
            if (json.length > MAX_JSON || signature.length > MAX_SIGNATURE_FILE) {
                throw invalid("too large");
            }
            return new Signed(json.clone(), signature.clone());
        }

        /** Reads the two files, refusing sizes no manifest has before reading them whole. */
        public static Signed read(Path jsonFile, Path signatureFile) throws IOException {
            return new Signed(readBounded(jsonFile, MAX_JSON), readBounded(signatureFile, MAX_SIGNATURE_FILE));
        }

        /** Reads the two parts from streams (an object store), at most the bounds. */
        public static Signed read(InputStream json, InputStream signature) throws IOException {
            return new Signed(readBounded(json, MAX_JSON), readBounded(signature, MAX_SIGNATURE_FILE));
        }

        private static byte[] readBounded(Path f, int max) throws IOException {
            try (InputStream in = Files.newInputStream(f)) {
                return readBounded(in, max);
            }
        }

        private static byte[] readBounded(InputStream in, int max) throws IOException {
            byte[] b = in.readNBytes(max + 1);
            if (b.length > max) {
                throw invalid("larger than " + max + " bytes");
            }
            return b;
        }

        /** Writes both files (each under a temporary name, flushed, then renamed; the signature last). */
        public void write(Path jsonFile, Path signatureFile) throws IOException {
            writeAtomically(jsonFile, json);
            writeAtomically(signatureFile, signature);
        }

        private static void writeAtomically(Path target, byte[] bytes) throws IOException {
            Path dir = target.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, ".manifest-", ".tmp");
            try {
                try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                    var buf = java.nio.ByteBuffer.wrap(bytes);
                    while (buf.hasRemaining()) {
                        ch.write(buf);
                    }
                    ch.force(true);
                }
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                BackupKeys.fsync(dir);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }

        public byte[] json() {
            return json.clone();
        }

        public byte[] signature() {
            return signature.clone();
        }

        /** The public key the signature file names (not yet trusted: compare it with a key or a fingerprint). */
        public PublicKey claimedSigner() {
            return signatureFile().key();
        }

        /**
         * The manifest, after checking that {@code signer} signed it and that it is well formed.
         *
         * @throws BackupException when another key signed it, the signature does not match (altered), or the
         *                         document is not a valid manifest
         */
        public Manifest verify(PublicKey signer) {
            SignatureFile sf = signatureFile();
            if (!Arrays.equals(sf.key().getEncoded(), signer.getEncoded())) {
                throw new BackupException("バックアップ目録は別の鍵（" + BackupKeys.fingerprint(sf.key()) + "）で署名され"
                        + "ています（期待した鍵は " + BackupKeys.fingerprint(signer) + "） / the backup manifest was"
                        + " signed by another key (" + BackupKeys.fingerprint(sf.key()) + "), not by "
                        + BackupKeys.fingerprint(signer));
            }
            if (!BackupKeys.verify(signer, RecoveryKey.concat(DOMAIN, json), sf.signature())) {
                throw new BackupException("バックアップ目録の署名が一致しません（改ざんされています） / the backup"
                        + " manifest's signature does not match: it was altered");
            }
            Parsed parsed = parse(json);
            if (!parsed.signer().equals(BackupKeys.fingerprint(signer))) {
                throw invalid("it names another signer");
            }
            return parsed.manifest();
        }

        /**
         * The manifest, after checking that the key that signed it has the fingerprint typed from the recovery sheet
         * (a restore on a new machine), then as {@link #verify(PublicKey)}.
         */
        public Manifest verifyWithFingerprint(String sheetFingerprint) {
            PublicKey key = signatureFile().key();
            if (!BackupKeys.fingerprintMatches(sheetFingerprint, key)) {
                throw new BackupException("バックアップ目録の署名鍵（" + BackupKeys.fingerprint(key) + "）が復旧用紙の指紋と"
                        + "一致しません。この施設のバックアップではないか、指紋の入力に誤りがあります / the backup"
                        + " manifest's signing key (" + BackupKeys.fingerprint(key) + ") does not match the"
                        + " fingerprint on the recovery sheet: not this installation's backup, or a typo");
            }
            return verify(key);
        }

        private record SignatureFile(PublicKey key, byte[] signature) {
        }

        private SignatureFile signatureFile() {
            String text = new String(signature, StandardCharsets.US_ASCII);
            String[] lines = text.split("\n", -1);
            if (lines.length != 4 || !lines[0].equals(SIGNATURE_HEADER) || !lines[1].startsWith("public ")
                    || !lines[2].startsWith("signature ") || !lines[3].isEmpty()) {
                throw new BackupException("バックアップ目録の署名ファイルが正しくありません / the backup manifest's"
                        + " signature file is malformed");
            }
            try {
                byte[] pub = Base64.getDecoder().decode(lines[1].substring(7));
                byte[] sig = Base64.getDecoder().decode(lines[2].substring(10));
                if (sig.length != 64) {
                    throw new IllegalArgumentException("length");
                }
                PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(pub));
                return new SignatureFile(key, sig);
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new BackupException("バックアップ目録の署名ファイルが正しくありません / the backup manifest's"
                        + " signature file is malformed");
            }
        }
    }
}
