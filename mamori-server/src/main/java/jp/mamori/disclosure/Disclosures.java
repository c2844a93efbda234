package jp.mamori.disclosure;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.AuditReports;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.db.Tx;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.RecordService;
import jp.mamori.signatures.PdfSeal;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The patient's own copy (開示請求; issue 23; PHR-1, PHR-3): a records manager records a request (who asked, a legal
 * representative with the relationship, when it was received, what was asked), decides what the institution discloses
 * (kinds of record, a period, the kinds withheld with a reason), and produces a package: a Japanese PDF of the chart
 * contents chosen, the same resources as a FHIR Bundle (type collection), optionally a PDF of who accessed the record
 * over a period (from the audit trail), and a manifest of SHA-256 hashes, as one ZIP. The PDFs carry the institution's
 * seal when one is configured. Every request, package and hand-over is a row of the append-only ledger (V41) and an
 * entry in the trail naming the patient; the package's bytes are held in memory for its producer to download for
 * {@link #HOLD} and never written to disk (the ledger's hashes identify the copy that was given).
 * <p>
 * The records are read by the institution, not by the person who produces the package: as the system caller
 * {@code system:disclosure}, through {@link RecordService}, bounded per kind ({@link #MAX_PER_KIND}). Who may do this is
 * the console's rule (the account administrators, with a fresh second factor).
 */
public final class Disclosures {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Disclosures.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long a produced package can be downloaded by its producer. */
    public static final Duration HOLD = Duration.ofMinutes(30);
    /** Packages held at once (the oldest is dropped beyond this). */
    static final int MAX_HELD = 16;
    /** Resources of one kind in one package; more is refused with a request to narrow the period. */
    public static final int MAX_PER_KIND = 2_000;
    /** Entries of the access report. */
    public static final int MAX_ACCESS_ROWS = 5_000;
    /** The longest period of an access report. */
    public static final Duration MAX_ACCESS_PERIOD = Duration.ofDays(366 * 10);
    static final Caller READER = Caller.system("disclosure");

    private final DataSource ds;
    private final RecordService records;
    private final AuditRecorder recorder;
    private final AuditReports reports;
    private final PdfSeal seal;
    private final Clock clock;
    private final ZoneId zone;
    private final String institution;
    private final Supplier<String> fhirBase;
    private final Map<UUID, Held> held = new ConcurrentHashMap<>();

    /**
     * @param seal        the institution's seal, or null: the PDFs are unsealed, and the page says so
     * @param institution the name on every page of the PDFs
     * @param fhirBase    the FHIR base URL, for the Bundle's fullUrl of each resource
     */
    public Disclosures(DataSource ds, RecordService records, AuditRecorder recorder, AuditReports reports,
                       PdfSeal seal, Clock clock, ZoneId zone, String institution, Supplier<String> fhirBase) {
        this.ds = ds;
        this.records = records;
        this.recorder = recorder;
        this.reports = reports;
        this.seal = seal;
        this.clock = clock;
        this.zone = zone;
        this.institution = institution;
        this.fhirBase = fhirBase;
    }

    /** Bad input or a refused step: a message in Japanese with English, shown to the records manager as it is. */
    public static final class Refusal extends RuntimeException {
        public Refusal(String message) {
            super(message);
        }
    }

    /** Whether the PDFs will be sealed. */
    public boolean sealed() {
        return seal != null;
    }

    public ZoneId zone() {
        return zone;
    }

    // ---------------------------------------------------------------- the request

    /** Who asked for what, as the records manager typed it. */
    public record RequestForm(String patientId, String requesterKind, String requesterName, String relationship,
                              String receivedOn, String asked, String note) {
    }

    /** A recorded request. */
    public record Request(UUID id, String patientId, String requesterKind, String requesterName, String relationship,
                          LocalDate receivedOn, String asked, String note, String recordedBy, String recordedByName,
                          Instant recordedAt) {
    }

    /** Records a request; a {@link Refusal} for bad input or a patient that does not exist. */
    public Request record(RequestForm f, Actor by) {
        String kind = f.requesterKind() == null ? "" : f.requesterKind();
        if (!Set.of("patient", "representative", "other").contains(kind)) {
            throw new Refusal("請求者の区分を選んでください / Choose who asked");
        }
        String name = text(f.requesterName(), 200, "請求者の氏名 / the requester's name", true);
        String relationship = text(f.relationship(), 100, "本人との関係 / the relationship", !kind.equals("patient"));
        String asked = text(f.asked(), 2000, "請求の内容 / what was asked", true);
        String note = text(f.note(), 2000, "備考 / the note", false);
        LocalDate received = date(f.receivedOn(), "受付日 / the date received");
        if (received == null) {
            throw new Refusal("受付日を入力してください / Enter the date the request was received");
        }
        if (received.isAfter(LocalDate.now(clock.withZone(zone)))) {
            throw new Refusal("受付日が未来の日付です / The date received is in the future");
        }
        String pid = patient(f.patientId());
        Request r = new Request(UUID.randomUUID(), pid, kind, name, kind.equals("patient") ? null : relationship,
                received, asked, note, by.principal(), by.name(200), clock.instant());
        Tx.inTransaction(ds, c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO disclosure_request (request_id, patient_id,"
                    + " requester_kind, requester_name, relationship, received_on, asked, note, recorded_by,"
                    + " recorded_by_name, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setObject(1, r.id());
                ps.setString(2, r.patientId());
                ps.setString(3, r.requesterKind());
                ps.setString(4, r.requesterName());
                ps.setString(5, r.relationship());
                ps.setDate(6, Date.valueOf(r.receivedOn()));
                ps.setString(7, r.asked());
                ps.setString(8, r.note());
                ps.setString(9, r.recordedBy());
                ps.setString(10, r.recordedByName());
                ps.setTimestamp(11, Timestamp.from(r.recordedAt()));
                ps.executeUpdate();
            }
            return null;
        });
        recorder.append(AuditEvent.by(by, AuditAction.DISCLOSURE_REQUEST).purpose(Purpose.ADMINISTRATION)
                .patient(PatientRef.of(pid)).detail("request", r.id().toString()).detail("requester", kind)
                .detail("received", received.toString()).build());
        return r;
    }

    /** The Patient resource's id, when it exists; a {@link Refusal} otherwise (never a stack trace). */
    private String patient(String id) {
        String pid = id == null ? "" : id.strip();
        if (!pid.matches("[A-Za-z0-9\\-.]{1,64}")) {
            throw new Refusal("患者が見つかりません / No such patient");
        }
        try {
            records.read(READER, "Patient", pid);
        } catch (FhirError e) {
            throw new Refusal("患者が見つかりません / No such patient");
        }
        return pid;
    }

    public Optional<Request> request(UUID id) {
        List<Request> l = requests("WHERE request_id = ?", id);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    /** The requests for one patient, newest first. */
    public List<Request> requestsOf(String patientId) {
        return requests("WHERE patient_id = ? ORDER BY recorded_at DESC LIMIT 500", patientId);
    }

    /** The latest requests of every patient, newest first. */
    public List<Request> latestRequests(int limit) {
        return requests("ORDER BY recorded_at DESC LIMIT ?", Math.max(1, Math.min(limit, 500)));
    }

    private List<Request> requests(String where, Object arg) {
        return Tx.read(ds, c -> {
            List<Request> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT request_id, patient_id, requester_kind,"
                    + " requester_name, relationship, received_on, asked, note, recorded_by, recorded_by_name,"
                    + " recorded_at FROM disclosure_request " + where)) {
                ps.setObject(1, arg);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Request(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3),
                                rs.getString(4), rs.getString(5), rs.getDate(6).toLocalDate(), rs.getString(7),
                                rs.getString(8), rs.getString(9), rs.getString(10), rs.getTimestamp(11).toInstant()));
                    }
                }
            }
            return out;
        });
    }

    // ---------------------------------------------------------------- the decision and the package

    /** A kind withheld, with the reason the institution records (and the PDF tells the requester). */
    public record Withheld(Kind kind, String reason) {
    }

    /**
     * What the institution discloses: the kinds, a period (either end may be null: open), the kinds withheld with
     * their reasons, and the period of the access report (null: none).
     */
    public record Decision(Set<Kind> kinds, LocalDate from, LocalDate to, List<Withheld> withheld,
                           LocalDate accessFrom, LocalDate accessTo) {
    }

    /** The words the access report prints for what the trail stores as codes. */
    public interface Words {
        String action(String code);

        String purpose(String code);

        String roles(List<String> codes);
    }

    /** A produced package, as the ledger keeps it. */
    public record Package(UUID id, UUID requestId, List<String> kinds, LocalDate from, LocalDate to,
                          List<Withheld> withheld, LocalDate accessFrom, LocalDate accessTo,
                          Map<String, String> files, String zipSha256, int resources, boolean sealed,
                          String producedBy, String producedByName, Instant producedAt, Handover handover) {
    }

    public record Handover(String by, String byName, Instant at, String how) {
    }

    /** Turns the form's fields into a decision; a {@link Refusal} for bad input. */
    public static Decision decision(List<String> kinds, String from, String to, Map<String, String> reasons,
                                    boolean accessReport, String accessFrom, String accessTo) {
        Set<Kind> chosen = new java.util.LinkedHashSet<>();
        for (String k : kinds) {
            Kind kind = Kind.of(k);
            if (kind == null) {
                throw new Refusal("不明な記録の種類です / Unknown kind of record");
            }
            chosen.add(kind);
        }
        if (chosen.isEmpty()) {
            throw new Refusal("開示する記録の種類を一つ以上選んでください / Choose at least one kind of record to disclose");
        }
        List<Withheld> withheld = new ArrayList<>();
        for (Kind k : Kind.values()) {
            String reason = reasons.get(k.code);
            if (!chosen.contains(k) && reason != null && !reason.isBlank()) {
                withheld.add(new Withheld(k, text(reason, 500, "不開示の理由 / the reason", true)));
            }
        }
        LocalDate f = date(from, "期間の開始 / the period's start");
        LocalDate t = date(to, "期間の終了 / the period's end");
        if (f != null && t != null && f.isAfter(t)) {
            throw new Refusal("期間の開始が終了より後です / The period starts after it ends");
        }
        LocalDate af = null;
        LocalDate at = null;
        if (accessReport) {
            af = date(accessFrom, "アクセス記録の期間の開始 / the access report's start");
            at = date(accessTo, "アクセス記録の期間の終了 / the access report's end");
            if (af == null || at == null) {
                throw new Refusal("アクセス記録の期間を入力してください / Enter the access report's period");
            }
            if (af.isAfter(at)) {
                throw new Refusal("アクセス記録の期間の開始が終了より後です / The access report's period starts after it"
                        + " ends");
            }
            if (Duration.between(af.atStartOfDay(), at.plusDays(1).atStartOfDay()).compareTo(MAX_ACCESS_PERIOD) > 0) {
                throw new Refusal("アクセス記録の期間は10年までです / The access report covers at most ten years");
            }
        }
        return new Decision(chosen, f, t, withheld, af, at);
    }

    /** A package produced and held for its producer: its ledger row and the ZIP's file name. */
    public record Produced(Package pkg, String fileName, Instant downloadableUntil) {
    }

    /**
     * Produces the package for {@code requestId} as decided, records it in the ledger and the trail, and holds the ZIP
     * for {@code producer} to download for {@link #HOLD}.
     */
    public Produced produce(UUID requestId, Decision d, Words words, Actor by, UUID producer) {
        Request rq = request(requestId).orElseThrow(() -> new Refusal("開示請求が見つかりません / No such request"));
        Instant now = clock.instant();
        UUID id = UUID.randomUUID();
        PackageBuilder.Built built = new PackageBuilder(records, reports, seal, zone, institution, fhirBase.get())
                .build(id, rq, d, words, by.name(200), now);
        Package pkg = new Package(id, requestId, d.kinds().stream().map(k -> k.code).toList(), d.from(), d.to(),
                d.withheld(), d.accessFrom(), d.accessTo(), built.files(), built.zipSha256(), built.resources(),
                built.sealed(), by.principal(), by.name(200), now, null);
        Tx.inTransaction(ds, c -> {
            insert(c, pkg);
            return null;
        });
        AuditEvent.Builder e = AuditEvent.by(by, AuditAction.DISCLOSURE_PACKAGE).purpose(Purpose.ADMINISTRATION)
                .patient(PatientRef.of(rq.patientId())).detail("request", requestId.toString())
                .detail("package", id.toString()).detail("kinds", String.join(",", pkg.kinds()))
                .detail("period", (d.from() == null ? "" : d.from()) + "/" + (d.to() == null ? "" : d.to()))
                .detail("resources", Integer.toString(built.resources())).detail("sealed", Boolean.toString(built.sealed()))
                .detail("zipSha256", built.zipSha256());
        if (!d.withheld().isEmpty()) {
            e.detail("withheld", String.join(",", d.withheld().stream().map(w -> w.kind().code).toList()));
        }
        if (d.accessFrom() != null) {
            e.detail("accessReport", d.accessFrom() + "/" + d.accessTo());
        }
        built.files().forEach((name, hash) -> e.detail("sha256." + name, hash));
        recorder.append(e.build());
        Instant until = now.plus(HOLD);
        String fileName = "disclosure-" + rq.patientId() + "-" + LocalDate.ofInstant(now, zone) + ".zip";
        hold(id, new Held(producer, rq.patientId(), built.zip(), until, fileName));
        log.info("disclosure package {} produced for request {}: {} resources, {} bytes, sealed {}", id, requestId,
                built.resources(), built.zip().length, built.sealed());
        return new Produced(pkg, fileName, until);
    }

    private void insert(Connection c, Package p) throws SQLException {
        ObjectNode files = JSON.createObjectNode();
        p.files().forEach(files::put);
        ArrayNode withheld = JSON.createArrayNode();
        for (Withheld w : p.withheld()) {
            withheld.addObject().put("kind", w.kind().code).put("reason", w.reason());
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO disclosure_package (package_id, request_id, types,"
                + " range_from, range_to, withheld, access_from, access_to, files, zip_sha256, resources, sealed,"
                + " produced_by, produced_by_name, produced_at) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?::jsonb, ?, ?,"
                + " ?, ?, ?, ?)")) {
            ps.setObject(1, p.id());
            ps.setObject(2, p.requestId());
            ps.setArray(3, c.createArrayOf("text", p.kinds().toArray()));
            ps.setDate(4, p.from() == null ? null : Date.valueOf(p.from()));
            ps.setDate(5, p.to() == null ? null : Date.valueOf(p.to()));
            ps.setString(6, withheld.toString());
            ps.setDate(7, p.accessFrom() == null ? null : Date.valueOf(p.accessFrom()));
            ps.setDate(8, p.accessTo() == null ? null : Date.valueOf(p.accessTo()));
            ps.setString(9, files.toString());
            ps.setBytes(10, HexFormat.of().parseHex(p.zipSha256()));
            ps.setInt(11, p.resources());
            ps.setBoolean(12, p.sealed());
            ps.setString(13, p.producedBy());
            ps.setString(14, p.producedByName());
            ps.setTimestamp(15, Timestamp.from(p.producedAt()));
            ps.executeUpdate();
        }
    }

    /** The packages produced for a request, newest first, with their hand-overs. */
    public List<Package> packagesOf(UUID requestId) {
        return packages("WHERE p.request_id = ? ORDER BY p.produced_at DESC", requestId);
    }

    public Optional<Package> pkg(UUID packageId) {
        List<Package> l = packages("WHERE p.package_id = ?", packageId);
        return l.isEmpty() ? Optional.empty() : Optional.of(l.get(0));
    }

    private List<Package> packages(String where, Object arg) {
        return Tx.read(ds, c -> {
            List<Package> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT p.package_id, p.request_id, p.types, p.range_from,"
                    + " p.range_to, p.withheld::text, p.access_from, p.access_to, p.files::text, p.zip_sha256,"
                    + " p.resources, p.sealed, p.produced_by, p.produced_by_name, p.produced_at, h.handed_by,"
                    + " h.handed_by_name, h.handed_at, h.how FROM disclosure_package p LEFT JOIN disclosure_handover h"
                    + " ON h.package_id = p.package_id " + where)) {
                ps.setObject(1, arg);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        List<Withheld> withheld = new ArrayList<>();
                        for (var n : JSON.readTree(rs.getString(6))) {
                            Kind k = Kind.of(n.path("kind").asText());
                            if (k != null) {
                                withheld.add(new Withheld(k, n.path("reason").asText()));
                            }
                        }
                        Map<String, String> files = new LinkedHashMap<>();
                        JSON.readTree(rs.getString(9)).fields().forEachRemaining(f -> files.put(f.getKey(),
                                f.getValue().asText()));
                        Handover h = rs.getString(16) == null ? null : new Handover(rs.getString(16),
                                rs.getString(17), rs.getTimestamp(18).toInstant(), rs.getString(19));
                        out.add(new Package(rs.getObject(1, UUID.class), rs.getObject(2, UUID.class),
                                List.of((String[]) rs.getArray(3).getArray()),
                                rs.getDate(4) == null ? null : rs.getDate(4).toLocalDate(),
                                rs.getDate(5) == null ? null : rs.getDate(5).toLocalDate(), withheld,
                                rs.getDate(7) == null ? null : rs.getDate(7).toLocalDate(),
                                rs.getDate(8) == null ? null : rs.getDate(8).toLocalDate(), files,
                                HexFormat.of().formatHex(rs.getBytes(10)), rs.getInt(11), rs.getBoolean(12),
                                rs.getString(13), rs.getString(14), rs.getTimestamp(15).toInstant(), h));
                    }
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new SQLException("disclosure_package holds JSON that does not parse", e);
                }
            }
            return out;
        });
    }

    /** Records that the package was handed over to the requester; once per package. */
    public Handover handOver(UUID packageId, String how, Actor by) {
        Package p = pkg(packageId).orElseThrow(() -> new Refusal("開示資料が見つかりません / No such package"));
        if (p.handover() != null) {
            throw new Refusal("この開示資料は交付済みです / This package was already handed over");
        }
        String h = text(how, 500, "交付の方法 / how it was handed over", true);
        Handover handover = new Handover(by.principal(), by.name(200), clock.instant(), h);
        String patientId = request(p.requestId()).map(Request::patientId).orElseThrow();
        try {
            Tx.inTransaction(ds, c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO disclosure_handover (package_id, handed_by,"
                        + " handed_by_name, handed_at, how) VALUES (?, ?, ?, ?, ?)")) {
                    ps.setObject(1, packageId);
                    ps.setString(2, handover.by());
                    ps.setString(3, handover.byName());
                    ps.setTimestamp(4, Timestamp.from(handover.at()));
                    ps.setString(5, handover.how());
                    ps.executeUpdate();
                }
                return null;
            });
        } catch (RuntimeException e) {
            if (pkg(packageId).map(Package::handover).isPresent()) {
                throw new Refusal("この開示資料は交付済みです / This package was already handed over");
            }
            throw e;
        }
        recorder.append(AuditEvent.by(by, AuditAction.DISCLOSURE_HANDOVER).purpose(Purpose.ADMINISTRATION)
                .patient(PatientRef.of(patientId)).detail("package", packageId.toString()).detail("how", h).build());
        return handover;
    }

    // ---------------------------------------------------------------- the download

    private record Held(UUID producer, String patientId, byte[] zip, Instant until, String fileName) {
    }

    private void hold(UUID id, Held h) {
        Instant now = clock.instant();
        held.values().removeIf(x -> !x.until().isAfter(now));
        while (held.size() >= MAX_HELD) {
            held.entrySet().stream().min(Map.Entry.comparingByValue(java.util.Comparator.comparing(Held::until)))
                    .ifPresent(oldest -> held.remove(oldest.getKey()));
        }
        held.put(id, h);
    }

    /** The ZIP and its file name. */
    public record Download(String fileName, byte[] zip) {
    }

    /**
     * The package's ZIP for {@code account}, who produced it, while it is held; a {@link Refusal} otherwise (another
     * account, expired, unknown: all the same answer, nothing said of which). The download is recorded.
     */
    public Download download(UUID packageId, UUID account, Actor by) {
        Held h = held.get(packageId);
        if (h == null || !h.producer().equals(account) || !h.until().isAfter(clock.instant())) {
            if (h != null && !h.until().isAfter(clock.instant())) {
                held.remove(packageId);
            }
            throw new Refusal("この開示資料はダウンロードできません（作成した本人のみ、作成から30分以内）/ This package cannot be"
                    + " downloaded (only by whoever produced it, within 30 minutes)");
        }
        recorder.append(AuditEvent.by(by, AuditAction.DISCLOSURE_DOWNLOAD).purpose(Purpose.ADMINISTRATION)
                .patient(PatientRef.of(h.patientId())).detail("package", packageId.toString()).build());
        return new Download(h.fileName(), h.zip());
    }

    /** Whether {@code account} can still download the package. */
    public boolean downloadable(UUID packageId, UUID account) {
        Held h = held.get(packageId);
        return h != null && h.producer().equals(account) && h.until().isAfter(clock.instant());
    }

    // ---------------------------------------------------------------- input

    static String text(String s, int max, String what, boolean required) {
        String v = s == null ? "" : s.strip();
        if (v.isEmpty()) {
            if (required) {
                throw new Refusal(what + "を入力してください / Enter " + what.substring(what.indexOf('/') + 2));
            }
            return null;
        }
        if (v.length() > max) {
            throw new Refusal(what + "は" + max + "文字までです / " + what.substring(what.indexOf('/') + 2) + " is at most "
                    + max + " characters");
        }
        if (v.chars().anyMatch(ch -> ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t')) {
            throw new Refusal(what + "に使えない文字があります / " + what.substring(what.indexOf('/') + 2)
                    + " has characters that cannot be stored");
        }
        return v;
    }

    static LocalDate date(String s, String what) {
        if (s == null || s.isBlank()) {
            return null;
        }
        try {
            LocalDate d = LocalDate.parse(s.strip());
            if (d.getYear() < 1900 || d.getYear() > 2200) {
                throw new java.time.format.DateTimeParseException("out of range", s, 0);
            }
            return d;
        } catch (java.time.format.DateTimeParseException e) {
            throw new Refusal(what + "は YYYY-MM-DD で入力してください / " + what.substring(what.indexOf('/') + 2)
                    + " must be YYYY-MM-DD");
        }
    }
}
