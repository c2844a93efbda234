package jp.mamori.compliance;

import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.chart.JpDates;
import jp.mamori.db.Tx;
import jp.mamori.identity.IdentityException;
import jp.mamori.identity.SecretSealer;
import jp.mamori.kernel.Hashes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.text.Normalizer;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

/**
 * Documents for what only people can do (issue 20, "Documents"): the appointment of the 安全管理責任者 and 企画管理者,
 * the 運用管理規程, contracts and SLAs, the vendors' サービス仕様適合開示書 / MDS / SDS, the BCP, training records and
 * confidentiality agreements. Each is evidence a probe cannot compute; what the system can do is keep it safe, say what
 * it supports and notice when it lapses.
 *
 * <ul>
 *   <li><b>Type by content</b>: a file is a PDF ({@code %PDF-}), a PNG or a JPEG by its first bytes, whatever its name
 *       or the browser's claim; anything else (HTML, SVG, archives, programs) is refused. Files are never rendered or
 *       executed by the server; the pages serve them only as downloads.</li>
 *   <li><b>Encrypted at rest</b> with AES-256-GCM ({@link SecretSealer}) under {@code <data>/secrets/compliance-document-keys},
 *       an owner-only key file created when the server starts the first time and copied by {@code mamori node add}; the file's SHA-256 is the
 *       associated data, so a ciphertext put under another document's SHA-256 does not open.</li>
 *   <li><b>In the database, content-addressed</b> (V28, {@code compliance_document_blob}): the ciphertext is kept
 *       under the SHA-256 of the plaintext, written in the same transaction as the version row that names it (a
 *       foreign key refuses a version without its bytes), so that every process on the database serves it (ADR 0013),
 *       a failover keeps it and the database's backup carries it (BACKUP-7); the same bytes uploaded twice
 *       are stored once. On every read the plaintext is hashed again and a ciphertext that does not open or does not
 *       match (damaged, swapped, changed by the database's superuser) is refused, never served. The key is not in the
 *       database: a copy of the database alone does not reveal a document.</li>
 *   <li><b>Append-only metadata</b> (V26): a replacement or a change of review or expiry is a new version, a withdrawal
 *       a version with a reason; nothing is updated or deleted. Every upload, change, withdrawal and download is an
 *       audit entry (GOV-5: results documented so that third parties can verify them).</li>
 * </ul>
 *
 * <p>Each kind carries the requirement IDs its documents support by default (GOV-28 for the appointment, GOV-30 and
 * INC-6 for the BCP, …); {@link #probes()} gives one probe per kind: PASS when a reviewed, unexpired document is in
 * force, PARTIAL when one has expired, expires within {@link #EXPIRING_DAYS} days or was not reviewed, UNKNOWN when
 * none was uploaded (the system cannot know about paper in a cabinet: a missing upload is not a failed control).
 */
public final class Documents {
    private static final Logger log = LoggerFactory.getLogger(Documents.class);
    /** The largest document: below the console's request limit, so a too-large file is refused on the form. */
    public static final int MAX_BYTES = 10 * 1024 * 1024;
    public static final int MAX_TITLE = 200;
    public static final int MAX_REASON = 1000;
    public static final int MAX_REQUIREMENTS = 20;
    /** A document expiring within this many days turns its item amber ahead of time. */
    public static final int EXPIRING_DAYS = 30;
    static final String KEY_FILE = "compliance-document-keys";
    private static final Pattern REQUIREMENT = Pattern.compile("[A-Z]{2,12}-[0-9]{1,3}");
    private static final Pattern SHA = Pattern.compile("[0-9a-f]{64}");

