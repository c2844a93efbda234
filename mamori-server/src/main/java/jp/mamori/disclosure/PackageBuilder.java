package jp.mamori.disclosure;

import jp.mamori.audit.AuditReports;
import jp.mamori.chart.ChartPdf;
import jp.mamori.chart.JpDates;
import jp.mamori.chart.ReportPdf;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.signatures.PdfSeal;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Builds one disclosure package: reads the kinds decided through {@link RecordService} (as {@link Disclosures#READER},
 * page by page, at most {@link Disclosures#MAX_PER_KIND} of a kind), prints them with {@link ChartPdf#disclosure},
 * writes the same stored resources as a FHIR Bundle of type collection, prints the access report from the audit trail
 * with {@link ReportPdf} (time, person, role, department, what in words, purpose: never which other patients an entry
 * named), seals the PDFs when a seal exists, and zips them with a manifest of their SHA-256 hashes.
 */
final class PackageBuilder {
    static final String PDF = "disclosure.pdf";
    static final String BUNDLE = "records.json";
    static final String ACCESS = "access-report.pdf";
    static final String MANIFEST = "manifest.json";

    private final RecordService records;
    private final AuditReports reports;
    private final PdfSeal seal;
    private final JpDates dates;
    private final String institution;
    private final String fhirBase;

    PackageBuilder(RecordService records, AuditReports reports, PdfSeal seal, ZoneId zone, String institution,
                   String fhirBase) {
        this.records = records;
        this.reports = reports;
        this.seal = seal;
        this.dates = new JpDates(zone);
        this.institution = institution;
        this.fhirBase = fhirBase;
    }

    record Built(byte[] zip, String zipSha256, Map<String, String> files, int resources, boolean sealed) {
    }

    Built build(java.util.UUID id, Disclosures.Request rq, Disclosures.Decision d, Disclosures.Words words,
                String producedBy, Instant now) {
        RecordService.Stored patientStored;
        try {
            patientStored = records.read(Disclosures.READER, "Patient", rq.patientId());
        } catch (FhirError e) {
            throw new Disclosures.Refusal("患者が見つかりません / No such patient");
        }
        Patient patient = (Patient) FhirSupport.parseStored(patientStored.bodyText());
        List<RecordService.Stored> stored = new ArrayList<>();
        stored.add(patientStored);
        Map<Kind, List<RecordService.Stored>> byKind = new LinkedHashMap<>();
        for (Kind k : Kind.values()) {
            if (d.kinds().contains(k)) {
                List<RecordService.Stored> found = gather(k, rq.patientId(), d.from(), d.to());
                byKind.put(k, found);
                stored.addAll(found);
            }
        }
        ChartPdf.Patient header = header(patient);
        ChartPdf.Printing printing = new ChartPdf.Printing(producedBy, now, dates, institution);
        List<String> keys = new ArrayList<>();
        for (RecordService.Stored st : stored) {
            keys.add(st.type() + "/" + st.id() + "/_history/" + st.version() + " " + st.contentSha256());
        }
        ChartPdf.Trace trace = new ChartPdf.Trace("開示 " + id, "1", ChartPdf.fingerprint(keys));
        byte[] pdf = ChartPdf.disclosure(header, summary(trace, byKind), preface(rq, d, id),
                passages(byKind.getOrDefault(Kind.NOTES, List.of())), printing);
        Map<String, byte[]> files = new LinkedHashMap<>();
        boolean sealed = seal != null;
        files.put(PDF, sealed(pdf));
        files.put(BUNDLE, bundle(id, stored, now));
        if (d.accessFrom() != null) {
            files.put(ACCESS, sealed(accessReport(rq.patientId(), header, d, words, producedBy, now)));
        }
        Map<String, String> hashes = new LinkedHashMap<>();
        files.forEach((name, bytes) -> hashes.put(name, sha256(bytes)));
        byte[] manifest = manifest(id, rq, hashes, files, sealed, now, stored.size());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out, StandardCharsets.UTF_8)) {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                entry(zip, f.getKey(), f.getValue(), now);
            }
            entry(zip, MANIFEST, manifest, now);
        } catch (IOException e) {
            throw new UncheckedIOException("the package could not be zipped", e);
        }
        hashes.put(MANIFEST, sha256(manifest));
        byte[] zip = out.toByteArray();
        return new Built(zip, sha256(zip), hashes, stored.size(), sealed);
    }

    private byte[] sealed(byte[] pdf) {
        if (seal == null) {
            return pdf;
        }
        try {
            return seal.seal(pdf).pdf();
        } catch (RuntimeException e) {
            // nothing unsealed leaves when a seal is configured (as the inspection pack)
            throw new Disclosures.Refusal("組織の署名を付けられませんでした。時間をおいて再度お試しください / The institution's seal"
                    + " could not be applied; try again later (" + e.getMessage() + ")");
        }
    }

    private static void entry(ZipOutputStream zip, String name, byte[] bytes, Instant now) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setTime(now.toEpochMilli());
        zip.putNextEntry(e);
        zip.write(bytes);
        zip.closeEntry();
    }

    // ---------------------------------------------------------------- reading

    /** Every resource of the kind for the patient (in the period, for kinds by period), at most the bound. */
    private List<RecordService.Stored> gather(Kind k, String pid, LocalDate from, LocalDate to) {
        List<RecordService.Stored> out = new ArrayList<>();
        for (Kind.Source s : k.sources) {
            String cursor = null;
            do {
                Map<String, List<String>> p = new LinkedHashMap<>();
                p.put(s.patientParam(), List.of("Patient/" + pid));
                if (s.dateParam() != null && (from != null || to != null)) {
                    List<String> range = new ArrayList<>();
                    if (from != null) {
                        range.add("ge" + from);
                    }
                    if (to != null) {
                        range.add("le" + to);
                    }
                    p.put(s.dateParam(), range);
                }
                p.put("_count", List.of("200"));
                if (cursor != null) {
                    p.put("_cursor", List.of(cursor));
                }
                RecordService.SearchPage page = records.search(Disclosures.READER, s.type(), p);
                for (RecordService.Stored st : page.matches()) {
                    if (!st.deleted()) {
                        out.add(st);
                    }
                }
                if (out.size() > Disclosures.MAX_PER_KIND) {
                    throw new Disclosures.Refusal(k.ja + "が" + Disclosures.MAX_PER_KIND + "件を超えます。期間を分けて作成して"
                            + "ください / More than " + Disclosures.MAX_PER_KIND + " " + k.en.toLowerCase()
                            + ": produce the package in shorter periods");
                }
                cursor = page.nextCursor();
            } while (cursor != null);
        }
        return out;
    }

    // ---------------------------------------------------------------- the readable PDF

    private ChartPdf.Patient header(Patient p) {
        String name = null;
        String kana = null;
        for (HumanName n : p.getName()) {
            boolean isKana = n.getExtension().stream().anyMatch(x -> "SYL".equals(x.getValue() == null ? null
                    : x.getValue().primitiveValue()));
            String text = n.hasText() ? n.getText() : (n.getFamily() == null ? "" : n.getFamily())
                    + (n.hasGiven() ? "\u3000" + n.getGivenAsSingleString() : "");
            if (isKana && kana == null) {
                kana = text;
            } else if (name == null) {
                name = text;
            }
        }
        String ident = p.getIdentifier().isEmpty() ? null : p.getIdentifierFirstRep().getValue();
        String sex = p.getGender() == null ? null : switch (p.getGender()) {
            case MALE -> "男";
            case FEMALE -> "女";
            case OTHER -> "その他";
            default -> null;
        };
        LocalDate birth = p.hasBirthDate() ? LocalDate.parse(p.getBirthDateElement().getValueAsString()
                .length() == 10 ? p.getBirthDateElement().getValueAsString() : p.getBirthDateElement()
                .getValueAsString().substring(0, 4) + "-01-01") : null;
        return new ChartPdf.Patient(name, kana, ident, sex, birth);
    }

    private List<String> preface(Disclosures.Request rq, Disclosures.Decision d, java.util.UUID id) {
        List<String> out = new ArrayList<>();
        String who = switch (rq.requesterKind()) {
            case "patient" -> "本人";
            case "representative" -> "法定代理人";
            default -> "その他";
        };
        out.add("請求者 Requester: " + rq.requesterName() + "（" + who + (rq.relationship() == null ? ""
                : "・" + rq.relationship()) + "）   受付日 Received: " + dates.date(rq.receivedOn(), JpDates.Lang.JA));
        out.add("請求の内容 Request: " + rq.asked());
        List<String> kinds = new ArrayList<>();
        for (Kind k : Kind.values()) {
            if (d.kinds().contains(k)) {
                kinds.add(k.ja);
            }
        }
        out.add("開示する記録 Disclosed: " + String.join("、", kinds));
        out.add("期間 Period: " + (d.from() == null && d.to() == null ? "全期間 (all)"
                : (d.from() == null ? "" : dates.date(d.from(), JpDates.Lang.JA)) + " 〜 "
                + (d.to() == null ? "" : dates.date(d.to(), JpDates.Lang.JA)))
                + "（アレルギー・病名は期間によらず現在の一覧 / allergies and problems: the current lists）");
        for (Disclosures.Withheld w : d.withheld()) {
            out.add("開示しない記録 Withheld: " + w.kind().ja + " — 理由 Reason: " + w.reason());
        }
        out.add("開示番号 Disclosure: " + id);
        return out;
    }

    private ChartPdf.ChartSummary summary(ChartPdf.Trace trace, Map<Kind, List<RecordService.Stored>> byKind) {
        List<String> alerts = new ArrayList<>();
        List<ChartPdf.Problem> problems = new ArrayList<>();
        List<ChartPdf.Allergy> allergies = new ArrayList<>();
        List<ChartPdf.Medication> medications = new ArrayList<>();
        Map<String, List<ChartPdf.Result>> results = new LinkedHashMap<>();
        Map<String, String> units = new LinkedHashMap<>();
        List<ChartPdf.NoteEntry> notes = new ArrayList<>();
        for (Map.Entry<Kind, List<RecordService.Stored>> e : byKind.entrySet()) {
            for (RecordService.Stored st : e.getValue()) {
                Resource r = (Resource) FhirSupport.parseStored(st.bodyText());
                switch (r) {
                    case AllergyIntolerance a -> {
                        String substance = text(a.getCode());
                        allergies.add(new ChartPdf.Allergy(substance, a.hasReaction() && a.getReactionFirstRep()
                                .hasManifestation() ? text(a.getReactionFirstRep().getManifestationFirstRep()) : "",
                                a.getCriticality() == null ? "" : ChartPdf.criticalityLabel(a.getCriticality().toCode())));
                        alerts.add("アレルギー " + substance);
                    }
                    case Condition c -> problems.add(new ChartPdf.Problem(text(c.getCode()),
                            c.hasOnsetDateTimeType() ? dates.date(c.getOnsetDateTimeType().getValue().toInstant(),
                                    JpDates.Lang.JA) : "", c.hasClinicalStatus() ? clinicalStatus(c.getClinicalStatus())
                            : ""));
                    case MedicationRequest m -> medications.add(new ChartPdf.Medication(
                            m.hasMedicationCodeableConcept() ? text(m.getMedicationCodeableConcept())
                                    : m.hasMedicationReference() ? display(m.getMedicationReference()) : "",
                            m.hasDosageInstruction() ? m.getDosageInstructionFirstRep().getText() : "",
                            m.hasAuthoredOn() ? dates.date(m.getAuthoredOn().toInstant(), JpDates.Lang.JA) : "",
                            m.getStatus() == null ? "" : ChartPdf.medicationStatusLabel(m.getStatus().toCode())));
                    case Observation o -> {
                        String name = text(o.getCode());
                        Instant t = o.hasEffectiveDateTimeType() ? o.getEffectiveDateTimeType().getValue().toInstant()
                                : o.hasIssued() ? o.getIssued().toInstant() : st.lastUpdated();
                        String value;
                        String unit = "";
                        if (o.hasValueQuantity()) {
                            Quantity q = o.getValueQuantity();
                            value = q.getValue() == null ? "" : q.getValue().toPlainString();
                            unit = q.getUnit() == null ? "" : q.getUnit();
                        } else if (o.hasValueStringType()) {
                            value = o.getValueStringType().getValue();
                        } else if (o.hasValueCodeableConcept()) {
                            value = text(o.getValueCodeableConcept());
                        } else {
                            value = "";
                        }
                        String flag = o.hasInterpretation() ? o.getInterpretationFirstRep().getCodingFirstRep()
                                .getCode() : "";
                        String range = "";
                        if (o.hasReferenceRange()) {
                            var rr = o.getReferenceRangeFirstRep();
                            range = rr.hasText() ? rr.getText() : (rr.hasLow() ? rr.getLow().getValue().toPlainString()
                                    : "") + "–" + (rr.hasHigh() ? rr.getHigh().getValue().toPlainString() : "");
                        }
                        results.computeIfAbsent(name, x -> new ArrayList<>()).add(new ChartPdf.Result(t, value, flag,
                                range));
                        units.putIfAbsent(name, unit);
                    }
                    case Composition c -> notes.add(new ChartPdf.NoteEntry(c.hasDate() ? c.getDate().toInstant()
                            : null, c.getTitle(), c.hasAuthor() ? display(c.getAuthorFirstRep()) : "",
                            c.getStatus() == null ? "" : c.getStatus().toCode(), Integer.toString(st.version())));
                    case DocumentReference dr -> notes.add(new ChartPdf.NoteEntry(dr.hasDate() ? dr.getDate()
                            .toInstant() : null, dr.hasDescription() ? dr.getDescription() : text(dr.getType()),
                            dr.hasAuthor() ? display(dr.getAuthorFirstRep()) : "",
                            dr.getDocStatus() == null ? "" : dr.getDocStatus().toCode(), Integer.toString(st.version())));
                    default -> {
                    }
                }
            }
        }
        List<ChartPdf.ResultTable> tables = new ArrayList<>();
        results.forEach((name, rs) -> {
            rs.sort(Comparator.comparing(ChartPdf.Result::time).reversed());
            tables.add(new ChartPdf.ResultTable(name, units.get(name), rs));
        });
        notes.sort(Comparator.comparing(ChartPdf.NoteEntry::date, Comparator.nullsLast(Comparator.reverseOrder())));
        return new ChartPdf.ChartSummary(trace, alerts, problems, allergies, medications, tables, notes);
    }

    private List<ChartPdf.Passage> passages(List<RecordService.Stored> notes) {
        List<ChartPdf.Passage> out = new ArrayList<>();
        for (RecordService.Stored st : notes) {
            Resource r = (Resource) FhirSupport.parseStored(st.bodyText());
            if (r instanceof Composition c) {
                StringBuilder text = new StringBuilder();
                for (Composition.SectionComponent s : c.getSection()) {
                    if (s.hasTitle()) {
                        text.append(s.getTitle()).append('\n');
                    }
                    if (s.hasText() && s.getText().hasDiv()) {
                        text.append(plain(s.getText().getDivAsString())).append('\n');
                    }
                }
                out.add(new ChartPdf.Passage((c.hasDate() ? dates.dateTime(c.getDate().toInstant(), JpDates.Lang.JA)
                        + "  " : "") + (c.getTitle() == null ? "経過記録" : c.getTitle()) + (c.hasAuthor() ? "  "
                        + display(c.getAuthorFirstRep()) : ""), text.toString().strip()));
            } else if (r instanceof DocumentReference dr) {
                StringBuilder text = new StringBuilder();
                for (var content : dr.getContent()) {
                    var a = content.getAttachment();
                    if (a.hasData() && a.getContentType() != null && a.getContentType().startsWith("text/plain")) {
                        text.append(new String(a.getData(), StandardCharsets.UTF_8)).append('\n');
                    } else if (a.hasTitle() || a.hasContentType()) {
                        text.append("添付 Attachment: ").append(a.hasTitle() ? a.getTitle() : "")
                                .append(a.hasContentType() ? "（" + a.getContentType() + "、" + "記録の Bundle に収録）"
                                        : "").append('\n');
                    }
                }
                out.add(new ChartPdf.Passage((dr.hasDate() ? dates.dateTime(dr.getDate().toInstant(), JpDates.Lang.JA)
                        + "  " : "") + (dr.hasDescription() ? dr.getDescription() : text(dr.getType())),
                        text.toString().strip()));
            }
        }
        return out;
    }

    private static String plain(String xhtml) {
        return xhtml.replaceAll("(?i)<br\\s*/?>|</p>|</div>|</li>", "\n").replaceAll("<[^>]+>", "")
                .replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&amp;", "&").replaceAll("\n{3,}", "\n\n").strip();
    }

    private static String clinicalStatus(CodeableConcept c) {
        String code = c.getCodingFirstRep().getCode();
        if (code == null) {
            return text(c);
        }
        return switch (code) {
            case "active" -> "活動性";
            case "recurrence" -> "再発";
            case "relapse" -> "再燃";
            case "inactive" -> "非活動性";
            case "remission" -> "寛解";
            case "resolved" -> "治癒";
            default -> code;
        };
    }

    static String text(CodeableConcept c) {
        if (c == null) {
            return "";
        }
        if (c.hasText()) {
            return c.getText();
        }
        for (var coding : c.getCoding()) {
            if (coding.hasDisplay()) {
                return coding.getDisplay();
            }
        }
        return c.hasCoding() && c.getCodingFirstRep().hasCode() ? c.getCodingFirstRep().getCode() : "";
    }

    private static String display(Reference r) {
        return r.hasDisplay() ? r.getDisplay() : "";
    }

    // ---------------------------------------------------------------- the Bundle and the manifest

    /** The stored resources as they are (their canonical JSON), in a Bundle of type collection. */
    private byte[] bundle(java.util.UUID id, List<RecordService.Stored> stored, Instant now) {
        StringBuilder sb = new StringBuilder(64 * 1024);
        sb.append("{\"resourceType\":\"Bundle\",\"id\":\"").append(id).append("\",\"meta\":{\"lastUpdated\":\"")
                .append(now).append("\"},\"type\":\"collection\",\"timestamp\":\"").append(now)
                .append("\",\"entry\":[");
        boolean first = true;
        for (RecordService.Stored st : stored) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append("{\"fullUrl\":\"").append(fhirBase).append('/').append(st.type()).append('/').append(st.id())
                    .append("\",\"resource\":").append(st.bodyText()).append('}');
        }
        sb.append("]}");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private byte[] manifest(java.util.UUID id, Disclosures.Request rq, Map<String, String> hashes,
                            Map<String, byte[]> files, boolean sealed, Instant now, int resources) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\"disclosure\":\"").append(id).append("\",\"request\":\"").append(rq.id())
                .append("\",\"patient\":\"").append(rq.patientId()).append("\",\"producedAt\":\"").append(now)
                .append("\",\"institution\":").append(quote(institution)).append(",\"resources\":").append(resources)
                .append(",\"sealed\":").append(sealed).append(",\"signature\":").append(quote(sealed
                        ? "PDFs sealed with the institution's seal (PAdES) / PDF に組織の署名あり"
                        : "unsigned: no institution seal is configured / 組織の署名は未設定のため署名なし"))
                .append(",\"files\":[");
        boolean first = true;
        for (Map.Entry<String, String> h : hashes.entrySet()) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            sb.append("{\"name\":").append(quote(h.getKey())).append(",\"bytes\":").append(files.get(h.getKey()).length)
                    .append(",\"sha256\":\"").append(h.getValue()).append("\"}");
        }
        sb.append("]}");
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char ch : (s == null ? "" : s).toCharArray()) {
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (ch < 0x20) {
                        sb.append(String.format("\\u%04x", (int) ch));
                    } else {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- the access report

    /**
     * Who accessed the patient's record in the period, from the trail's entries that name the patient: when, who
     * (name, role, department), what in words, and the purpose; never the other patients or records an entry named.
     */
    private byte[] accessReport(String pid, ChartPdf.Patient p, Disclosures.Decision d, Disclosures.Words words,
                                String producedBy, Instant now) {
        Instant from = d.accessFrom().atStartOfDay(dates.zone()).toInstant();
        Instant to = d.accessTo().plusDays(1).atStartOfDay(dates.zone()).toInstant();
        List<AuditReports.Row> entries = reports.patientAccess(pid, from, to, Disclosures.MAX_ACCESS_ROWS + 1);
        boolean cut = entries.size() > Disclosures.MAX_ACCESS_ROWS;
        List<List<String>> rows = new ArrayList<>();
        for (AuditReports.Row e : entries.subList(0, Math.min(entries.size(), Disclosures.MAX_ACCESS_ROWS))) {
            String who = e.display() != null && !e.display().isBlank() ? e.display()
                    : e.actor().startsWith("system:") ? "システム（" + e.actor().substring(7) + "）" : e.actor();
            rows.add(List.of(dates.dateTime(e.at(), JpDates.Lang.JA), who,
                    words.roles(e.roles() == null ? List.of() : e.roles()), e.department() == null ? ""
                            : e.department(), words.action(e.action()), words.purpose(e.purpose())));
        }
        List<String> about = new ArrayList<>();
        about.add("患者 Patient: " + (p.name() == null ? "" : p.name()) + "（患者ID " + (p.patientId() == null ? "-"
                : p.patientId()) + "）");
        about.add("期間 Period: " + dates.date(d.accessFrom(), JpDates.Lang.JA) + " 〜 "
                + dates.date(d.accessTo(), JpDates.Lang.JA) + "（" + dates.zone() + "）");
        about.add("件数 Entries: " + rows.size());
        ReportPdf.Report report = new ReportPdf.Report(institution, "診療記録へのアクセス記録 (Access to the record)", about,
                List.of("日時", "利用者", "職種", "所属", "操作", "目的"),
                new float[]{0.18f, 0.18f, 0.16f, 0.16f, 0.2f, 0.12f}, rows, "この期間のアクセスはありません / No access in"
                + " this period", cut ? "最初の " + Disclosures.MAX_ACCESS_ROWS + " 件を記載しています。期間を分けて作成して"
                + "ください / The first " + Disclosures.MAX_ACCESS_ROWS + " entries; produce shorter periods" : null,
                "監査証跡より作成 / From the audit trail");
        return ReportPdf.render(report, producedBy, now, dates);
    }
}
