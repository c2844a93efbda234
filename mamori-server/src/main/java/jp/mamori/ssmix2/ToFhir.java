package jp.mamori.ssmix2;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.model.v25.group.OUL_R22_ORDER;
import ca.uhn.hl7v2.model.v25.group.OUL_R22_SPECIMEN;
import ca.uhn.hl7v2.model.v25.group.RDE_O11_ORDER;
import ca.uhn.hl7v2.model.v25.message.ADT_A60;
import ca.uhn.hl7v2.model.v25.message.OUL_R22;
import ca.uhn.hl7v2.model.v25.message.RDE_O11;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Dosage;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Our mapping of the SS-MIX2 data types we import to FHIR R4 (see docs/ssmix2.md for the table): ADT-00 (ADT^A08)
 * to Patient, ADT-61 (ADT^A60, IAM) to AllergyIntolerance, OMP-01 and OMP-02 (RDE^O11, ORC/RXE/TQ1/RXR) to
 * MedicationRequest, OML-11 (OUL^R22, OBR/OBX) to Observation. Every resource's id is derived from the patient ID and
 * what identifies the item in the source (the order number and line, the allergen, the result's code), so a message
 * imported again, or a corrected copy of it, gives the same resources new versions instead of duplicates.
 */
final class ToFhir {
    /** 患者ID: the system Mamori's patients carry their hospital patient ID in (as the demo data and the console). */
    static final String PATIENT_ID_SYSTEM = "urn:oid:1.2.392.100495.20.3.51.1";
    static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    static final String ORIGIN_SYSTEM = "https://mamori.jp/fhir/CodeSystem/data-origin";
    static final String ORIGIN_CODE = "ssmix2";
    /** The tag naming the source file, by its path below the storage root. */
    static final String SOURCE_SYSTEM = "https://mamori.jp/fhir/CodeSystem/ssmix2-source-file";
    static final String DATA_TYPE_SYSTEM = "https://mamori.jp/fhir/CodeSystem/ssmix2-data-type";
    static final String ORDER_SYSTEM = "urn:mamori:ssmix2:order";
    static final String RESULT_SYSTEM = "urn:mamori:ssmix2:result";
    static final String ALLERGY_SYSTEM = "urn:mamori:ssmix2:allergy";
    /** An HL7 v2 coding system name (HOT9, JC10, 99XYZ …) kept as it was, so that export writes it back. */
    static final String CODE_PREFIX = "urn:mamori:ssmix2:code:";

    /** Finds a patient in Mamori by 患者ID; returns its resource id, or null; refuses when several have it. */
    interface Patients {
        String find(String patientId) throws Hl7.Refused;
    }

    /** What a message becomes: resources with their ids, and the patient they are about. */
    record Mapped(List<Resource> resources, String patientResourceId) {
    }

    private ToFhir() {
    }

    static String idFor(String... parts) {
        return UUID.nameUUIDFromBytes(("ssmix2|" + String.join("|", parts)).getBytes(StandardCharsets.UTF_8))
                .toString();
    }

    static Mapped map(StorageName name, Message m, String source, Patients patients) throws Hl7.Refused {
        Segment msh = segment(m, "MSH");
        String type = Hl7.get(msh, 9, 1) + "^" + Hl7.get(msh, 9, 2);
        Segment pid = segment(m, "PID");
        String pidId = Hl7.get(pid, 3, 1);
        if (pidId == null || !pidId.equals(name.patientId())) {
            throw new Hl7.Refused("PID-3", "PID-3 の患者ID（" + pidId + "）がファイル名（" + name.patientId()
                    + "）と違います / the patient ID in PID-3 differs from the file name's");
        }
        List<Resource> out = new ArrayList<>();
        String patientId = name.patientId();
        switch (name.dataType()) {
            case "ADT-00" -> {
                expect(type, name, "ADT^A08");
                String existing = patients.find(patientId);
                Patient p = patient(pid, patientId);
                p.setId(existing != null ? existing : idFor("Patient", patientId));
                out.add(p);
                return tagged(out, source, name, p.getIdPart());
            }
            case "ADT-61" -> {
                expect(type, name, "ADT^A60");
                String subject = requirePatient(patients, patientId);
                ADT_A60 a = (ADT_A60) m;
                for (int i = 0; i < a.getIAMReps(); i++) {
                    out.add(allergy(a.getIAM(i), patientId, subject, i));
                }
                return tagged(out, source, name, subject);
            }
            case "OMP-01", "OMP-02" -> {
                expect(type, name, "RDE^O11");
                String subject = requirePatient(patients, patientId);
                RDE_O11 r = (RDE_O11) m;
                Map<String, Integer> lines = new HashMap<>();
                for (int i = 0; i < r.getORDERReps(); i++) {
                    out.add(medication(r.getORDER(i), name, subject, msh, lines));
                }
                return tagged(out, source, name, subject);
            }
            case "OML-11" -> {
                expect(type, name, "OUL^R22");
                String subject = requirePatient(patients, patientId);
                OUL_R22 o = (OUL_R22) m;
                Map<String, Integer> seen = new HashMap<>();
                for (int s = 0; s < o.getSPECIMENReps(); s++) {
                    OUL_R22_SPECIMEN sp = o.getSPECIMEN(s);
                    for (int g = 0; g < sp.getORDERReps(); g++) {
                        OUL_R22_ORDER order = sp.getORDER(g);
                        for (int x = 0; x < order.getRESULTReps(); x++) {
                            out.add(result(order, order.getRESULT(x).getOBX(), name, subject, seen));
                        }
                    }
                }
                return tagged(out, source, name, subject);
            }
            default -> throw new Hl7.Refused("-", "データ種別 " + name.dataType() + " は取り込めません / data type not"
                    + " imported");
        }
    }

    private static void expect(String type, StorageName name, String wanted) throws Hl7.Refused {
        if (!type.equals(wanted)) {
            throw new Hl7.Refused("MSH-9", "データ種別 " + name.dataType() + " のメッセージ型は " + wanted + " です（"
                    + type + "） / " + name.dataType() + " holds " + wanted + ", not " + type);
        }
    }

    private static String requirePatient(Patients patients, String patientId) throws Hl7.Refused {
        String id = patients.find(patientId);
        if (id == null) {
            throw new Hl7.Refused("PID-3", "患者ID " + patientId + " の患者が見つかりません（ADT-00 がありません） / no"
                    + " patient with this ID in Mamori (no ADT-00 imported for it)");
        }
        return id;
    }

    private static Mapped tagged(List<Resource> out, String source, StorageName name, String subject) {
        for (Resource r : out) {
            r.getMeta().addTag(ORIGIN_SYSTEM, ORIGIN_CODE, "SS-MIX2 からの移行 / migrated from SS-MIX2");
            r.getMeta().addTag(SOURCE_SYSTEM, source, name.dataType());
        }
        return new Mapped(out, subject);
    }

    static Segment segment(Message m, String name) throws Hl7.Refused {
        try {
            Segment s = find(m, name);
            if (s == null || s.isEmpty()) {
                throw new Hl7.Refused(name, name + " セグメントがありません / no " + name + " segment");
            }
            return s;
        } catch (HL7Exception e) {
            throw new Hl7.Refused(name, name + " セグメントを読めません / cannot read " + name + ": "
                    + Hl7.oneLine(e.getMessage()));
        }
    }

    private static Segment find(ca.uhn.hl7v2.model.Group g, String name) throws HL7Exception {
        for (String n : g.getNames()) {
            for (Structure s : g.getAll(n)) {
                if (s instanceof Segment seg && seg.getName().equals(name)) {
                    return seg;
                }
                if (s instanceof ca.uhn.hl7v2.model.Group child) {
                    Segment found = find(child, name);
                    if (found != null) {
                        return found;
                    }
                }
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ ADT-00

    static Patient patient(Segment pid, String patientId) throws Hl7.Refused {
        Patient p = new Patient();
        p.addIdentifier().setSystem(PATIENT_ID_SYSTEM).setValue(patientId);
        for (int i = 0; i < Hl7.reps(pid, 5); i++) {
            String family = Hl7.get(pid, 5, i, 1);
            String given = Hl7.get(pid, 5, i, 2);
            if (family == null && given == null) {
                continue;
            }
            String representation = Hl7.get(pid, 5, i, 8);
            HumanName n = p.addName().setUse(HumanName.NameUse.OFFICIAL);
            if ("I".equals(representation)) {
                n.addExtension(REPRESENTATION, new CodeType("IDE"));
            } else if ("P".equals(representation)) {
                n.addExtension(REPRESENTATION, new CodeType("SYL"));
            } else if ("A".equals(representation)) {
                n.addExtension(REPRESENTATION, new CodeType("ABC"));
            }
            n.setFamily(family);
            if (given != null) {
                n.addGiven(given);
            }
            n.setText(family == null ? given : given == null ? family : family + "\u3000" + given);
        }
        String birth = Hl7.get(pid, 7, 1);
        if (birth != null) {
            String d = Hl7.dateTime(birth.length() > 8 ? birth.substring(0, 8) : birth, "PID-7");
            p.setBirthDateElement(new DateType(d));
        }
        String sex = Hl7.get(pid, 8, 1);
        if (sex != null) {
            p.setGender(switch (sex) {
                case "M" -> Enumerations.AdministrativeGender.MALE;
                case "F" -> Enumerations.AdministrativeGender.FEMALE;
                case "O" -> Enumerations.AdministrativeGender.OTHER;
                case "U" -> Enumerations.AdministrativeGender.UNKNOWN;
                default -> throw new Hl7.Refused("PID-8", "性別コードが不正です / unknown sex code " + sex);
            });
        }
        for (int i = 0; i < Hl7.reps(pid, 11); i++) {
            String text = Hl7.get(pid, 11, i, 8);
            String zip = Hl7.get(pid, 11, i, 5);
            if (text == null && zip == null && Hl7.get(pid, 11, i, 1) == null) {
                continue;
            }
            Address a = p.addAddress();
            String use = Hl7.get(pid, 11, i, 7);
            a.setUse("H".equals(use) ? Address.AddressUse.HOME : "B".equals(use) || "O".equals(use)
                    ? Address.AddressUse.WORK : null);
            a.setText(text != null ? text : Hl7.get(pid, 11, i, 1));
            a.setPostalCode(zip);
            String country = Hl7.get(pid, 11, i, 6);
            a.setCountry("JPN".equals(country) ? "JP" : country);
        }
        for (int field : new int[]{13, 14}) {
            for (int i = 0; i < Hl7.reps(pid, field); i++) {
                String number = Hl7.get(pid, field, i, 12);
                if (number == null) {
                    number = Hl7.get(pid, field, i, 1);
                }
                if (number == null) {
                    continue;
                }
                String use = Hl7.get(pid, field, i, 2);
                p.addTelecom().setSystem(ContactPoint.ContactPointSystem.PHONE).setValue(number)
                        .setUse(field == 14 || "WPN".equals(use) ? ContactPoint.ContactPointUse.WORK
                                : "PRN".equals(use) ? ContactPoint.ContactPointUse.HOME : null);
            }
        }
        return p;
    }

    // ------------------------------------------------------------------ ADT-61

    static AllergyIntolerance allergy(Segment iam, String patientId, String subject, int index) throws Hl7.Refused {
        AllergyIntolerance a = new AllergyIntolerance();
        CodeableConcept code = concept(iam, 3);
        if (code == null) {
            throw new Hl7.Refused("IAM-3", "アレルゲンがありません / the allergen (IAM-3) is empty");
        }
        String key = Hl7.get(iam, 7, 1);
        if (key == null) {
            key = code.getCodingFirstRep().getCode() != null ? code.getCodingFirstRep().getCode()
                    : code.getText();
        }
        a.setId(idFor("AllergyIntolerance", patientId, key));
        a.addIdentifier().setSystem(ALLERGY_SYSTEM).setValue(patientId + "-" + key);
        a.setPatient(new Reference("Patient/" + subject));
        a.setCode(code);
        String action = Hl7.get(iam, 6, 1);
        a.setClinicalStatus(new CodeableConcept().addCoding(new Coding(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "D".equals(action)
                ? "inactive" : "active", null)));
        a.setVerificationStatus(new CodeableConcept().addCoding(new Coding(
                "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", null)));
        String kind = Hl7.get(iam, 2, 1);
        if (kind != null) {
            switch (kind) {
                case "DA", "MA" -> a.addCategory(AllergyIntolerance.AllergyIntoleranceCategory.MEDICATION);
                case "FA" -> a.addCategory(AllergyIntolerance.AllergyIntoleranceCategory.FOOD);
                case "EA", "PA" -> a.addCategory(AllergyIntolerance.AllergyIntoleranceCategory.ENVIRONMENT);
                default -> {
                }
            }
            a.addExtension("https://mamori.jp/fhir/StructureDefinition/ssmix2-allergen-type",
                    new StringType(kind));
        }
        String severity = Hl7.get(iam, 4, 1);
        if (severity != null) {
            a.setCriticality(switch (severity) {
                case "SV" -> AllergyIntolerance.AllergyIntoleranceCriticality.HIGH;
                case "MI", "MO" -> AllergyIntolerance.AllergyIntoleranceCriticality.LOW;
                default -> AllergyIntolerance.AllergyIntoleranceCriticality.UNABLETOASSESS;
            });
        }
        String reaction = Hl7.get(iam, 5, 1);
        if (reaction != null) {
            a.addReaction().addManifestation(new CodeableConcept().setText(reaction));
        }
        String onset = Hl7.get(iam, 11, 1);
        if (onset != null) {
            a.setOnset(new DateTimeType(Hl7.dateTime(onset, "IAM-11")));
        }
        String recorded = Hl7.get(iam, 13, 1);
        if (recorded != null) {
            a.setRecordedDateElement(new DateTimeType(Hl7.dateTime(recorded, "IAM-13")));
        }
        return a;
    }

    // ------------------------------------------------------------------ OMP-01, OMP-02

    static MedicationRequest medication(RDE_O11_ORDER order, StorageName name, String subject, Segment msh,
                                        Map<String, Integer> lines) throws Hl7.Refused {
        Segment orc = order.getORC();
        Segment rxe = order.getRXE();
        String orderNo = Hl7.get(orc, 2, 1);
        if (orderNo == null) {
            orderNo = name.order();
        }
        if (orderNo == null) {
            throw new Hl7.Refused("ORC-2", "オーダ番号がありません / no placer order number (ORC-2)");
        }
        CodeableConcept drug = concept(rxe, 2);
        if (drug == null) {
            throw new Hl7.Refused("RXE-2", "薬剤がありません / the give code (RXE-2) is empty");
        }
        int line = lines.merge(orderNo, 1, Integer::sum);
        MedicationRequest r = new MedicationRequest();
        r.setId(idFor("MedicationRequest", name.dataType(), name.patientId(), orderNo, Integer.toString(line)));
        r.addIdentifier().setSystem(ORDER_SYSTEM).setValue(orderNo + "-" + line);
        r.setGroupIdentifier(new org.hl7.fhir.r4.model.Identifier().setSystem(ORDER_SYSTEM).setValue(orderNo));
        String control = Hl7.get(orc, 1, 1);
        r.setStatus("CA".equals(control) ? MedicationRequest.MedicationRequestStatus.CANCELLED
                : "DC".equals(control) ? MedicationRequest.MedicationRequestStatus.STOPPED
                : MedicationRequest.MedicationRequestStatus.ACTIVE);
        r.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
        r.addCategory(new CodeableConcept().addCoding(new Coding(DATA_TYPE_SYSTEM, name.dataType(),
                name.dataType().equals("OMP-01") ? "処方オーダ" : "注射オーダ")));
        r.setMedication(drug);
        r.setSubject(new Reference("Patient/" + subject));
        String authored = Hl7.get(orc, 9, 1);
        if (authored == null) {
            authored = Hl7.get(msh, 7, 1);
        }
        if (authored != null) {
            r.setAuthoredOnElement(new DateTimeType(Hl7.dateTime(authored, "ORC-9")));
        }
        String family = Hl7.get(orc, 12, 2);
        String given = Hl7.get(orc, 12, 3);
        if (family != null || given != null) {
            r.setRequester(new Reference().setDisplay(family == null ? given : given == null ? family
                    : family + "\u3000" + given));
        }
        Dosage dosage = r.addDosageInstruction();
        String amount = Hl7.get(rxe, 3, 1);
        if (amount != null) {
            Quantity q = quantity(amount, rxe, 5, "RXE-3");
            dosage.addDoseAndRate().setDose(q);
        }
        if (order.getTIMING_ENCODEDReps() > 0) {
            Segment tq1 = order.getTIMING_ENCODED(0).getTQ1();
            String usageCode = Hl7.get(tq1, 3, 1);
            String usageText = Hl7.get(tq1, 3, 2);
            if (usageText != null || usageCode != null) {
                dosage.setText(usageText != null ? usageText : usageCode);
                if (usageCode != null) {
                    dosage.getTiming().setCode(new CodeableConcept().addCoding(new Coding(CODE_PREFIX + "usage",
                            usageCode, usageText)));
                }
            }
            String start = Hl7.get(tq1, 7, 1);
            if (start != null) {
                dosage.getTiming().getRepeat().getBoundsPeriod().setStartElement(
                        new DateTimeType(Hl7.dateTime(start, "TQ1-7")));
            }
        }
        if (order.getRXRReps() > 0) {
            CodeableConcept route = concept(order.getRXR(0), 1);
            if (route != null) {
                dosage.setRoute(route);
            }
        }
        String dispense = Hl7.get(rxe, 10, 1);
        if (dispense != null) {
            r.getDispenseRequest().setQuantity(quantity(dispense, rxe, 11, "RXE-10"));
        }
        return r;
    }

    // ------------------------------------------------------------------ OML-11

    static Observation result(OUL_R22_ORDER order, Segment obx, StorageName name, String subject,
                              Map<String, Integer> seen) throws Hl7.Refused {
        Segment obr = order.getOBR();
        String orderNo = Hl7.get(obr, 2, 1);
        if (orderNo == null) {
            orderNo = Hl7.get(order.getORC(), 2, 1);
        }
        if (orderNo == null) {
            orderNo = name.order();
        }
        if (orderNo == null) {
            throw new Hl7.Refused("OBR-2", "オーダ番号がありません / no placer order number (OBR-2)");
        }
        CodeableConcept code = concept(obx, 3);
        if (code == null) {
            throw new Hl7.Refused("OBX-3", "検査項目がありません / the observation identifier (OBX-3) is empty");
        }
        String key = orderNo + "-" + (code.getCodingFirstRep().getCode() != null ? code.getCodingFirstRep().getCode()
                : code.getText());
        int n = seen.merge(key, 1, Integer::sum);
        if (n > 1) {
            key = key + "-" + n;
        }
        Observation o = new Observation();
        o.setId(idFor("Observation", name.patientId(), key));
        o.addIdentifier().setSystem(RESULT_SYSTEM).setValue(key);
        o.addBasedOn(new Reference().setIdentifier(new org.hl7.fhir.r4.model.Identifier().setSystem(ORDER_SYSTEM)
                .setValue(orderNo)));
        String status = Hl7.get(obx, 11, 1);
        o.setStatus(status == null ? Observation.ObservationStatus.FINAL : switch (status) {
            case "F" -> Observation.ObservationStatus.FINAL;
            case "C" -> Observation.ObservationStatus.CORRECTED;
            case "P", "R", "I", "S" -> Observation.ObservationStatus.PRELIMINARY;
            case "X" -> Observation.ObservationStatus.CANCELLED;
            case "W" -> Observation.ObservationStatus.ENTEREDINERROR;
            default -> throw new Hl7.Refused("OBX-11", "結果状態が不正です / unknown result status " + status);
        });
        o.addCategory(new CodeableConcept().addCoding(new Coding(
                "http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "Laboratory")));
        o.setCode(code);
        o.setSubject(new Reference("Patient/" + subject));
        String valueType = Hl7.get(obx, 2, 1);
        String value = Hl7.get(obx, 5, 1);
        if (value != null) {
            if ("NM".equals(valueType)) {
                o.setValue(quantity(value, obx, 6, "OBX-5"));
            } else if ("CWE".equals(valueType) || "CE".equals(valueType)) {
                CodeableConcept c = concept(obx, 5);
                o.setValue(c);
            } else {
                o.setValue(new StringType(value));
            }
        }
        String range = Hl7.get(obx, 7, 1);
        if (range != null) {
            o.addReferenceRange().setText(range);
        }
        String flag = Hl7.get(obx, 8, 1);
        if (flag != null) {
            o.addInterpretation(new CodeableConcept().addCoding(new Coding(
                    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", flag, null)));
        }
        String when = Hl7.get(obx, 14, 1);
        if (when == null) {
            when = Hl7.get(obr, 7, 1);
        }
        if (when != null) {
            o.setEffective(new DateTimeType(Hl7.dateTime(when, "OBX-14")));
        }
        return o;
    }

    // ------------------------------------------------------------------ shared

    /** A CE/CWE field as a CodeableConcept: code, text, coding system kept by name; null when empty. */
    static CodeableConcept concept(Segment s, int field) {
        String code = Hl7.get(s, field, 1);
        String text = Hl7.get(s, field, 2);
        String system = Hl7.get(s, field, 3);
        if (code == null && text == null) {
            return null;
        }
        CodeableConcept c = new CodeableConcept();
        if (code != null) {
            c.addCoding(new Coding(CODE_PREFIX + (system == null ? "local" : system), code, text));
        }
        c.setText(text);
        return c;
    }

    private static Quantity quantity(String value, Segment s, int unitField, String where) throws Hl7.Refused {
        Quantity q = new Quantity();
        try {
            q.setValue(new BigDecimal(value.strip()));
        } catch (NumberFormatException e) {
            throw new Hl7.Refused(where, "数値ではありません / not a number: " + value);
        }
        String unit = Hl7.get(s, unitField, 1);
        String unitText = Hl7.get(s, unitField, 2);
        String unitSystem = Hl7.get(s, unitField, 3);
        if (unit != null) {
            q.setCode(unit).setUnit(unitText != null ? unitText : unit);
            q.setSystem(CODE_PREFIX + (unitSystem == null ? "local" : unitSystem));
        } else if (unitText != null) {
            q.setUnit(unitText);
        }
        return q;
    }
}