    /** The kinds of documents, with their Japanese label and the requirement IDs they support by default. */
    public enum Kind {
        /** GOV-28: the 医療情報システム安全管理責任者 and the 企画管理者; GOV-4: a system operation manager appointed. */
        APPOINTMENT("appointment", "安全管理責任者・企画管理者の任命書",
                "Appointment of the security manager and planning manager", "GOV-28", "GOV-4"),
        /**
         * GOV-35 and GOV-3: the institution's rules; INC-9, DISPOSAL-4 and PHYS-7 (taking equipment and media off-site,
         * entry control): what the 運用管理規程 must define.
         */
        RULES("rules", "運用管理規程", "Operation management rules", "GOV-35", "GOV-3", "INC-9", "DISPOSAL-4",
                "PHYS-7"),
        /** GOV-37 the SLA; GOV-8, GOV-38, GOV-39: what the contract states. */
        CONTRACT("contract", "契約書・SLA", "Contract and SLA", "GOV-37", "GOV-8", "GOV-38", "GOV-39"),
        /** GOV-36 the disclosure kept current; GOV-9 the MDS/SDS collected from vendors. */
        DISCLOSURE("disclosure", "サービス仕様適合開示書（MDS/SDS）", "Service specification disclosure (MDS/SDS)",
                "GOV-36", "GOV-9"),
        /** GOV-30 and INC-6: the contact chart and the cyber-attack BCP; DEGRADED-7, DEGRADED-8: continuity. */
        BCP("bcp", "BCP・インシデント対応計画", "BCP and incident response plan", "GOV-30", "INC-6", "DEGRADED-7",
                "DEGRADED-8"),
        /** HR-6 training at hiring and periodically, HR-2 periodic education. */
        TRAINING("training", "研修記録", "Training records", "HR-6", "HR-2"),
        /**
         * HR-7 employment contracts with confidentiality and a duty to train; HR-1 non-disclosure at hiring; HR-3
         * protection after leaving; HR-8 the same duties imposed on the vendor's staff.
         */
        CONFIDENTIALITY("confidentiality", "守秘義務・雇用契約", "Confidentiality and employment agreements", "HR-7",
                "HR-1", "HR-3", "HR-8"),
        /** Anything else; the requirements it supports are given at upload. */
        OTHER("other", "その他", "Other");

        public final String code;
        public final String ja;
        public final String en;
        public final List<String> requirements;

        Kind(String code, String ja, String en, String... requirements) {
            this.code = code;
            this.ja = ja;
            this.en = en;
            this.requirements = List.of(requirements);
        }

        public static Optional<Kind> of(String code) {
            return Arrays.stream(values()).filter(k -> k.code.equals(code)).findFirst();
        }
    }

    /** Whether a version is the document in force or withdrawn. */
    public enum Status { CURRENT, WITHDRAWN }

    /** How a document in force stands today. */
    public enum Standing {
        /** Reviewed, and not expiring within {@link #EXPIRING_DAYS} days. */
        VALID,
        /** Reviewed, expiring within {@link #EXPIRING_DAYS} days. */
        EXPIRING,
        /** Past its expiry date. */
        EXPIRED,
        /** Not reviewed by anyone yet. */
        UNREVIEWED,
        /** Withdrawn. */
        WITHDRAWN
    }

    /** One version of a document as recorded. */
    public record Version(long rowId, UUID documentId, int version, Status status, Kind kind, String title,
                          List<String> requirements, String framework, String frameworkVersion, String item,
                          String sha256, long size, String mediaType, String fileName, String reviewer,
                          LocalDate reviewedOn, LocalDate expiresOn, String reason, String uploadedBy,
                          String uploadedByName, Instant at) {
        public boolean withdrawn() {
            return status == Status.WITHDRAWN;
        }
    }

    /**
     * What a person typed in the upload or change form, as text; checked by {@link #upload} and {@link #change}.
     * The framework, its version and the item are given together (already checked against the checklists in force
     * by the page) or not at all.
     */
    public record Details(String kind, String title, String requirements, String reviewer, String reviewedOn,
                          String expiresOn, String framework, String frameworkVersion, String item) {
    }

    /** A document's file, checked against its SHA-256. */
    public record Content(Version version, byte[] bytes) {
    }

    private final DataSource db;
    private final AuditRecorder audit;
    private final Clock clock;
    private final ZoneId zone;
    private final JpDates dates;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final SecretSealer sealer;

    public Documents(DataSource db, AuditRecorder audit, Path dataDir, Clock clock, ZoneId zone) {
        this.db = db;
        this.audit = audit;
        this.clock = clock;
        this.zone = zone;
        this.dates = new JpDates(zone);
        // The key is made at start, as the other installation keys, so that `mamori node add` copies it even
        // before the first upload.
        this.sealer = SecretSealer.open(dataDir.toAbsolutePath().resolve("secrets").resolve(KEY_FILE));
    }

