package jp.mamori.ssmix2;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.AbstractMessage;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.v25.group.OUL_R22_ORDER;
import ca.uhn.hl7v2.model.v25.group.RDE_O11_ORDER;
import ca.uhn.hl7v2.model.v25.message.ADT_A01;
import ca.uhn.hl7v2.model.v25.message.ADT_A60;
import ca.uhn.hl7v2.model.v25.message.OUL_R22;
import ca.uhn.hl7v2.model.v25.message.RDE_O11;
import jp.mamori.audit.Actor;
import jp.mamori.audit.AuditAction;
import jp.mamori.audit.AuditEvent;
import jp.mamori.audit.PatientRef;
import jp.mamori.audit.Purpose;
import jp.mamori.audit.AuditRecorder;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.Dosage;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Writes Mamori's patients and their allergies, prescription and injection orders and laboratory results as an SS-MIX2
 * standardized storage tree (our mapping back, {@link ToFhir} in reverse): one ADT-00 and one ADT-61 per patient
 * (date {@code -}), one OMP-01 or OMP-02 file per order, one OML-11 file per order's results, each in ISO-2022-JP
 * with MSH-18 {@code ~ISO IR87} and MSH-20 {@code ISO 2022-1994}. Patients are read a page at a time, and each
 * patient's records by patient, so memory stays flat whatever the size of the store.
 */
final class Exporter {
    private static final Pattern ORDER_NO = Pattern.compile("[0-9A-Za-z]{1,20}");
    private static final Pattern PATIENT_ID = Pattern.compile("[0-9A-Za-z]{6,20}");

    private final Ssmix2 owner;
    private final AuditRecorder recorder;
    private final RecordService records;
    private final Actor by;
    private int control;
    private String stamp;

    Exporter(Ssmix2 owner, AuditRecorder recorder, Actor by) {
        this.owner = owner;
        this.by = by;
        this.recorder = recorder;
        this.records = owner.records();
    }

