package jp.mamori.continuity;

import jp.mamori.access.Caller;
import jp.mamori.access.EncounterStays;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.chart.JpDates;
import jp.mamori.chart.KitPdf;
import jp.mamori.config.ServerConfig;
import jp.mamori.identity.SecretSealer;
import jp.mamori.records.RecordService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The downtime kit (issue 18 §3; BACKUP-12, DEGRADED-4 "another means when the system must stay stopped"): every
 * {@code --downtime-minutes}, for each ward and department that has patients today and a kit password, an encrypted
 * PDF ({@link KitPdf}, AES-256) of the minimum information for care of its current inpatients and today's
 * outpatients, written to {@code --downtime-dir} as {@code <ward>-<yyyyMMdd-HHmm>.pdf}, the last
 * {@code --downtime-generations} kept per ward. Opening a file needs only a PDF reader and the ward's password.
 *
 * <p><b>Passwords.</b> An administrator sets each ward's password on the console (step-up, CSRF; at least
 * {@link #MIN_PASSWORD} characters) and hands it to the ward's leader. The server must be able to encrypt with it, so
 * it cannot keep only a hash: it keeps it sealed ({@link SecretSealer}, AES-256-GCM under its own key file
 * {@code <data>/secrets/downtime-keys}, bound to the place's name), so a copy of the database alone does not reveal
 * it. It is never logged, shown or written into an audit entry. A ward with patients and no password gets no kit,
 * which is a deviation on the administrator's home.
 *
 * <p><b>Reads and the trail.</b> Records are read through the record service as the system caller
 * {@code system:downtime-kit}; each generation is ONE audit entry (purpose {@code continuity}, action export) that
 * names every patient and, per file, which patients went into it; it is stored before any file is put in place (no
 * audit, no file).
 *
 * <p><b>Files.</b> Each file is written to a temporary name in the folder and renamed into place, so a reader on the
 * downtime PC never sees half a file. A ward's name keeps its Japanese; path characters and control characters are
 * replaced, and a name that had to be changed gets a short hash of the original, so two wards never share files and no
 * name leaves the folder.
 */
public final class DowntimeKit implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DowntimeKit.class);
    public static final int MIN_PASSWORD = 12;
    public static final int MAX_PASSWORD = 128;
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("uuuuMMdd-HHmm");
    private static final Pattern UNSAFE = Pattern.compile("[\\\\/:*?\"<>|\\p{Cntrl}\\p{Cf}]");

    private final DataSource ds;
    private final EncounterStays stays;
    private final AuditRecorder recorder;
    private final SecretSealer sealer;
    private final ServerConfig.DowntimeOptions options;
    private final JpDates dates;
    private final Clock clock;
    private final String institution;
    private final KitContent content;
    private ScheduledExecutorService scheduler;

    public DowntimeKit(DataSource ds, RecordService records, EncounterStays stays, AuditRecorder recorder,
                       SecretSealer sealer, ServerConfig.DowntimeOptions options, ZoneId zone, Clock clock,
                       String institution) {
        this.ds = ds;
        this.stays = stays;
        this.recorder = recorder;
        this.sealer = sealer;
        this.options = options;
        this.dates = new JpDates(zone);
        this.clock = clock;
        this.institution = institution;
        this.content = new KitContent(records, Caller.system("downtime-kit"), dates);
    }

    /** The sealer of kit passwords, under its own key file in the data folder's secrets. */
    public static SecretSealer sealer(Path dataDir) {
        return SecretSealer.open(dataDir.resolve("secrets").resolve("downtime-keys"));
    }

    public ServerConfig.DowntimeOptions options() {
        return options;
    }

    /** Whether this process runs the job now (the leader's lock, issue 18 §1, ADR 0013); always, alone. */
    private volatile java.util.function.BooleanSupplier leads = () -> true;

    /** Runs the scheduled work only while {@code leads} says this process leads it (several processes, one database). */
    public DowntimeKit ledBy(java.util.function.BooleanSupplier leads) {
        this.leads = leads;
        return this;
    }

    /** Generates every {@code --downtime-minutes} (none with 0), the first a minute after start. */
    public synchronized void start() {
        if (options.minutes() == 0 || scheduler != null) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "mamori-downtime-kit");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(() -> {
            if (!leads.getAsBoolean()) {
                return;
            }
            try {
                Generation g = generate(Actor.server("downtime-kit"));
                log.info("downtime kit: {} files, {} patients, {} ms", g.files().size(), g.patients(), g.millis());
            } catch (RuntimeException e) {
                log.warn("downtime kit failed: {}", e.toString());
            }
        }, 1, options.minutes(), TimeUnit.MINUTES);
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }

    // ------------------------------------------------------------------ passwords

    /** Why a password was refused ("日本語 / English"). */
    public static final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message);
        }
    }

    /** A place's name as the index of stays writes it (NFKC, trimmed); empty when it cannot be one. */
    public static Optional<String> placeName(String raw) {
        return Optional.ofNullable(jp.mamori.kernel.TextNormalizer.placeName(raw))
                .filter(p -> p.codePoints().noneMatch(c -> Character.isISOControl(c)));
    }

    /**
     * Sets (or replaces) the kit password of {@code place}; {@code by} is the administrator, named in the row and in an
     * audit entry (which names the ward, never the password).
     *
     * @throws Refused when the place name or the password is not acceptable
     */
    public void setPassword(String place, String password, Actor by) {
        String p = placeName(place).orElseThrow(() -> new Refused(
                "病棟・診療科の名前が正しくありません / the ward or department name is not valid"));
        if (password == null || password.codePointCount(0, password.length()) < MIN_PASSWORD) {
            throw new Refused("パスワードは " + MIN_PASSWORD + " 文字以上にしてください / the password needs at least "
                    + MIN_PASSWORD + " characters");
        }
        if (password.length() > MAX_PASSWORD || password.codePoints().anyMatch(Character::isISOControl)) {
            throw new Refused("パスワードは " + MAX_PASSWORD + " 文字以内で、改行などを含めません / the password must be at"
                    + " most " + MAX_PASSWORD + " characters without control characters");
        }
        byte[] sealed = sealer.seal(password.getBytes(StandardCharsets.UTF_8), ad(p));
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO downtime_kit (place, sealed_password, password_set_by, password_set_at) VALUES (?,?,?,?)"
                        + " ON CONFLICT (place) DO UPDATE SET sealed_password = excluded.sealed_password,"
                        + " password_set_by = excluded.password_set_by, password_set_at = excluded.password_set_at")) {
            ps.setString(1, p);
            ps.setBytes(2, sealed);
            ps.setString(3, by.principal());
            ps.setTimestamp(4, Timestamp.from(clock.instant()));
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("the kit password could not be stored", e);
        }
        // the change is in the trail (who, which ward), never the password
        recorder.append(AuditEvent.by(by, AuditAction.UPDATE).purpose(Purpose.SECURITY)
                .detail("downtime-kit-password", p).build());
        log.info("downtime kit: password of a ward set by {}", by.principal());
    }

    private static byte[] ad(String place) {
        return ("downtime-kit:" + place).getBytes(StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------ state

    /**
     * One ward or department as the console shows it.
     *
     * @param patients    patients in it today (inpatients and today's outpatients by the index of stays)
     * @param hasPassword whether a kit password is set
     * @param lastAt      when its last kit was written, or null
     * @param lastFile    that file's name, or null
     * @param lastCount   how many patients that kit held
     * @param stale       whether it should have a kit and has none newer than twice the interval
     * @param problem     why the last generation failed for it ("日本語 / English"), or null
     */
    public record Place(String name, int patients, boolean hasPassword, Instant lastAt, String lastFile,
                        int lastCount, boolean stale, String problem) {
        /** A deviation: patients today and no password, or a stale kit. */
        public boolean deviation() {
            return patients > 0 && (!hasPassword || stale);
        }
    }

    private record Row(byte[] sealed, Instant lastAt, String lastFile, int lastCount, String problem) {
    }

    /** Every place with patients today or a password, by name. */
    public List<Place> places() {
        Instant now = clock.instant();
        Instant dayStart = dayStart(now);
        try (Connection c = ds.getConnection()) {
            Map<String, Integer> occupied = stays.occupied(c, dayStart);
            Map<String, Row> rows = rows(c);
            Set<String> names = new TreeSet<>(occupied.keySet());
            names.addAll(rows.keySet());
            List<Place> out = new ArrayList<>();
            Duration staleAfter = Duration.ofMinutes(2L * Math.max(1, options.minutes()));
            for (String n : names) {
                Row r = rows.get(n);
                int patients = occupied.getOrDefault(n, 0);
                boolean stale = options.minutes() > 0 && r != null && patients > 0
                        && (r.lastAt() == null || r.lastAt().plus(staleAfter).isBefore(now));
                out.add(new Place(n, patients, r != null, r == null ? null : r.lastAt(),
                        r == null ? null : r.lastFile(), r == null ? 0 : r.lastCount(), stale,
                        r == null ? null : r.problem()));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException("the downtime kit's places could not be read", e);
        }
    }

    /** How many places fall short: stale kits and wards with patients but no password (0 when the kit is off). */
    public long deviationCount() {
        return options.minutes() == 0 ? 0 : places().stream().filter(Place::deviation).count();
    }

    private static Map<String, Row> rows(Connection c) throws SQLException {
        Map<String, Row> out = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT place, sealed_password, last_at, last_file,"
                + " last_patients, last_problem FROM downtime_kit"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Timestamp at = rs.getTimestamp(3);
                out.put(rs.getString(1), new Row(rs.getBytes(2), at == null ? null : at.toInstant(),
                        rs.getString(4), rs.getInt(5), rs.getString(6)));
            }
        }
        return out;
    }

    private Instant dayStart(Instant now) {
        return dates.localDate(now).atStartOfDay(dates.zone()).toInstant();
    }

    // ------------------------------------------------------------------ generating

    /** One file written: its place, name and the patients (resource ids) in it. */
    public record File(String place, String name, List<String> patients) {
    }

    /** What one generation did. */
    public record Generation(Instant at, List<File> files, int patients, List<String> withoutPassword, long millis,
                             long auditSeq) {
    }

    /**
     * Writes the kits of every place that has patients today and a password, now; {@code by} is who asked (the
     * scheduler or an administrator), named in the audit entry. One generation at a time.
     *
     * @throws jp.mamori.audit.AuditUnavailable when the entry could not be stored: then no file is put in place
     */
    public synchronized Generation generate(Actor by) {
        long started = System.nanoTime();
        Instant now = clock.instant();
        Instant dayStart = dayStart(now);
        Instant dayEnd = dates.localDate(now).plusDays(1).atStartOfDay(dates.zone()).toInstant();
        Map<String, Row> rows;
        Map<String, Set<String>> byPlace = new TreeMap<>();
        List<String> without = new ArrayList<>();
        try (Connection c = ds.getConnection()) {
            rows = rows(c);
            Map<String, Integer> occupied = stays.occupied(c, dayStart);
            for (String p : occupied.keySet()) {
                if (!rows.containsKey(p)) {
                    without.add(p);
                }
            }
            List<String> places = rows.keySet().stream().filter(occupied::containsKey).toList();
            for (EncounterStays.Stay s : stays.stays(c, places, dayStart)) {
                byPlace.computeIfAbsent(s.place(), k -> new LinkedHashSet<>()).add(s.patientId());
            }
        } catch (SQLException e) {
            throw new IllegalStateException("the downtime kit could not read the stays", e);
        }
        Set<String> all = new LinkedHashSet<>();
        byPlace.values().forEach(all::addAll);
        Map<String, KitContent.Chart> charts = all.isEmpty() ? Map.of() : content.load(all, now);
        Path dir = options.dir();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("the downtime kit folder cannot be created: " + dir, e);
        }
        String stamp = STAMP.format(now.atZone(dates.zone()));
        List<File> files = new ArrayList<>();
        Map<String, Path> temps = new LinkedHashMap<>();
        Map<String, String> problems = new TreeMap<>();
        Set<String> inKits = new TreeSet<>();
        try {
            for (Map.Entry<String, Set<String>> e : byPlace.entrySet()) {
                String place = e.getKey();
                List<KitPdf.Patient> pages = new ArrayList<>();
                List<String> ids = new ArrayList<>();
                List<Map.Entry<String, KitContent.Stay>> kept = new ArrayList<>();
                for (String id : e.getValue()) {
                    KitContent.Chart chart = charts.get(id);
                    KitContent.Stay stay = chart == null ? null : KitContent.stayIn(chart, place, dayStart, dayEnd);
                    if (stay != null) {
                        kept.add(Map.entry(id, stay));
                    }
                }
                // inpatients first, then outpatients by time; by 患者ID within each
                kept.sort(java.util.Comparator.comparing((Map.Entry<String, KitContent.Stay> x) -> !x.getValue()
                        .inpatient()).thenComparing(x -> jp.mamori.audit.PatientDirectory.patientId(
                        charts.get(x.getKey()).patient)));
                for (Map.Entry<String, KitContent.Stay> k : kept) {
                    pages.add(content.patient(charts.get(k.getKey()), k.getValue(), place, now));
                    ids.add(k.getKey());
                }
                String password;
                try {
                    password = new String(sealer.open(rows.get(place).sealed(), ad(place)), StandardCharsets.UTF_8);
                } catch (RuntimeException x) {
                    problems.put(place, "パスワードを開けません。設定し直してください / the password cannot be opened;"
                            + " set it again");
                    log.warn("downtime kit: a ward's sealed password cannot be opened ({})", x.getClass().getSimpleName());
                    continue;
                }
                byte[] pdf = KitPdf.render(new KitPdf.Kit(institution, place, now, pages), password, dates);
                String name = safeName(place) + "-" + stamp + ".pdf";
                Path tmp = Files.createTempFile(dir, ".kit-", ".tmp");
                Files.write(tmp, pdf);
                temps.put(name, tmp);
                files.add(new File(place, name, List.copyOf(ids)));
                inKits.addAll(ids);
            }
            // ONE entry for the generation, stored before any file is put in place (no audit, no file)
            Map<String, String> detail = new LinkedHashMap<>();
            detail.put("files", Integer.toString(files.size()));
            for (File f : files) {
                detail.put("file:" + f.name(), String.join(",", f.patients()));
            }
            if (!without.isEmpty()) {
                detail.put("without-password", Integer.toString(without.size()));
            }
            long seq = recorder.append(AuditEvent.by(by, AuditAction.EXPORT).purpose(Purpose.CONTINUITY)
                    .patients(inKits.stream().map(PatientRef::of).toList()).details(detail).build());
            for (File f : files) {
                Files.move(temps.remove(f.name()), dir.resolve(f.name()), StandardCopyOption.REPLACE_EXISTING,
                        StandardCopyOption.ATOMIC_MOVE);
                prune(dir, safeName(f.place()), options.generations());
            }
            record(files, problems, now);
            return new Generation(now, List.copyOf(files), inKits.size(), List.copyOf(without),
                    (System.nanoTime() - started) / 1_000_000, seq);
        } catch (IOException e) {
            throw new UncheckedIOException("the downtime kit could not be written to " + dir, e);
        } finally {
            for (Path t : temps.values()) {
                try {
                    Files.deleteIfExists(t);
                } catch (IOException ignored) {
                    // a leftover temporary file is removed by the next generation's prune
                }
            }
        }
    }

    private void record(List<File> files, Map<String, String> problems, Instant now) {
        try (Connection c = ds.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("UPDATE downtime_kit SET last_at = ?, last_file = ?,"
                    + " last_patients = ?, last_problem = NULL WHERE place = ?")) {
                for (File f : files) {
                    ps.setTimestamp(1, Timestamp.from(now));
                    ps.setString(2, f.name());
                    ps.setInt(3, f.patients().size());
                    ps.setString(4, f.place());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE downtime_kit SET last_problem = ? WHERE place = ?")) {
                for (Map.Entry<String, String> p : problems.entrySet()) {
                    ps.setString(1, p.getValue());
                    ps.setString(2, p.getKey());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("the downtime kit's state could not be recorded", e);
        }
    }

    /**
     * A ward's name as a file name: its Japanese kept, path separators, reserved and control characters replaced by
     * "_", no leading dot, at most 60 characters; a name that had to change gets the first 8 hex digits of the
     * SHA-256 of the original, so that "3A/東" and "3A_東" never share files.
     */
    public static String safeName(String place) {
        String n = UNSAFE.matcher(place).replaceAll("_").strip();
        while (n.startsWith(".")) {
            n = "_" + n.substring(1);
        }
        if (n.codePointCount(0, n.length()) > 60) {
            n = n.substring(0, n.offsetByCodePoints(0, 60));
        }
        if (n.isEmpty()) {
            n = "_";
        }
        if (!n.equals(place)) {
            try {
                byte[] h = MessageDigest.getInstance("SHA-256").digest(place.getBytes(StandardCharsets.UTF_8));
                n = n + "~" + HexFormat.of().formatHex(h, 0, 4);
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return n;
    }

    /** Keeps the newest {@code keep} files of one ward (names sort by time), and drops stale temporary files. */
    static void prune(Path dir, String safe, int keep) throws IOException {
        Pattern mine = Pattern.compile(Pattern.quote(safe) + "-[0-9]{8}-[0-9]{4}\\.pdf");
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                String n = p.getFileName().toString();
                if (mine.matcher(n).matches()) {
                    files.add(p);
                } else if (n.startsWith(".kit-") && n.endsWith(".tmp")
                        && Files.getLastModifiedTime(p).toInstant().isBefore(Instant.now().minusSeconds(3600))) {
                    Files.deleteIfExists(p);
                }
            }
        }
        files.sort(java.util.Comparator.comparing(p -> p.getFileName().toString()));
        for (int i = 0; i < files.size() - keep; i++) {
            Files.deleteIfExists(files.get(i));
        }
    }

    /** Today in the server's zone (for tests and the page). */
    public LocalDate today() {
        return dates.localDate(clock.instant());
    }
}