    /** Runs {@code r} after each upload, change or withdrawal (e.g. re-evaluating the probes); its failures are logged. */
    public Documents onChange(Runnable r) {
        listeners.add(r);
        return this;
    }

    private SecretSealer sealer() {
        return sealer;
    }

    /**
     * The media type of {@code bytes} by their first bytes: PDF, PNG or JPEG; empty for anything else, whatever the
     * file's name or the browser's claim.
     */
    public static Optional<String> detect(byte[] bytes) {
        if (starts(bytes, "%PDF-".getBytes(StandardCharsets.US_ASCII))) {
            return Optional.of("application/pdf");
        }
        if (starts(bytes, new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'})) {
            return Optional.of("image/png");
        }
        if (starts(bytes, new byte[]{(byte) 0xff, (byte) 0xd8, (byte) 0xff})) {
            return Optional.of("image/jpeg");
        }
        return Optional.empty();
    }

    private static boolean starts(byte[] b, byte[] prefix) {
        return b != null && b.length >= prefix.length && Arrays.equals(b, 0, prefix.length, prefix, 0, prefix.length);
    }

    /** The usual file name extension of a detected type. */
    public static String extension(String mediaType) {
        return switch (mediaType) {
            case "application/pdf" -> ".pdf";
            case "image/png" -> ".png";
            default -> ".jpg";
        };
    }

    /**
     * A file name fit to keep and to offer in a download: without folders, control or bidirectional-override
     * characters, at most 120 characters, ending in the extension of the detected type (so that {@code a.html}
     * holding a PDF is saved as {@code a.html.pdf}).
     */
    public static String sanitiseFileName(String name, String mediaType) {
        String n = name == null ? "" : Normalizer.normalize(name, Normalizer.Form.NFC);
        n = n.substring(Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\')) + 1);
        n = n.replaceAll("[\\p{Cntrl}\\p{Cf}\"<>|*?:]", "").strip();
        while (n.startsWith(".")) {
            n = n.substring(1);
        }
        String ext = extension(mediaType);
        String lower = n.toLowerCase(Locale.ROOT);
        boolean fits = lower.endsWith(ext) || ext.equals(".jpg") && lower.endsWith(".jpeg");
        if (n.length() > 120) {
            n = n.substring(0, 120);
            fits = false;
        }
        if (n.isEmpty()) {
            return "document" + ext;
        }
        return fits ? n : n + ext;
    }

    /**
     * Stores a new document: its file (type by content, encrypted, content-addressed) and its first version.
     *
     * @throws ComplianceException with one line for the person when something is missing or wrong; nothing is
     *                             recorded then
     */
    public Version upload(Actor by, String fileName, byte[] bytes, Details d) {
        Checked c = check(d);
        if (bytes == null || bytes.length == 0) {
            throw new ComplianceException("ファイルを選んでください / choose a file");
        }
        Sealed file = seal(bytes);
        Version v = insert(by, UUID.randomUUID(), 1, Status.CURRENT, c, file, file.sha, bytes.length, file.mediaType,
                sanitiseFileName(fileName, file.mediaType), null, AuditAction.COMPLIANCE_DOCUMENT_UPLOAD, null);
        changed();
        return v;
    }

    /**
     * A new version of document {@code id}: a replacing file when {@code bytes} is given, else the same file with
     * the details changed (e.g. reviewed again, a new expiry). A withdrawn document can be brought back this way.
     */
    public Version change(Actor by, UUID id, String fileName, byte[] bytes, Details d) {
        Version before = newest(id).orElseThrow(() -> new ComplianceException("文書がありません / no such document"));
        Checked c = check(d);
        String sha = before.sha256();
        long size = before.size();
        String type = before.mediaType();
        String name = before.fileName();
        Sealed file = null;
        if (bytes != null && bytes.length > 0) {
            file = seal(bytes);
            sha = file.sha;
            size = bytes.length;
            type = file.mediaType;
            name = sanitiseFileName(fileName, type);
        }
        Version v = insert(by, id, before.version() + 1, Status.CURRENT, c, file, sha, size, type, name, null,
                AuditAction.COMPLIANCE_DOCUMENT_CHANGE, before);
        changed();
        return v;
    }

    /** Withdraws document {@code id}: a new version with status withdrawn and the reason; the bytes stay. */
    public Version withdraw(Actor by, UUID id, String reason) {
        Version before = newest(id).orElseThrow(() -> new ComplianceException("文書がありません / no such document"));
        if (before.withdrawn()) {
            throw new ComplianceException("この文書は取り下げ済みです / this document is already withdrawn");
        }
        String r = clean(reason);
        if (r == null) {
            throw new ComplianceException("取り下げの理由を入力してください / give the reason for the withdrawal");
        }
        if (r.length() > MAX_REASON) {
            throw new ComplianceException("理由は " + MAX_REASON + " 文字までです / the reason is at most " + MAX_REASON
                    + " characters");
        }
        Checked c = new Checked(before.kind(), before.title(), before.requirements(), before.reviewer(),
                before.reviewedOn(), before.expiresOn(), before.framework(), before.frameworkVersion(), before.item());
        Version v = insert(by, id, before.version() + 1, Status.WITHDRAWN, c, null, before.sha256(), before.size(),
                before.mediaType(), before.fileName(), r, AuditAction.COMPLIANCE_DOCUMENT_WITHDRAW, before);
        changed();
        return v;
    }

    private void changed() {
        for (Runnable r : listeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.warn("compliance documents: change listener failed: {}", e.toString());
            }
        }
    }

    private record Checked(Kind kind, String title, List<String> requirements, String reviewer, LocalDate reviewedOn,
                           LocalDate expiresOn, String framework, String frameworkVersion, String item) {
    }

    private Checked check(Details d) {
        Kind kind = Kind.of(d.kind() == null ? "" : d.kind()).orElseThrow(() -> new ComplianceException(
                "文書の種類を選んでください / choose the kind of document"));
        String title = clean(d.title());
        if (title == null) {
            throw new ComplianceException("表題を入力してください / enter a title");
        }
        if (title.length() > MAX_TITLE) {
            throw new ComplianceException("表題は " + MAX_TITLE + " 文字までです / the title is at most " + MAX_TITLE
                    + " characters");
        }
        Set<String> reqs = new LinkedHashSet<>(kind.requirements);
        String typed = d.requirements() == null ? "" : d.requirements();
        if (typed.length() > 1000) {
            throw new ComplianceException("要件IDが多すぎます / too many requirement IDs");
        }
        for (String r : typed.toUpperCase(Locale.ROOT).replace('，', ',').replace('、', ',').split("[,\\s]+")) {
            if (r.isBlank()) {
                continue;
            }
            if (!REQUIREMENT.matcher(r).matches()) {
                throw new ComplianceException("要件IDは GOV-28 のように書いてください（" + shorten(r) + "） / give"
                        + " requirement IDs like GOV-28");
            }
            reqs.add(r);
        }
        if (reqs.size() > MAX_REQUIREMENTS) {
            throw new ComplianceException("要件IDは " + MAX_REQUIREMENTS + " 個までです / at most " + MAX_REQUIREMENTS
                    + " requirement IDs");
        }
        String reviewer = clean(d.reviewer());
        if (reviewer != null && reviewer.length() > 200) {
            throw new ComplianceException("確認者は 200 文字までです / the reviewer is at most 200 characters");
        }
        LocalDate reviewed = Answers.date(d.reviewedOn(), "確認日", "the review date");
        LocalDate today = LocalDate.now(clock.withZone(zone));
        if ((reviewer == null) != (reviewed == null)) {
            throw new ComplianceException("確認者と確認日は両方とも入力してください / give both the reviewer and the review"
                    + " date, or neither");
        }
        if (reviewed != null && (reviewed.isAfter(today) || reviewed.isBefore(LocalDate.of(2000, 1, 1)))) {
            throw new ComplianceException("確認日は今日までの日付です / the review date cannot be in the future");
        }
        LocalDate expires = Answers.date(d.expiresOn(), "有効期限", "the expiry date");
        if (expires != null && (expires.isBefore(LocalDate.of(2000, 1, 1)) || expires.isAfter(LocalDate.of(2199, 12, 31)))) {
            throw new ComplianceException("有効期限の日付が正しくありません / the expiry date is out of range");
        }
        if (expires != null && reviewed != null && expires.isBefore(reviewed)) {
            throw new ComplianceException("有効期限は確認日より後の日付です / the expiry date must not be before the review"
                    + " date");
        }
        String fw = clean(d.framework());
        String fwv = clean(d.frameworkVersion());
        String item = clean(d.item());
        if (fw == null || fwv == null || item == null) {
            fw = null;
            fwv = null;
            item = null;
        } else if (fw.length() > 64 || fwv.length() > 16 || item.length() > 64) {
            throw new ComplianceException("項目がありません / no such item");
        }
        return new Checked(kind, title, List.copyOf(reqs), reviewer, reviewed, expires, fw, fwv, item);
    }

    private static String shorten(String s) {
        return s.length() > 20 ? s.substring(0, 20) + "…" : s;
    }

    private static String clean(String s) {
        if (s == null) {
            return null;
        }
        String n = s.replaceAll("[\\p{Cntrl}&&[^\\n\\t]]", "").replace("\r", "").strip();
        return n.isEmpty() ? null : n;
    }

    /** A checked upload, sealed for the database: not yet stored. */
    private record Sealed(String sha, String mediaType, byte[] ciphertext, int size) {
    }

    /**
     * Checks the bytes' type and size and seals them under the installation's key, bound to their SHA-256. Nothing
     * is written: {@link #insert} stores the ciphertext with the version row, in one transaction.
     */
    private Sealed seal(byte[] bytes) {
        if (bytes.length > MAX_BYTES) {
            throw new ComplianceException("ファイルが大きすぎます（" + MAX_BYTES / 1024 / 1024 + " MB まで） / the file is"
                    + " too large (at most " + MAX_BYTES / 1024 / 1024 + " MB)");
        }
        String type = detect(bytes).orElseThrow(() -> new ComplianceException("PDF・PNG・JPEG のファイルだけを登録"
                + "できます（ファイルの中身で判断します） / only PDF, PNG and JPEG files are accepted (judged by their"
                + " content)"));
        String sha = Hashes.hex(Hashes.sha256(bytes));
        try {
            return new Sealed(sha, type, sealer().seal(bytes, aad(sha)), bytes.length);
        } catch (IdentityException e) {
            throw new ComplianceException(e.getMessage());
        }
    }

    /**
     * Stores {@code file}'s ciphertext in {@code conn}'s transaction unless its bytes are kept already; kept bytes
     * must still open and match, or the upload is refused (the table only grows: a damaged copy can only be mended by
     * restoring the database, and a new version must not point at bytes that cannot be served).
     */
    private void storeBytes(Connection conn, Sealed file, Instant now) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("INSERT INTO compliance_document_blob (sha256, ciphertext,"
                + " size_bytes, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING")) {
            ps.setString(1, file.sha());
            ps.setBytes(2, file.ciphertext());
            ps.setLong(3, file.size());
            ps.setTimestamp(4, Timestamp.from(now));
            if (ps.executeUpdate() == 1) {
                return;
            }
        }
        byte[] kept = ciphertext(conn, file.sha()).orElseThrow(() -> new IllegalStateException(
                "compliance document bytes neither inserted nor found"));
        try {
            open(file.sha(), kept);
        } catch (ComplianceException e) {
            log.error("compliance documents: the kept bytes {} do not check; the upload of the same bytes is refused",
                    file.sha());
            throw new ComplianceException("同じ内容の文書がデータベースに保管されていますが、その暗号文が壊れているか差し替えられています。"
                    + "データベースをバックアップから戻してください / The same file is kept in the database but its"
                    + " ciphertext is damaged or was swapped: restore the database from a backup");
        }
    }

    private static Optional<byte[]> ciphertext(Connection conn, String sha) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT ciphertext FROM compliance_document_blob WHERE sha256 = ?")) {
            ps.setString(1, sha);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        }
    }

    private static byte[] aad(String sha) {
        return ("mamori-compliance-document:" + sha).getBytes(StandardCharsets.US_ASCII);
    }

    /** The plaintext of a kept ciphertext, checked: it opens under the key bound to its SHA-256 and hashes to it. */
    private byte[] open(String sha, byte[] sealed) {
        byte[] plain;
        try {
            plain = sealer().open(sealed, aad(sha));
        } catch (IdentityException e) {
            throw damaged();
        }
        if (!Hashes.hex(Hashes.sha256(plain)).equals(sha)) {
            throw damaged();
        }
        return plain;
    }

    private static ComplianceException damaged() {
        return new ComplianceException("文書のファイルが壊れているか差し替えられています。提供できません（データベースを"
                + "バックアップから戻してください） / The document's file is damaged or was swapped and is not served:"
                + " restore the database from a backup");
    }

    /**
     * The file of version {@code version} of document {@code id}, decrypted and checked against its SHA-256; the
     * download is an audit entry.
     *
     * @throws ComplianceException when there is no such version, its bytes are missing, or they do not check
     */
    public Content download(Actor by, UUID id, int version) {
        Version v = versions(id).stream().filter(x -> x.version() == version).findFirst().orElseThrow(
                () -> new ComplianceException("文書がありません / no such document"));
        if (!SHA.matcher(v.sha256()).matches()) {
            throw damaged();
        }
        Optional<byte[]> kept;
        try (Connection c = db.getConnection()) {
            kept = ciphertext(c, v.sha256());
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot read a compliance document", e);
        }
        if (kept.isEmpty()) {
            log.error("compliance documents: the bytes {} of document {} v{} are missing", v.sha256(), id, version);
            throw new ComplianceException("文書のファイルがデータベースにありません（データベースをバックアップから戻して"
                    + "ください） / The document's file is not in the database: restore the database from a backup");
        }
        byte[] sealed = kept.get();
        byte[] plain;
        try {
            plain = open(v.sha256(), sealed);
        } catch (ComplianceException e) {
            log.error("compliance documents: the bytes {} of document {} v{} do not check; not served", v.sha256(),
                    id, version);
            throw e;
        }
        audit.append(AuditEvent.by(by, AuditAction.COMPLIANCE_DOCUMENT_DOWNLOAD)
                .detail("document", id.toString()).detail("version", String.valueOf(version))
                .detail("title", v.title()).detail("sha256", v.sha256()).build());
        return new Content(v, plain);
    }

    private static final String COLUMNS = "row_id, document_id, version, status, kind, title, requirements, framework,"
            + " framework_version, item, sha256, size_bytes, media_type, file_name, reviewer, reviewed_on, expires_on,"
            + " reason, uploaded_by, uploaded_by_name, recorded_at";

    private Version insert(Actor by, UUID id, int version, Status status, Checked c, Sealed file, String sha, long size,
                           String type, String fileName, String reason, AuditAction action, Version before) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        String byName = by.name(200);
        String byId = by.principal().length() > 200 ? by.principal().substring(0, 200) : by.principal();
        try {
            long rowId = Tx.inTransaction(db, conn -> {
                long row;
                if (file != null) {
                    storeBytes(conn, file, now); // first: the version row's foreign key needs its bytes
                }
                try (PreparedStatement ps = conn.prepareStatement("INSERT INTO compliance_document (document_id,"
                        + " version, status, kind, title, requirements, framework, framework_version, item, sha256,"
                        + " size_bytes, media_type, file_name, reviewer, reviewed_on, expires_on, reason, uploaded_by,"
                        + " uploaded_by_name, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                        + " ?, ?) RETURNING row_id")) {
                    ps.setObject(1, id);
                    ps.setInt(2, version);
                    ps.setString(3, status.name().toLowerCase(Locale.ROOT));
                    ps.setString(4, c.kind().code);
                    ps.setString(5, c.title());
                    ps.setArray(6, conn.createArrayOf("text", c.requirements().toArray()));
                    ps.setString(7, c.framework());
                    ps.setString(8, c.frameworkVersion());
                    ps.setString(9, c.item());
                    ps.setString(10, sha);
                    ps.setLong(11, size);
                    ps.setString(12, type);
                    ps.setString(13, fileName);
                    ps.setString(14, c.reviewer());
                    ps.setDate(15, c.reviewedOn() == null ? null : Date.valueOf(c.reviewedOn()));
                    ps.setDate(16, c.expiresOn() == null ? null : Date.valueOf(c.expiresOn()));
                    ps.setString(17, reason);
                    ps.setString(18, byId);
                    ps.setString(19, byName);
                    ps.setTimestamp(20, Timestamp.from(now));
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        row = rs.getLong(1);
                    }
                }
                AuditEvent.Builder e = AuditEvent.by(by, action).detail("document", id.toString())
                        .detail("version", String.valueOf(version)).detail("kind", c.kind().code)
                        .detail("title", c.title()).detail("sha256", sha).detail("size", String.valueOf(size))
                        .detail("type", type).detail("requirements", String.join(",", c.requirements()));
                if (c.reviewedOn() != null) {
                    e.detail("reviewed", c.reviewedOn().toString()).detail("reviewer", c.reviewer());
                }
                if (c.expiresOn() != null) {
                    e.detail("expires", c.expiresOn().toString());
                }
                if (c.item() != null) {
                    e.detail("item", c.framework() + "/" + c.frameworkVersion() + "/" + c.item());
                }
                if (reason != null) {
                    e.detail("reason", reason);
                }
                if (before != null) {
                    e.detail("before", "v" + before.version() + " " + before.sha256()
                            + (before.expiresOn() == null ? "" : " expires " + before.expiresOn()));
                }
                audit.stage(conn, e.build());
                return row;
            });
            audit.drainSoon();
            return new Version(rowId, id, version, status, c.kind(), c.title(), c.requirements(), c.framework(),
                    c.frameworkVersion(), c.item(), sha, size, type, fileName, c.reviewer(), c.reviewedOn(),
                    c.expiresOn(), reason, byId, byName, now);
        } catch (RuntimeException e) {
            if (uniqueViolation(e)) {
                throw new ComplianceException("同時に別の変更がありました。開き直してください / the document was changed at"
                        + " the same time: open it again");
            }
            throw e;
        }
    }

    private static boolean uniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s && "23505".equals(s.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    /** Every version of document {@code id}, newest first; empty when there is none. */
    public List<Version> versions(UUID id) {
        return query("SELECT " + COLUMNS + " FROM compliance_document WHERE document_id = ? ORDER BY version DESC",
                ps -> ps.setObject(1, id));
    }

    /** The newest version of document {@code id}. */
    public Optional<Version> newest(UUID id) {
        return versions(id).stream().findFirst();
    }

    /** The newest version of every document (withdrawn ones too), by kind and title. */
    public List<Version> all() {
        return query("SELECT DISTINCT ON (document_id) " + COLUMNS + " FROM compliance_document"
                + " ORDER BY document_id, version DESC", ps -> {
        }).stream().sorted((a, b) -> a.kind() != b.kind() ? a.kind().compareTo(b.kind())
                : a.title().compareTo(b.title())).toList();
    }

    /** The documents in force (not withdrawn). */
    public List<Version> current() {
        return all().stream().filter(v -> !v.withdrawn()).toList();
    }

    /**
     * The documents in force that answer checklist item {@code item} of framework {@code framework} (any version of
     * it) or support one of {@code requirements}.
     */
    public List<Version> forItem(String framework, String item, Collection<String> requirements) {
        return current().stream().filter(v -> framework.equals(v.framework()) && item.equals(v.item())
                || v.requirements().stream().anyMatch(requirements::contains)).toList();
    }

    /** How document version {@code v} stands on {@code today}. */
    public static Standing standing(Version v, LocalDate today) {
        if (v.withdrawn()) {
            return Standing.WITHDRAWN;
        }
        if (v.expiresOn() != null && v.expiresOn().isBefore(today)) {
            return Standing.EXPIRED;
        }
        if (v.reviewedOn() == null) {
            return Standing.UNREVIEWED;
        }
        if (v.expiresOn() != null && !v.expiresOn().isAfter(today.plusDays(EXPIRING_DAYS))) {
            return Standing.EXPIRING;
        }
        return Standing.VALID;
    }

    /** Today in the institution's zone. */
    public LocalDate today() {
        return LocalDate.now(clock.withZone(zone));
    }

    /** The console page the probes link to. */
    public static final String PAGE = "/console/compliance/documents";

    /**
     * One probe per kind with requirement IDs (issue 20): PASS when every document of the kind in force is reviewed
     * and unexpired; PARTIAL when one has expired, expires within {@link #EXPIRING_DAYS} days, or was not reviewed
     * (the summary says which); UNKNOWN when none is in force. UNKNOWN rather than FAIL: the documents may well exist
     * on paper, and a missing upload says only that the system cannot show them (it shows amber, raises no alert).
     */
    public List<Probe> probes() {
        List<Probe> out = new ArrayList<>();
        for (Kind k : Kind.values()) {
            if (k.requirements.isEmpty()) {
                continue;
            }
            out.add(new Probe() {
                @Override
                public String id() {
                    return "documents." + k.code;
                }

                @Override
                public Set<String> requirements() {
                    return new LinkedHashSet<>(k.requirements);
                }

                @Override
                public Evidence evaluate(Instant now) {
                    return evidence(k, now);
                }
            });
        }
        return out;
    }

    Evidence evidence(Kind k, Instant now) {
        String id = "documents." + k.code;
        List<Version> docs;
        try {
            docs = current().stream().filter(v -> v.kind() == k).toList();
        } catch (RuntimeException e) {
            return new Evidence(id, Evidence.Status.UNKNOWN, "文書を確認できません / the documents cannot be read",
                    PAGE, now);
        }
        if (docs.isEmpty()) {
            return new Evidence(id, Evidence.Status.UNKNOWN, k.ja + "が登録されていません / none uploaded: " + k.en,
                    PAGE, now);
        }
        LocalDate today = LocalDate.ofInstant(now, zone);
        List<String> ja = new ArrayList<>();
        List<String> en = new ArrayList<>();
        Evidence.Status status = Evidence.Status.PASS;
        for (Version v : docs) {
            switch (standing(v, today)) {
                case EXPIRED -> {
                    status = Evidence.Status.PARTIAL;
                    ja.add("「" + v.title() + "」は" + dates.date(v.expiresOn(), JpDates.Lang.JA) + "に期限切れ");
                    en.add("\"" + v.title() + "\" expired on " + v.expiresOn());
                }
                case EXPIRING -> {
                    status = Evidence.Status.PARTIAL;
                    ja.add("「" + v.title() + "」は" + dates.date(v.expiresOn(), JpDates.Lang.JA) + "に期限切れになります");
                    en.add("\"" + v.title() + "\" expires on " + v.expiresOn());
                }
                case UNREVIEWED -> {
                    status = Evidence.Status.PARTIAL;
                    ja.add("「" + v.title() + "」は未確認");
                    en.add("\"" + v.title() + "\" not reviewed");
                }
                default -> {
                }
            }
        }
        if (status == Evidence.Status.PASS) {
            Version newest = docs.stream().max((a, b) -> a.reviewedOn().compareTo(b.reviewedOn())).orElseThrow();
            return new Evidence(id, status, k.ja + " " + docs.size() + " 件、確認済み・有効（最新の確認 "
                    + dates.date(newest.reviewedOn(), JpDates.Lang.JA) + "） / " + docs.size() + " reviewed and in force"
                    + " (last reviewed " + newest.reviewedOn() + ")", PAGE, now);
        }
        return new Evidence(id, status, k.ja + ": " + String.join("、", ja) + " / " + String.join("; ", en), PAGE, now);
    }

    private interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    private List<Version> query(String sql, Binder binder) {
        try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            List<Version> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(rs));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot read the compliance documents", e);
        }
    }

    private static Version row(ResultSet rs) throws SQLException {
        Array reqs = rs.getArray("requirements");
        List<String> r = reqs == null ? List.of() : List.of((String[]) reqs.getArray());
        Date reviewed = rs.getDate("reviewed_on");
        Date expires = rs.getDate("expires_on");
        return new Version(rs.getLong("row_id"), rs.getObject("document_id", UUID.class), rs.getInt("version"),
                "withdrawn".equals(rs.getString("status")) ? Status.WITHDRAWN : Status.CURRENT,
                Kind.of(rs.getString("kind")).orElse(Kind.OTHER), rs.getString("title"), r, rs.getString("framework"),
                rs.getString("framework_version"), rs.getString("item"), rs.getString("sha256"),
                rs.getLong("size_bytes"), rs.getString("media_type"), rs.getString("file_name"),
                rs.getString("reviewer"), reviewed == null ? null : reviewed.toLocalDate(),
                expires == null ? null : expires.toLocalDate(), rs.getString("reason"), rs.getString("uploaded_by"),
                rs.getString("uploaded_by_name"), rs.getTimestamp("recorded_at").toInstant());
    }
}
