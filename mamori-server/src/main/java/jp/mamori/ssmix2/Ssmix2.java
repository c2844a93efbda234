package jp.mamori.ssmix2;

import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import jp.mamori.access.AccessPolicy;
import jp.mamori.access.Caller;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.audit.WriteEntries;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.Resource;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * SS-MIX2 standardized storage in and out of Mamori (issue 23; STORE-2): a hospital's history migrated from its old
 * EHR's storage, and the same data types written back as a storage tree for a regional network or the next system.
 *
 * <p>Import walks the tree one folder at a time (memory flat whatever its size), checks every file against the
 * layout, refuses what does not fit, decodes ISO-2022-JP strictly, parses with HAPI HL7v2, maps with {@link ToFhir},
 * and writes each message's resources in ONE transaction through the record service's normal write path (validated,
 * versioned, journaled in the audit trail) as the system caller {@code system:ssmix2-import}, with the reason
 * "migration" naming the file, each resource tagged with its source file. The ledger row of the message commits in the
 * same transaction: a message is imported once, whole or not at all. Every file gives one report line.
 */
public final class Ssmix2 {
    /** A file larger than this is refused without reading it (SS-MIX2 messages are a few kB). */
    public static final long DEFAULT_MAX_FILE_BYTES = 4L * 1024 * 1024;
    static final Caller IMPORTER = Caller.system("ssmix2-import");
    static final Caller EXPORTER = Caller.system("ssmix2-export");
    /** Character sets a message may declare in MSH-18 (ASCII, JIS X 0208 by escape sequences). */
    private static final Set<String> CHARSETS = Set.of("ISO IR6", "ISO IR87", "ISO IR-6", "ISO IR-87",
            "ISO 2022-1994", "ASCII");

    /** What became of one file. */
    public enum Outcome {
        IMPORTED("取込", "imported"), ALREADY("取込済", "skipped (already imported)"),
        SKIPPED("対象外", "skipped"), REFUSED("拒否", "refused"), EXPORTED("出力", "exported");

        public final String ja;
        public final String en;

        Outcome(String ja, String en) {
            this.ja = ja;
            this.en = en;
        }
    }

    /** One report line: the file (below the root), where in it (segment and field, or {@code -}), and why. */
    public record Line(Outcome outcome, String file, String where, String reason, int resources) {
        public String text() {
            return outcome.ja + " / " + outcome.en + "\t" + file + "\t" + (where == null ? "-" : where) + "\t"
                    + (reason == null ? (resources + " resources") : reason);
        }
    }

    /**
     * The counts of a run; {@code files} is the sum of the four outcomes. For an export, {@code imported} counts the
     * files written ({@link #exportText}).
     */
    public record Summary(UUID run, long files, long imported, long already, long skipped, long refused,
                          long resources, long patients, long millis) {
        public String text() {
            return "ファイル " + files + " 件: 取込 " + imported + "、取込済 " + already + "、対象外 " + skipped + "、拒否 "
                    + refused + "（リソース " + resources + "、患者 " + patients + " 人） / " + files + " files: "
                    + imported + " imported, " + already + " already imported, " + skipped + " skipped, " + refused
                    + " refused (" + resources + " resources, " + patients + " patients) in " + millis + " ms";
        }

        public String exportText() {
            return "ファイル " + files + " 件: 出力 " + imported + "、拒否 " + refused + "（リソース " + resources + "、患者 "
                    + patients + " 人） / " + files + " files: " + imported + " exported, " + refused + " refused ("
                    + resources + " resources, " + patients + " patients) in " + millis + " ms";
        }
    }

    private final RecordService records;
    private final ImportLedger ledger;
    private final AuditRecorder recorder;
    private final Hl7 hl7 = new Hl7();

    /** Writes through a record service of its own whose every transaction stages its audit entry (AUDIT-1). */
    public Ssmix2(DataSource ds, AuditRecorder recorder) {
        this.records = new RecordService(ds, new AccessPolicy(), new FhirSupport(), 50, 1000);
        this.records.journal(new WriteEntries(recorder));
        this.ledger = new ImportLedger(ds);
        this.recorder = recorder;
    }

    RecordService records() {
        return records;
    }

    Hl7 hl7() {
        return hl7;
    }

    // ------------------------------------------------------------------ import

    /** A run's counting and the patients it resolved in the folder at hand. */
    private final class ImportRun {
        final UUID id = UUID.randomUUID();
        final Path root;
        final long maxBytes;
        final Consumer<Line> report;
        final long[] counts = new long[Outcome.values().length];
        long resources;
        long patients;
        /** 患者ID → Patient id, for the patient folder being walked only (memory flat). */
        final Map<String, String> known = new HashMap<>();
        /** The patients of that folder whose ADT-00 this run imported. */
        final Set<String> counted = new java.util.HashSet<>();

        ImportRun(Path root, long maxBytes, Consumer<Line> report) {
            this.root = root;
            this.maxBytes = maxBytes;
            this.report = report;
        }

        void line(Outcome o, String file, String where, String reason, int n) {
            counts[o.ordinal()]++;
            report.accept(new Line(o, file, where, reason, n));
        }