    Ssmix2.Summary export(Path root, Consumer<Ssmix2.Line> report) throws IOException {
        long started = System.nanoTime();
        if (Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException("出力先がフォルダではありません / " + root + " is not a folder");
            }
            try (var s = Files.list(root)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("出力先のフォルダが空ではありません / " + root
                            + " is not empty: export writes into a new or empty folder only");
                }
            }
        }
        Files.createDirectories(root);
        stamp = LocalDateTime.now(Hl7.JST).format(DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSS"));
        long[] counts = new long[3]; // files, refused, resources
        long patients = 0;
        String cursor = null;
        do {
            Map<String, List<String>> q = new HashMap<>();
            q.put("_count", List.of("100"));
            if (cursor != null) {
                q.put("_cursor", List.of(cursor));
            }
            RecordService.SearchPage page = records.search(Ssmix2.EXPORTER, "Patient", q);
            for (RecordService.Stored s : page.matches()) {
                Patient p = (Patient) parse(s);
                String pid = p.getIdentifier().stream().filter(i -> ToFhir.PATIENT_ID_SYSTEM.equals(i.getSystem()))
                        .map(Identifier::getValue).findFirst().orElse(null);
                if (pid == null || !PATIENT_ID.matcher(pid).matches()) {
                    counts[1]++;
                    report.accept(new Ssmix2.Line(Ssmix2.Outcome.REFUSED, "Patient/" + s.id(), "identifier",
                            "患者ID（6〜20 桁の英数字）がありません / no patient ID (6 to 20 letters or digits) to file it"
                                    + " under", 0));
                    continue;
                }
                patients++;
                long filesBefore = counts[0];
                long resourcesBefore = counts[2];
                exportPatient(root, p, s.id(), pid, report, counts);
                // whose records left (AUDIT-1): one entry per patient, naming the patient and what was written
                recorder.append(AuditEvent.by(by, AuditAction.SSMIX2_EXPORT)
                        .purpose(Purpose.ADMINISTRATION).patient(PatientRef.of(s.id()))
                        .detail("root", root.toAbsolutePath().toString()).detail("patientId", pid)
                        .detail("files", Long.toString(counts[0] - filesBefore))
                        .detail("resources", Long.toString(counts[2] - resourcesBefore)).build());
            }
            cursor = page.nextCursor();
        } while (cursor != null);
        Ssmix2.Summary summary = new Ssmix2.Summary(UUID.randomUUID(), counts[0] + counts[1], counts[0], 0, 0,
                counts[1], counts[2], patients, (System.nanoTime() - started) / 1_000_000);
        Map<String, String> detail = new LinkedHashMap<>();
        detail.put("root", root.toAbsolutePath().toString());
        detail.put("files", Long.toString(counts[0]));
        detail.put("refused", Long.toString(counts[1]));
        detail.put("resources", Long.toString(counts[2]));
        detail.put("patients", Long.toString(patients));
        recorder.append(AuditEvent.by(by, AuditAction.SSMIX2_EXPORT).purpose(Purpose.ADMINISTRATION)
                .outcome(counts[1] == 0 ? jp.mamori.audit.Outcome.SUCCESS : jp.mamori.audit.Outcome.ERROR)
                .details(detail).build());
        return summary;
    }

    private static Resource parse(RecordService.Stored s) {
        return (Resource) FhirSupport.CTX.newJsonParser().parseResource(s.bodyText());
    }

    private <T extends Resource> List<T> forPatient(String type, String patientResourceId, Class<T> cls) {
        List<T> out = new ArrayList<>();
        String cursor = null;
        do {
            Map<String, List<String>> q = new HashMap<>();
            q.put("patient", List.of("Patient/" + patientResourceId));
            q.put("_count", List.of("500"));
            if (cursor != null) {
                q.put("_cursor", List.of(cursor));
            }
            RecordService.SearchPage page = records.search(Ssmix2.EXPORTER, type, q);
            for (RecordService.Stored s : page.matches()) {
                out.add(cls.cast(parse(s)));
            }
            cursor = page.nextCursor();
        } while (cursor != null);
        return out;
    }

    private void exportPatient(Path root, Patient p, String resourceId, String pid, Consumer<Ssmix2.Line> report,
                               long[] counts) throws IOException {
        write(root, new StorageName(pid, "-", "ADT-00", "-", stamp, "-", "1"), 1, report, counts,
                () -> adt00(p, pid));
        List<AllergyIntolerance> allergies = forPatient("AllergyIntolerance", resourceId, AllergyIntolerance.class);
        if (!allergies.isEmpty()) {
            allergies.sort(Comparator.comparing(a -> a.getIdentifierFirstRep().getValue() == null ? a.getIdPart()
                    : a.getIdentifierFirstRep().getValue()));
            write(root, new StorageName(pid, "-", "ADT-61", "-", stamp, "-", "1"), allergies.size(), report, counts,
                    () -> adt61(allergies, pid));
        }
        Map<String, List<MedicationRequest>> orders = new TreeMap<>();
        for (MedicationRequest m : forPatient("MedicationRequest", resourceId, MedicationRequest.class)) {
            String type = m.getCategory().stream().flatMap(c -> c.getCoding().stream())
                    .filter(c -> ToFhir.DATA_TYPE_SYSTEM.equals(c.getSystem())).map(Coding::getCode)
                    .filter(c -> c.equals("OMP-02")).findFirst().orElse("OMP-01");
            String orderNo = orderNo(m.getGroupIdentifier(), m.getIdPart());
            orders.computeIfAbsent(type + "|" + orderNo + "|" + day(m.getAuthoredOnElement()), k -> new ArrayList<>()).add(m);
        }
        for (Map.Entry<String, List<MedicationRequest>> e : orders.entrySet()) {
            String[] k = e.getKey().split("\\|");
            List<MedicationRequest> lines = e.getValue();
            lines.sort(Comparator.comparingInt(Exporter::line));
            write(root, new StorageName(pid, k[2], k[0], k[1], stamp, "-", "1"), lines.size(), report, counts,
                    () -> omp(lines, pid, k[1]));
        }
        Map<String, List<Observation>> results = new TreeMap<>();
        for (Observation o : forPatient("Observation", resourceId, Observation.class)) {
            boolean lab = o.getCategory().stream().flatMap(c -> c.getCoding().stream())
                    .anyMatch(c -> "laboratory".equals(c.getCode()));
            if (!lab) {
                continue;
            }
            Identifier basis = o.getBasedOn().stream().map(Reference::getIdentifier)
                    .filter(i -> ToFhir.ORDER_SYSTEM.equals(i.getSystem())).findFirst().orElse(null);
            String orderNo = orderNo(basis, o.getIdPart());
            results.computeIfAbsent(orderNo + "|" + day(o.hasEffectiveDateTimeType()
                    ? o.getEffectiveDateTimeType() : null), k -> new ArrayList<>()).add(o);
        }
        for (Map.Entry<String, List<Observation>> e : results.entrySet()) {
            String[] k = e.getKey().split("\\|");
            List<Observation> obs = e.getValue();
            obs.sort(Comparator.comparing(o -> o.getIdentifierFirstRep().getValue() == null ? o.getIdPart()
                    : o.getIdentifierFirstRep().getValue()));
            write(root, new StorageName(pid, k[1], "OML-11", k[0], stamp, "-", "1"), obs.size(), report, counts,
                    () -> oml11(obs, pid, k[0]));
        }
    }

    private static String orderNo(Identifier group, String resourceId) {
        if (group != null && ToFhir.ORDER_SYSTEM.equals(group.getSystem()) && group.getValue() != null
                && ORDER_NO.matcher(group.getValue()).matches()) {
            return group.getValue();
        }
        return resourceId.replace("-", "").substring(0, Math.min(20, resourceId.replace("-", "").length()));
    }

    private static int line(MedicationRequest m) {
        String v = m.getIdentifierFirstRep().getValue();
        if (v != null && v.lastIndexOf('-') > 0) {
            try {
                return Integer.parseInt(v.substring(v.lastIndexOf('-') + 1));
            } catch (NumberFormatException e) {
                return Integer.MAX_VALUE;
            }
        }
        return Integer.MAX_VALUE;
    }

    private static String day(org.hl7.fhir.r4.model.BaseDateTimeType t) {
        String s = Hl7.hl7Time(t);
        return s == null || s.length() < 8 ? "-" : s.substring(0, 8);
    }

    @FunctionalInterface
    private interface Build {
        AbstractMessage build() throws HL7Exception;
    }

    private void write(Path root, StorageName name, int resources, Consumer<Ssmix2.Line> report, long[] counts,
                       Build build) throws IOException {
        String rel = name.relativePath();
        try {
            String text = owner.hl7().encode(build.build());
            int[] replaced = {0};
            byte[] bytes = Jis.encode(text, replaced);
            Path dir = root.resolve(name.folder());
            Files.createDirectories(dir);
            Files.write(dir.resolve(name.fileName()), bytes, StandardOpenOption.CREATE_NEW);
            counts[0]++;
            counts[2] += resources;
            report.accept(new Ssmix2.Line(Ssmix2.Outcome.EXPORTED, rel, "-", replaced[0] == 0 ? null
                    : resources + " resources; JIS X 0208 にない文字 " + replaced[0] + " 字を ■ にしました / "
                    + replaced[0] + " characters outside JIS X 0208 written as ■", resources));
        } catch (HL7Exception e) {
            counts[1]++;
            report.accept(new Ssmix2.Line(Ssmix2.Outcome.REFUSED, rel, Hl7.where(e.getLocation()),
                    "HL7 v2 にできません / cannot write as HL7 v2: " + Hl7.oneLine(e.getMessage()), 0));
        }
    }

    // ------------------------------------------------------------------ messages

    private void header(Segment msh, String code, String event, String structure) throws HL7Exception {
        Hl7.set(msh, 1, 1, "|");
        Hl7.set(msh, 2, 1, "^~\\&");
        Hl7.set(msh, 3, 1, "MAMORI");
        Hl7.set(msh, 7, 1, stamp.substring(0, 14) + "." + stamp.substring(14));
        Hl7.set(msh, 9, 1, code);
        Hl7.set(msh, 9, 2, event);
        Hl7.set(msh, 9, 3, structure);
        Hl7.set(msh, 10, 1, stamp.substring(0, 14) + String.format("%06d", ++control));
        Hl7.set(msh, 11, 1, "P");
        Hl7.set(msh, 12, 1, "2.5");
        Hl7.set(msh, 18, 1, 1, "ISO IR87");
        Hl7.set(msh, 20, 1, "ISO 2022-1994");
    }

    private static void pid(Segment pid, String patientId) throws HL7Exception {
        Hl7.set(pid, 1, 1, "0001");
        Hl7.set(pid, 3, 1, patientId);
        Hl7.set(pid, 3, 5, "PI");
    }

    private AbstractMessage adt00(Patient p, String patientId) throws HL7Exception {
        ADT_A01 m = new ADT_A01();
        header(m.getMSH(), "ADT", "A08", "ADT_A01");
        Hl7.set(m.getEVN(), 2, 1, stamp.substring(0, 14));
        Segment pid = m.getPID();
        pid(pid, patientId);
        int rep = 0;
        for (HumanName n : p.getName()) {
            Extension ext = n.getExtensionByUrl(ToFhir.REPRESENTATION);
            String r = ext == null ? null : ext.getValue().primitiveValue();
            String family = n.getFamily();
            String given = n.getGivenAsSingleString();
            if (family == null && (given == null || given.isEmpty())) {
                continue;
            }
            Hl7.set(pid, 5, rep, 1, family);
            Hl7.set(pid, 5, rep, 2, given == null || given.isEmpty() ? null : given);
            Hl7.set(pid, 5, rep, 7, "L");
            Hl7.set(pid, 5, rep, 8, "IDE".equals(r) ? "I" : "SYL".equals(r) ? "P" : "ABC".equals(r) ? "A" : null);
            rep++;
        }
        if (p.hasBirthDate()) {
            Hl7.set(pid, 7, 1, p.getBirthDateElement().getValueAsString().replace("-", ""));
        }
        if (p.hasGender()) {
            Hl7.set(pid, 8, 1, switch (p.getGender()) {
                case MALE -> "M";
                case FEMALE -> "F";
                case OTHER -> "O";
                default -> "U";
            });
        }
        rep = 0;
        for (Address a : p.getAddress()) {
            String text = a.hasText() ? a.getText() : String.join(" ", a.getLine().stream().map(Object::toString)
                    .toList());
            Hl7.set(pid, 11, rep, 5, a.getPostalCode());
            Hl7.set(pid, 11, rep, 6, "JP".equals(a.getCountry()) ? "JPN" : a.getCountry());
            Hl7.set(pid, 11, rep, 7, a.getUse() == Address.AddressUse.HOME ? "H"
                    : a.getUse() == Address.AddressUse.WORK ? "B" : null);
            Hl7.set(pid, 11, rep, 8, text.isEmpty() ? null : text);
            rep++;
        }
        int home = 0;
        int work = 0;
        for (ContactPoint t : p.getTelecom()) {
            if (t.getSystem() != ContactPoint.ContactPointSystem.PHONE || !t.hasValue()) {
                continue;
            }
            boolean isWork = t.getUse() == ContactPoint.ContactPointUse.WORK;
            int field = isWork ? 14 : 13;
            int r = isWork ? work++ : home++;
            Hl7.set(pid, field, r, 2, isWork ? "WPN" : t.getUse() == ContactPoint.ContactPointUse.HOME ? "PRN"
                    : "ORN");
            Hl7.set(pid, field, r, 3, "PH");
            Hl7.set(pid, field, r, 12, t.getValue());
        }
        Hl7.set(m.getPV1(), 2, 1, "N");
        return m;
    }

    private AbstractMessage adt61(List<AllergyIntolerance> allergies, String patientId) throws HL7Exception {
        ADT_A60 m = new ADT_A60();
        header(m.getMSH(), "ADT", "A60", "ADT_A60");
        Hl7.set(m.getEVN(), 2, 1, stamp.substring(0, 14));
        pid(m.getPID(), patientId);
        Hl7.set(m.getPV1(), 2, 1, "N");
        for (int i = 0; i < allergies.size(); i++) {
            AllergyIntolerance a = allergies.get(i);
            Segment iam = m.getIAM(i);
            Hl7.set(iam, 1, 1, Integer.toString(i + 1));
            Extension kind = a.getExtensionByUrl("https://mamori.jp/fhir/StructureDefinition/ssmix2-allergen-type");
            String type = kind != null ? kind.getValue().primitiveValue()
                    : a.getCategory().isEmpty() ? null : switch (a.getCategory().get(0).getValue()) {
                        case MEDICATION -> "DA";
                        case FOOD -> "FA";
                        case ENVIRONMENT -> "EA";
                        default -> null;
                    };
            Hl7.set(iam, 2, 1, type);
            concept(iam, 3, a.getCode());
            if (a.hasCriticality()) {
                Hl7.set(iam, 4, 1, switch (a.getCriticality()) {
                    case HIGH -> "SV";
                    case LOW -> "MI";
                    default -> "U";
                });
            }
            if (a.hasReaction() && a.getReactionFirstRep().hasManifestation()) {
                Hl7.set(iam, 5, 1, a.getReactionFirstRep().getManifestationFirstRep().getText());
            }
            boolean inactive = a.getClinicalStatus().getCoding().stream().anyMatch(c -> "inactive".equals(c.getCode())
                    || "resolved".equals(c.getCode()));
            Hl7.set(iam, 6, 1, inactive ? "D" : "A");
            String key = a.getIdentifierFirstRep().getValue();
            if (key != null && key.startsWith(patientId + "-")) {
                Hl7.set(iam, 7, 1, key.substring(patientId.length() + 1));
            }
            if (a.hasOnsetDateTimeType()) {
                Hl7.set(iam, 11, 1, Hl7.hl7Time(a.getOnsetDateTimeType()));
            }
            if (a.hasRecordedDate()) {
                Hl7.set(iam, 13, 1, Hl7.hl7Time(a.getRecordedDateElement()));
            }
        }
        return m;
    }

    private AbstractMessage omp(List<MedicationRequest> lines, String patientId, String orderNo)
            throws HL7Exception {
        RDE_O11 m = new RDE_O11();
        header(m.getMSH(), "RDE", "O11", "RDE_O11");
        pid(m.getPATIENT().getPID(), patientId);
        Hl7.set(m.getPATIENT().getPATIENT_VISIT().getPV1(), 2, 1, "O");
        for (int i = 0; i < lines.size(); i++) {
            MedicationRequest r = lines.get(i);
            RDE_O11_ORDER order = m.getORDER(i);
            Segment orc = order.getORC();
            Hl7.set(orc, 1, 1, switch (r.getStatus()) {
                case CANCELLED -> "CA";
                case STOPPED -> "DC";
                default -> "NW";
            });
            Hl7.set(orc, 2, 1, orderNo);
            if (r.hasAuthoredOn()) {
                Hl7.set(orc, 9, 1, Hl7.hl7Time(r.getAuthoredOnElement()));
            }
            if (r.hasRequester() && r.getRequester().hasDisplay()) {
                String[] parts = r.getRequester().getDisplay().split("\u3000", 2);
                Hl7.set(orc, 12, 2, parts[0]);
                Hl7.set(orc, 12, 3, parts.length > 1 ? parts[1] : null);
            }
            Segment rxe = order.getRXE();
            concept(rxe, 2, r.getMedicationCodeableConcept());
            Dosage d = r.getDosageInstructionFirstRep();
            if (d.hasDoseAndRate() && d.getDoseAndRateFirstRep().hasDoseQuantity()) {
                quantity(rxe, 3, 5, d.getDoseAndRateFirstRep().getDoseQuantity());
            }
            if (r.getDispenseRequest().hasQuantity()) {
                quantity(rxe, 10, 11, r.getDispenseRequest().getQuantity());
            }
            Segment tq1 = order.getTIMING_ENCODED(0).getTQ1();
            Hl7.set(tq1, 1, 1, "1");
            Coding usage = d.getTiming().getCode().getCoding().stream()
                    .filter(c -> (ToFhir.CODE_PREFIX + "usage").equals(c.getSystem())).findFirst().orElse(null);
            if (usage != null) {
                Hl7.set(tq1, 3, 1, usage.getCode());
                Hl7.set(tq1, 3, 2, usage.getDisplay());
            } else if (d.hasText()) {
                Hl7.set(tq1, 3, 2, d.getText());
            }
            if (d.getTiming().getRepeat().hasBoundsPeriod()
                    && d.getTiming().getRepeat().getBoundsPeriod().hasStart()) {
                Hl7.set(tq1, 7, 1, Hl7.hl7Time(d.getTiming().getRepeat().getBoundsPeriod().getStartElement()));
            }
            if (d.hasRoute()) {
                concept(order.getRXR(0), 1, d.getRoute());
            }
        }
        return m;
    }

    private AbstractMessage oml11(List<Observation> obs, String patientId, String orderNo) throws HL7Exception {
        OUL_R22 m = new OUL_R22();
        header(m.getMSH(), "OUL", "R22", "OUL_R22");
        pid(m.getPATIENT().getPID(), patientId);
        Hl7.set(m.getVISIT().getPV1(), 2, 1, "O");
        Segment spm = m.getSPECIMEN(0).getSPM();
        Hl7.set(spm, 1, 1, "1");
        Hl7.set(spm, 4, 1, "UNK");
        OUL_R22_ORDER order = m.getSPECIMEN(0).getORDER(0);
        Segment obr = order.getOBR();
        Hl7.set(obr, 1, 1, "1");
        Hl7.set(obr, 2, 1, orderNo);
        Hl7.set(obr, 4, 2, "検体検査");
        Observation first = obs.get(0);
        if (first.hasEffectiveDateTimeType()) {
            Hl7.set(obr, 7, 1, Hl7.hl7Time(first.getEffectiveDateTimeType()));
        }
        for (int i = 0; i < obs.size(); i++) {
            Observation o = obs.get(i);
            Segment obx = order.getRESULT(i).getOBX();
            Hl7.set(obx, 1, 1, Integer.toString(i + 1));
            if (o.hasValueQuantity()) {
                Hl7.set(obx, 2, 1, "NM");
                quantity(obx, 5, 6, o.getValueQuantity());
            } else if (o.hasValueCodeableConcept()) {
                Hl7.set(obx, 2, 1, "CWE");
                concept(obx, 5, o.getValueCodeableConcept());
            } else if (o.hasValue()) {
                Hl7.set(obx, 2, 1, "ST");
                Hl7.set(obx, 5, 1, o.getValue().primitiveValue());
            }
            concept(obx, 3, o.getCode());
            if (o.hasReferenceRange()) {
                Hl7.set(obx, 7, 1, o.getReferenceRangeFirstRep().getText());
            }
            if (o.hasInterpretation()) {
                Hl7.set(obx, 8, 1, o.getInterpretationFirstRep().getCodingFirstRep().getCode());
            }
            Hl7.set(obx, 11, 1, switch (o.getStatus()) {
                case CORRECTED, AMENDED -> "C";
                case PRELIMINARY, REGISTERED -> "P";
                case CANCELLED -> "X";
                case ENTEREDINERROR -> "W";
                default -> "F";
            });
            if (o.hasEffectiveDateTimeType()) {
                Hl7.set(obx, 14, 1, Hl7.hl7Time(o.getEffectiveDateTimeType()));
            }
        }
        return m;
    }

    private static String system(String fhirSystem) {
        if (fhirSystem == null) {
            return null;
        }
        if (fhirSystem.startsWith(ToFhir.CODE_PREFIX)) {
            String s = fhirSystem.substring(ToFhir.CODE_PREFIX.length());
            return s.equals("local") ? null : s;
        }
        return fhirSystem.equals("http://loinc.org") ? "LN" : null;
    }

    private static void concept(Segment s, int field, CodeableConcept c) throws HL7Exception {
        if (c == null || c.isEmpty()) {
            return;
        }
        Coding coding = c.getCodingFirstRep();
        Hl7.set(s, field, 1, coding.getCode());
        Hl7.set(s, field, 2, c.hasText() ? c.getText() : coding.getDisplay());
        Hl7.set(s, field, 3, coding.hasCode() ? system(coding.getSystem()) : null);
    }

    private static void quantity(Segment s, int valueField, int unitField, Quantity q) throws HL7Exception {
        if (q.hasValue()) {
            Hl7.set(s, valueField, 1, q.getValue().toPlainString());
        }
        if (q.hasCode()) {
            Hl7.set(s, unitField, 1, q.getCode());
            if (q.hasUnit() && !q.getUnit().equals(q.getCode())) {
                Hl7.set(s, unitField, 2, q.getUnit());
            }
            Hl7.set(s, unitField, 3, system(q.getSystem()));
        } else if (q.hasUnit()) {
            Hl7.set(s, unitField, 2, q.getUnit());
        }
    }
}