        String find(String patientId) throws Hl7.Refused {
            if (known.containsKey(patientId)) {
                return known.get(patientId);
            }
            RecordService.SearchPage page = records.search(IMPORTER, "Patient", Map.of("identifier",
                    List.of(ToFhir.PATIENT_ID_SYSTEM + "|" + patientId), "_count", List.of("2")));
            if (page.matches().size() > 1) {
                throw new Hl7.Refused("PID-3", "患者ID " + patientId + " の患者が Mamori に複数います / several patients in"
                        + " Mamori have this patient ID: resolve the duplicate first");
            }
            String id = page.matches().isEmpty() ? null : page.matches().get(0).id();
            if (id != null) {
                known.put(patientId, id);
            }
            return id;
        }
    }

    /**
     * Imports the storage tree at {@code root}, run by {@code by} (the trail's entry of the run names them); each
     * file's line goes to {@code report} as it is decided. Only the root's own problems (missing, not a folder) throw;
     * everything below it, an unreadable folder too, is a report line.
     */
    public Summary importTree(Path root, long maxFileBytes, Actor by, Consumer<Line> report) throws IOException {
        long started = System.nanoTime();
        if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException("取り込むフォルダがありません（シンボリックリンクは不可） / " + root
                    + " is not a folder (a symbolic link is not followed)");
        }
        ImportRun run = new ImportRun(root.toRealPath(), maxFileBytes, report);
        walk(run, run.root, 0);
        long[] c = run.counts;
        long files = c[Outcome.IMPORTED.ordinal()] + c[Outcome.ALREADY.ordinal()] + c[Outcome.SKIPPED.ordinal()]
                + c[Outcome.REFUSED.ordinal()];
        Summary s = new Summary(run.id, files, c[Outcome.IMPORTED.ordinal()], c[Outcome.ALREADY.ordinal()],
                c[Outcome.SKIPPED.ordinal()], c[Outcome.REFUSED.ordinal()], run.resources, run.patients,
                (System.nanoTime() - started) / 1_000_000);
        Map<String, String> detail = new LinkedHashMap<>();
        detail.put("run", run.id.toString());
        detail.put("root", run.root.toString());
        detail.put("files", Long.toString(s.files()));
        detail.put("imported", Long.toString(s.imported()));
        detail.put("already", Long.toString(s.already()));
        detail.put("skipped", Long.toString(s.skipped()));
        detail.put("refused", Long.toString(s.refused()));
        detail.put("resources", Long.toString(s.resources()));
        recorder.append(AuditEvent.by(by, AuditAction.SSMIX2_IMPORT).purpose(Purpose.ADMINISTRATION)
                .outcome(s.refused() == 0 ? jp.mamori.audit.Outcome.SUCCESS : jp.mamori.audit.Outcome.ERROR)
                .details(detail).build());
        return s;
    }

    /**
     * Depth 0 is the root; 1 and 2 the patient ID's first and second three characters; 3 the patient; 4 the date;
     * 5 the data type, whose files are the messages. Names are sorted in one folder at a time: {@code -} before the
     * dates and ADT-00 before the others, so that a patient is imported before its orders and results.
     */
    private void walk(ImportRun run, Path dir, int depth) throws IOException {
        List<Path> entries = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                entries.add(p);
            }
        } catch (IOException e) {
            run.line(Outcome.REFUSED, relative(run.root, dir) + "/", "-", "フォルダを読めません / cannot read the folder: "
                    + Hl7.oneLine(e.getMessage()), 0);
            return;
        }
        entries.sort(java.util.Comparator.comparing(p -> p.getFileName().toString()));
        if (depth == 3) {
            run.known.clear();
            run.counted.clear();
        }
        for (Path p : entries) {
            String rel = relative(run.root, p);
            BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isSymbolicLink()) {
                run.line(Outcome.REFUSED, rel, "-", "シンボリックリンクはたどりません / a symbolic link is not followed", 0);
            } else if (a.isDirectory()) {
                if (depth >= 5) {
                    run.line(Outcome.REFUSED, rel + "/", "-", "ツリーの構成外のフォルダです / a folder below the data type"
                            + " folder is outside the tree layout", 0);
                } else {
                    walk(run, p, depth + 1);
                }
            } else if (!a.isRegularFile()) {
                run.line(Outcome.REFUSED, rel, "-", "通常のファイルではありません / not a regular file", 0);
            } else if (depth != 5) {
                run.line(Outcome.REFUSED, rel, "-", "ツリーの構成外のファイルです / a file outside the tree layout"
                        + " (messages lie in ID[0:3]/ID[3:6]/ID/DATE/TYPE/)", 0);
            } else {
                importFile(run, p, rel, a.size());
            }
        }
    }

    private static String relative(Path root, Path p) {
        return root.relativize(p).toString().replace('\\', '/');
    }

    private void importFile(ImportRun run, Path file, String rel, long size) {
        StringBuilder why = new StringBuilder();
        String fileName = file.getFileName().toString();
        if (fileName.endsWith(".hl7") || fileName.endsWith(".txt")) {
            fileName = fileName.substring(0, fileName.length() - 4);
        }
        StorageName name = StorageName.parse(fileName, why).orElse(null);
        if (name == null) {
            run.line(Outcome.REFUSED, rel, "-", why.toString(), 0);
            return;
        }
        String folder = rel.substring(0, rel.lastIndexOf('/'));
        if (!folder.equals(name.folder())) {
            run.line(Outcome.REFUSED, rel, "-", "ファイル名とフォルダが一致しません / the file name does not match its"
                    + " folders (expected " + name.folder() + "/)", 0);
            return;
        }
        if (!StorageName.IMPORTED.containsKey(name.dataType())) {
            if (StorageName.KNOWN.contains(name.dataType())) {
                run.line(Outcome.SKIPPED, rel, "-", "データ種別 " + name.dataType() + " はまだ取り込みません / data type"
                        + " not imported yet", 0);
            } else {
                run.line(Outcome.REFUSED, rel, "-", "未知のデータ種別です / unknown data type " + name.dataType(), 0);
            }
            return;
        }
        if (name.conditionFlag().equals("0")) {
            run.line(Outcome.SKIPPED, rel, "-", "取り消されたメッセージです（コンディションフラグ 0） / withdrawn message"
                    + " (condition flag 0)", 0);
            return;
        }
        if (size > run.maxBytes) {
            run.line(Outcome.REFUSED, rel, "-", "ファイルが大きすぎます / file too large: " + size + " bytes (at most "
                    + run.maxBytes + ")", 0);
            return;
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, run.maxBytes + 1));
        } catch (IOException e) {
            run.line(Outcome.REFUSED, rel, "-", "読めません / cannot read: " + Hl7.oneLine(e.getMessage()), 0);
            return;
        }
        if (bytes.length > run.maxBytes) {
            run.line(Outcome.REFUSED, rel, "-", "ファイルが大きすぎます / file too large (grew while read)", 0);
            return;
        }
        byte[] hash = sha256(bytes);
        if (ledger.contains(hash)) {
            run.line(Outcome.ALREADY, rel, "-", "取込済みです / already imported", 0);
            return;
        }
        String text;
        try {
            text = Jis.decode(bytes);
        } catch (Jis.Undecodable e) {
            run.line(Outcome.REFUSED, rel, "-", "文字コード / character set: " + e.getMessage(), 0);
            return;
        }
        try {
            Message m = hl7.parse(text);
            Segment msh = ToFhir.segment(m, "MSH");
            for (int i = 0; i < Hl7.reps(msh, 18); i++) {
                String cs = Hl7.get(msh, 18, i, 1);
                if (cs != null && !CHARSETS.contains(cs)) {
                    throw new Hl7.Refused("MSH-18", "文字セット " + cs + " は SS-MIX2 の ISO-2022-JP ではありません / the"
                            + " declared character set is not ISO-2022-JP (ISO IR6, ISO IR87)");
                }
            }
            String control = Hl7.get(msh, 10, 1);
            ToFhir.Mapped mapped = ToFhir.map(name, m, rel, run::find);
            String reason = reason(rel);
            records.writeWith((c, writer) -> {
                for (Resource r : mapped.resources()) {
                    writer.update(IMPORTER, r.fhirType(), r.getIdElement().getIdPart(), r, null, reason);
                }
                return ledger.record(c, hash, rel, name.dataType(), control, mapped.resources().size(), run.id);
            });
            if (name.dataType().equals("ADT-00")) {
                if (run.counted.add(name.patientId())) {
                    run.patients++;
                }
                run.known.put(name.patientId(), mapped.patientResourceId());
            }
            run.resources += mapped.resources().size();
            run.line(Outcome.IMPORTED, rel, "-", null, mapped.resources().size());
        } catch (ImportLedger.AlreadyImported e) {
            run.line(Outcome.ALREADY, rel, "-", "取込済みです（同時に別の取込） / already imported (by another run)", 0);
        } catch (Hl7.Refused e) {
            run.line(Outcome.REFUSED, rel, e.where, e.getMessage(), 0);
        } catch (FhirError e) {
            String where = e.issues().isEmpty() || e.issues().get(0).expression() == null ? "-"
                    : e.issues().get(0).expression();
            run.line(Outcome.REFUSED, rel, where, "記録できません / not accepted by the record store: "
                    + Hl7.oneLine(e.getMessage()), 0);
        } catch (RuntimeException e) {
            run.line(Outcome.REFUSED, rel, "-", "取り込めません / cannot import: " + Hl7.oneLine(e.toString()), 0);
        }
    }

    static String reason(String rel) {
        String r = "SS-MIX2 からの移行 / migration from SS-MIX2: " + rel;
        return r.length() > 400 ? r.substring(0, 400) : r;
    }

    static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ export

    /**
     * Writes every patient with a 患者ID, and their allergies, prescription and injection orders and laboratory
     * results, as an SS-MIX2 standardized storage tree under {@code root} (a new or empty folder), run by {@code by}.
     */
    public Summary exportTree(Path root, Actor by, Consumer<Line> report) throws IOException {
        return new Exporter(this, recorder, by).export(root, report);
    }
}
