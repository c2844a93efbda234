package jp.mamori.demo;

import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Composition;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

/**
 * Generates realistic synthetic patients with their encounters, progress notes, results, medications, problems
 * and allergies, as FHIR R4 resources ready for a transaction. Deterministic: the same seed, options and
 * {@code today} give the same resources. Nothing here is a real person's data, and every resource carries
 * {@link #ORIGIN_SYSTEM}|{@link #ORIGIN_CODE} and {@code v3-ActReason|HTEST} in {@code meta.tag}.
 */
public final class DemoGenerator {
    /** Our tag for data that no real person is the subject of. */
    public static final String ORIGIN_SYSTEM = "https://mamori.jp/fhir/CodeSystem/data-origin";
    public static final String ORIGIN_CODE = "synthetic";
    public static final String ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
    public static final String IDENTIFIER_SYSTEM = "urn:oid:1.2.392.100495.20.3.51.1";
    static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    static final String LOINC = "http://loinc.org";
    static final String UCUM = "http://unitsofmeasure.org";
    static final String ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
    static final String YJ = "urn:oid:1.2.392.100495.20.2.74";
    static final ZoneId JST = ZoneId.of("Asia/Tokyo");

    /** How much to generate per patient; zero or negative counts mean "about what a real chart has". */
    public record Options(int observationsPerPatient, int notesPerPatient) {
    }

    /** One patient's resources, in an order where a resource only refers to earlier ones, and who they are. */
    public record PatientData(String patientId, List<Entry> entries, Profile profile) {
    }

    /**
     * What {@code demo-data} prints for a person to try: the name in kanji and kana, the birth date, the home
     * department, and where the patient is today ({@code null}: not in hospital today).
     *
     * @param today "入院中 4階東病棟" or "外来 10:30"
     */
    public record Profile(String name, String kana, LocalDate birthDate, String department, String today) {
    }

    /**
     * A resource with its {@code urn:uuid} full URL; {@code amendReason} non-null for a note that is later
     * amended (the generator also gives its amended text in {@code amended}).
     */
    public record Entry(String fullUrl, Resource resource, String amendReason, Composition amended) {
    }

    private record Lab(String loinc, String name, String unit, String ucum, double low, double high, double typical,
                       double spread, int decimals, String category) {
    }

    private static final List<Lab> LABS = List.of(
            new Lab("4548-4", "HbA1c", "%", "%", 4.6, 6.2, 6.4, 0.9, 1, "laboratory"),
            new Lab("2345-7", "血糖", "mg/dL", "mg/dL", 73, 109, 112, 25, 0, "laboratory"),
            new Lab("1920-8", "AST", "U/L", "U/L", 13, 30, 24, 8, 0, "laboratory"),
            new Lab("1742-6", "ALT", "U/L", "U/L", 10, 42, 25, 10, 0, "laboratory"),
            new Lab("33914-3", "eGFR", "mL/min/1.73m2", "mL/min/{1.73_m2}", 60, 120, 72, 15, 1, "laboratory"),
            new Lab("2160-0", "クレアチニン", "mg/dL", "mg/dL", 0.46, 1.07, 0.85, 0.2, 2, "laboratory"),
            new Lab("718-7", "Hb", "g/dL", "g/dL", 11.6, 16.8, 13.6, 1.3, 1, "laboratory"),
            new Lab("6690-2", "WBC", "10^3/μL", "10*3/uL", 3.3, 8.6, 6.0, 1.6, 1, "laboratory"),
            new Lab("1988-5", "CRP", "mg/dL", "mg/dL", 0.0, 0.14, 0.1, 0.3, 2, "laboratory"),
            new Lab("8310-5", "体温", "℃", "Cel", 35.5, 37.0, 36.6, 0.4, 1, "vital-signs"));

    /**
     * What a child's chart has instead (JSLM / pediatric reference intervals, rounded): a blood count, CRP and the
     * temperature; no HbA1c, liver or kidney panel for a 3-year-old with asthma.
     */
    private static final List<Lab> CHILD_LABS = List.of(
            new Lab("718-7", "Hb", "g/dL", "g/dL", 11.0, 14.5, 12.6, 0.9, 1, "laboratory"),
            new Lab("6690-2", "WBC", "10^3/μL", "10*3/uL", 5.0, 13.0, 8.0, 2.0, 1, "laboratory"),
            new Lab("1988-5", "CRP", "mg/dL", "mg/dL", 0.0, 0.3, 0.1, 0.4, 2, "laboratory"),
            new Lab("8310-5", "体温", "℃", "Cel", 36.0, 37.4, 36.8, 0.4, 1, "vital-signs"));

    /**
     * A medication: its YJ code, name and dosage, and the class of drugs an allergy to which forbids it ("" none).
     */
    private record Med(String yj, String name, String dosage, String avoidWith) {
    }

    /**
     * A department with its problems and their ICD-10 codes, its medications, and the ward its inpatients stay in.
     */
    private record Department(String name, String code, String[] problems, String[] icd10, List<Med> meds,
                              String ward) {
    }

    private static final List<Department> DEPARTMENTS = List.of(
            new Department("内科", "01", new String[]{"2型糖尿病", "高血圧症", "脂質異常症"},
                    new String[]{"E11.9", "I10", "E78.5"},
                    List.of(new Med("620008801", "メトホルミン塩酸塩錠250mg", "1回2錠 1日2回 朝夕食後", ""),
                            new Med("621421901", "アムロジピン錠5mg", "1回1錠 1日1回 朝食後", ""),
                            new Med("622057601", "ロスバスタチン錠2.5mg", "1回1錠 1日1回 夕食後", "")), "4階東病棟"),
            new Department("外科", "02", new String[]{"鼠径ヘルニア", "胆石症"}, new String[]{"K40.9", "K80.2"},
                    List.of(new Med("620098801", "ロキソプロフェンナトリウム錠60mg", "1回1錠 疼痛時 1日3回まで",
                            "NSAIDs")), "3階西病棟"),
            new Department("小児科", "03", new String[]{"気管支喘息", "アトピー性皮膚炎"}, new String[]{"J45.9", "L20.9"},
                    List.of(), "5階小児病棟"),
            new Department("整形外科", "04", new String[]{"腰部脊柱管狭窄症", "変形性膝関節症"},
                    new String[]{"M48.06", "M17.9"},
                    List.of(new Med("620007501", "セレコキシブ錠100mg", "1回1錠 1日2回 朝夕食後", "NSAIDs")), "3階東病棟"),
            new Department("精神科", "05", new String[]{"うつ病", "不眠症"}, new String[]{"F32.9", "G47.0"},
                    List.of(new Med("620004301", "エスシタロプラム錠10mg", "1回1錠 1日1回 夕食後", ""),
                            new Med("622124601", "レンボレキサント錠5mg", "1回1錠 1日1回 就寝前", "")), "精神科病棟"));

    /** A child's asthma controller by age: granules under 6, chewable tablets from 6 (the package inserts' ages). */
    private static final Med MONTELUKAST_GRANULES = new Med("620004421", "モンテルカスト細粒4mg", "1回1包 1日1回 就寝前", "");
    /** Without a code: the demo names no product code it cannot vouch for. */
    private static final Med MONTELUKAST_CHEWABLE = new Med("", "モンテルカストチュアブル錠5mg", "1回1錠 1日1回 就寝前", "");

    /** Allergen, reaction, criticality, and the class of drugs it forbids ("" none of our medications). */
    private static final String[][] ALLERGIES = {{"ペニシリン系薬剤", "蕁麻疹", "high", ""}, {"卵", "嘔吐", "low", ""},
            {"造影剤（ヨード）", "呼吸困難", "high", ""}, {"そば", "口唇浮腫", "high", ""}, {"NSAIDs", "喘息発作", "high", "NSAIDs"}};

    private final long seed;
    private final Options options;
    private final LocalDate today;

    public DemoGenerator(long seed, Options options, LocalDate today) {
        this.seed = seed;
        this.options = options;
        this.today = today;
    }

    /**
     * Patient number {@code index} (from 0): its own random stream, so any patient can be generated alone.
     * The patient ID is {@code 9} + the seed's last three digits + the six-digit index: unique per seed and
     * plainly a test number.
     */
    public PatientData patient(int index) {
        Random r = new Random(seed * 1_000_003L + index);
        Department home = DEPARTMENTS.get(r.nextInt(DEPARTMENTS.size()));
        boolean child = home.name().equals("小児科");
        Names.Given given = Names.GIVEN.get(r.nextInt(Names.GIVEN.size()));
        Names.Name family = Names.FAMILY.get(r.nextInt(Names.FAMILY.size()));
        LocalDate birth = child ? today.minusDays(365L + r.nextInt(365 * 14))
                : today.minusDays(365L * 20 + r.nextInt(365 * 70));
        String patientId = String.format("9%03d%06d", Math.floorMod(seed, 1000), index);
        List<Entry> out = new ArrayList<>();

        Patient p = new Patient();
        tag(p);
        p.addIdentifier().setSystem(IDENTIFIER_SYSTEM).setValue(patientId);
        p.addName(name("IDE", family.kanji(), given.kanji()));
        p.addName(name("SYL", family.kana(), given.kana()));
        p.setGender(given.male() ? Enumerations.AdministrativeGender.MALE : Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new org.hl7.fhir.r4.model.DateType(birth.toString()));
        Names.Place place = Names.PLACES.get(r.nextInt(Names.PLACES.size()));
        String line = place.town() + (1 + r.nextInt(9)) + "丁目" + (1 + r.nextInt(30)) + "番" + (1 + r.nextInt(20)) + "号";
        p.addAddress().setUse(org.hl7.fhir.r4.model.Address.AddressUse.HOME)
                .setText("〒" + place.postalCode() + " " + place.prefecture() + place.city() + line)
                .setPostalCode(place.postalCode()).setState(place.prefecture()).setCity(place.city())
                .addLine(line).setCountry("JP");
        p.addTelecom().setSystem(org.hl7.fhir.r4.model.ContactPoint.ContactPointSystem.PHONE)
                .setValue("090-" + digits(r, 4) + "-" + digits(r, 4));
        String patientUrl = uuid(r);
        out.add(new Entry(patientUrl, p, null, null));
        Reference subject = new Reference(patientUrl).setDisplay(family.kanji() + " " + given.kanji());

        // Encounters over the last three years (never before the patient was a month old), mostly in the patient's
        // own department; children are seen in paediatrics only, adults never there.
        long lived = java.time.temporal.ChronoUnit.DAYS.between(birth, today);
        long window = Math.min(3L * 365, lived - 30);
        int notes = options.notesPerPatient() > 0 ? options.notesPerPatient() : 3 + r.nextInt(6);
        int encounterCount = Math.max(1, Math.min(notes, 40));
        List<String> encUrls = new ArrayList<>();
        List<Department> encDept = new ArrayList<>();
        List<Instant> encTime = new ArrayList<>();
        for (int i = 0; i < encounterCount; i++) {
            Department d = r.nextInt(5) == 0 ? DEPARTMENTS.get(r.nextInt(DEPARTMENTS.size())) : home;
            if (child != d.name().equals("小児科")) {
                d = home;
            }
            long daysAgo = window * (encounterCount - i) / encounterCount - r.nextInt(20);
            Instant start = today.minusDays(Math.max(1, daysAgo)).atTime(9 + r.nextInt(8), r.nextInt(4) * 15)
                    .atZone(JST).toInstant();
            boolean inpatient = r.nextInt(12) == 0;
            String url = uuid(r);
            out.add(new Entry(url, encounter(d, subject, inpatient, Encounter.EncounterStatus.FINISHED, start,
                    start.plusSeconds(inpatient ? 86_400L * (3 + r.nextInt(10)) : 60L * (10 + r.nextInt(30))),
                    inpatient ? d.ward() : null), null, null));
            encUrls.add(url);
            encDept.add(d);
            encTime.add(start);
        }
        // Today: about one patient in six is in a ward now, one in three comes to the outpatient clinic (booked,
        // or arrived in the morning), so that a clinician's worklist has today's patients in their department.
        int now = r.nextInt(6);
        String where = null;
        if (now == 0) {
            Instant admitted = today.minusDays(1 + r.nextInt(10)).atTime(10, 0).atZone(JST).toInstant();
            out.add(new Entry(uuid(r), encounter(home, subject, true, Encounter.EncounterStatus.INPROGRESS, admitted,
                    null, home.ward()), null, null));
            where = "入院中 " + home.ward();
        } else if (now <= 2) {
            int hour = 9 + r.nextInt(8);
            Instant at = today.atTime(hour, r.nextInt(4) * 15).atZone(JST).toInstant();
            out.add(new Entry(uuid(r), encounter(home, subject, false, hour < 12 ? Encounter.EncounterStatus.ARRIVED
                    : Encounter.EncounterStatus.PLANNED, at, null, null), null, null));
            where = String.format("外来 %d:%02d", hour, at.atZone(JST).getMinute());
        }

        // Problems, with their onset after birth (an adult's chronic disease after 18).
        long earliest = child ? lived - 180 : lived - 18L * 365;
        for (int i = 0; i < home.problems().length; i++) {
            if (i > 0 && r.nextBoolean()) {
                continue;
            }
            Condition c = new Condition();
            tag(c);
            c.setClinicalStatus(concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"));
            c.setVerificationStatus(concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"));
            c.setCode(new CodeableConcept().addCoding(new Coding("http://hl7.org/fhir/sid/icd-10", home.icd10()[i],
                    home.problems()[i])).setText(home.problems()[i]));
            c.setSubject(subject.copy());
            long ago = Math.min(400L + r.nextInt(3000), Math.max(30, earliest));
            c.setOnset(new DateTimeType(today.minusDays(ago).toString()));
            sensitivity(c, home);
            out.add(new Entry(uuid(r), c, null, null));
        }

        // Medications of the home department (a child's by age), then an allergy that none of the active ones is
        // contraindicated by: the demo shows no prescription an alert would have stopped.
        List<Med> meds = child ? List.of(lived < 6L * 365 ? MONTELUKAST_GRANULES : MONTELUKAST_CHEWABLE) : home.meds();
        Set<String> activeClasses = new java.util.HashSet<>();
        List<Entry> medEntries = new ArrayList<>();
        for (Med m : meds) {
            boolean active = r.nextInt(4) != 0;
            MedicationRequest mr = new MedicationRequest();
            tag(mr);
            mr.setStatus(active ? MedicationRequest.MedicationRequestStatus.ACTIVE
                    : MedicationRequest.MedicationRequestStatus.COMPLETED);
            mr.setIntent(MedicationRequest.MedicationRequestIntent.ORDER);
            CodeableConcept drug = new CodeableConcept().setText(m.name());
            if (!m.yj().isEmpty()) {
                drug.addCoding(new Coding(YJ, m.yj(), m.name()));
            }
            mr.setMedication(drug);
            mr.setSubject(subject.copy());
            mr.setAuthoredOn(Date.from(encTime.get(0)));
            mr.setRequester(new Reference().setDisplay(doctor(r)));
            mr.addDosageInstruction().setText(m.dosage());
            sensitivity(mr, home);
            medEntries.add(new Entry(uuid(r), mr, null, null));
            if (active && !m.avoidWith().isEmpty()) {
                activeClasses.add(m.avoidWith());
            }
        }
        if (r.nextInt(3) == 0) {
            List<String[]> allowed = new ArrayList<>();
            for (String[] a : ALLERGIES) {
                if (!activeClasses.contains(a[3])) {
                    allowed.add(a);
                }
            }
            String[] a = allowed.get(r.nextInt(allowed.size()));
            AllergyIntolerance ai = new AllergyIntolerance();
            tag(ai);
            ai.setClinicalStatus(concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active"));
            ai.setVerificationStatus(concept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "confirmed"));
            ai.setCode(new CodeableConcept().setText(a[0]));
            ai.setCriticality(AllergyIntolerance.AllergyIntoleranceCriticality.fromCode(a[2]));
            ai.setPatient(subject.copy());
            ai.addReaction().addManifestation(new CodeableConcept().setText(a[1]));
            out.add(new Entry(uuid(r), ai, null, null));
        }
        out.addAll(medEntries);

        // Results: a slowly drifting series per test, spread over the encounters' time span.
        List<Lab> labs = child ? CHILD_LABS : LABS;
        int observations = options.observationsPerPatient() > 0 ? options.observationsPerPatient() : 20 + r.nextInt(20);
        double[] level = new double[labs.size()];
        double[] drift = new double[labs.size()];
        for (int i = 0; i < labs.size(); i++) {
            Lab lab = labs.get(i);
            level[i] = lab.typical() + (r.nextGaussian() * lab.spread() * 0.6);
            drift[i] = r.nextGaussian() * lab.spread() / Math.max(20, observations / labs.size());
        }
        Instant first = encTime.get(0);
        long span = Math.max(86_400L, today.atStartOfDay(JST).toInstant().getEpochSecond() - first.getEpochSecond());
        for (int i = 0; i < observations; i++) {
            int li = i % labs.size();
            Lab lab = labs.get(li);
            level[li] += drift[li];
            double v = Math.max(lab.category().equals("vital-signs") ? 34.5 : 0,
                    level[li] + r.nextGaussian() * lab.spread() * 0.15);
            Instant when = first.plusSeconds(span * i / Math.max(1, observations));
            int enc = Math.min(encUrls.size() - 1, (int) ((long) encUrls.size() * i / Math.max(1, observations)));
            out.add(new Entry(uuid(r), observation(lab, round(v, lab.decimals()), when, subject,
                    encUrls.get(enc)), null, null));
        }
        // Blood pressure as a panel with two components: a child's from the age of three, with a child's values.
        for (String encUrl : encUrls.subList(0, Math.min(encUrls.size(), 10))) {
            Instant when = encTime.get(encUrls.indexOf(encUrl));
            if (!child) {
                out.add(new Entry(uuid(r), bloodPressure(110 + r.nextInt(45), 65 + r.nextInt(25), 129, 84, when,
                        subject, encUrl), null, null));
            } else if (java.time.temporal.ChronoUnit.YEARS.between(birth, when.atZone(JST).toLocalDate()) >= 3) {
                out.add(new Entry(uuid(r), bloodPressure(90 + r.nextInt(20), 50 + r.nextInt(18), 115, 75, when,
                        subject, encUrl), null, null));
            }
        }

        // Progress notes: one per encounter (cycling when more are asked for); most final, some amended, a few drafts.
        for (int i = 0; i < notes; i++) {
            int enc = i % encUrls.size();
            Department d = encDept.get(enc);
            Instant when = encTime.get(enc).plusSeconds(600L + 60L * (i / encUrls.size()));
            int kind = r.nextInt(20);
            String status = i == notes - 1 && kind < 4 ? "preliminary" : "final";
            String[] soap = Notes.soap(d.name(), r);
            Composition c = note(d, soap, when, subject, encUrls.get(enc), doctor(r), status);
            String reason = null;
            Composition amended = null;
            if (status.equals("final") && kind >= 17) {
                reason = Notes.amendReason(r);
                amended = c.copy();
                amended.setStatus(Composition.CompositionStatus.AMENDED);
                String[] fixed = Notes.amend(soap, r);
                for (int s = 0; s < 4; s++) {
                    amended.getSection().get(s).setText(narrative(fixed[s]));
                }
            }
            out.add(new Entry(uuid(r), c, reason, amended));
        }
        return new PatientData(patientId, out, new Profile(family.kanji() + "\u3000" + given.kanji(),
                family.kana() + "\u3000" + given.kana(), birth, home.name(), where));
    }

    /**
     * An encounter in {@code d}: its class (入院 or 外来), the department as service type (what care relationships
     * read), and for an inpatient the ward as its location.
     */
    private static Encounter encounter(Department d, Reference subject, boolean inpatient,
                                       Encounter.EncounterStatus status, Instant start, Instant end, String ward) {
        Encounter e = new Encounter();
        tag(e);
        e.setStatus(status);
        e.setClass_(new Coding(ACT_CODE, inpatient ? "IMP" : "AMB", inpatient ? "inpatient encounter" : "ambulatory"));
        e.addType().setText(inpatient ? "入院" : "外来");
        e.setServiceType(new CodeableConcept().addCoding(new Coding("https://mamori.jp/fhir/CodeSystem/department",
                d.code(), d.name())).setText(d.name()));
        e.setSubject(subject.copy());
        Period period = new Period().setStart(Date.from(start));
        if (end != null) {
            period.setEnd(Date.from(end));
        }
        e.setPeriod(period);
        if (ward != null) {
            e.addLocation().setLocation(new Reference().setDisplay(ward));
        }
        sensitivity(e, d);
        return e;
    }

    static final String[][] SECTIONS = {{"61150-9", "S 主観的情報"}, {"61149-1", "O 客観的情報"},
            {"51848-0", "A 評価"}, {"18776-5", "P 計画"}};

    private static Composition note(Department d, String[] soap, Instant when, Reference subject, String encUrl,
                                    String author, String status) {
        Composition c = new Composition();
        tag(c);
        c.setStatus(Composition.CompositionStatus.fromCode(status));
        c.setType(new CodeableConcept().addCoding(new Coding(LOINC, "11506-3", "Progress note")).setText("経過記録"));
        c.setSubject(subject.copy());
        c.setEncounter(new Reference(encUrl));
        c.setDate(Date.from(when));
        c.addAuthor().setDisplay(author);
        c.setTitle(d.name() + " 経過記録");
        for (int s = 0; s < 4; s++) {
            Composition.SectionComponent sec = c.addSection();
            sec.setTitle(SECTIONS[s][1]);
            sec.setCode(new CodeableConcept().addCoding(new Coding(LOINC, SECTIONS[s][0], SECTIONS[s][1])));
            sec.setText(narrative(soap[s]));
        }
        sensitivity(c, d);
        return c;
    }

    static Narrative narrative(String text) {
        Narrative n = new Narrative();
        n.setStatus(Narrative.NarrativeStatus.GENERATED);
        n.setDivAsString("<div xmlns=\"http://www.w3.org/1999/xhtml\">"
                + jp.mamori.chart.Html.escape(text).replace("\n", "<br/>") + "</div>");
        return n;
    }

    private static Observation observation(Lab lab, double v, Instant when, Reference subject, String encUrl) {
        Observation o = new Observation();
        tag(o);
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.addCategory(concept("http://terminology.hl7.org/CodeSystem/observation-category", lab.category()));
        o.setCode(new CodeableConcept().addCoding(new Coding(LOINC, lab.loinc(), lab.name())).setText(lab.name()));
        o.setSubject(subject.copy());
        o.setEncounter(new Reference(encUrl));
        o.setEffective(new DateTimeType(Date.from(when)));
        o.setValue(quantity(v, lab));
        Observation.ObservationReferenceRangeComponent range = o.addReferenceRange();
        range.setLow(quantity(lab.low(), lab));
        if (!lab.name().equals("eGFR")) {
            range.setHigh(quantity(lab.high(), lab));
        }
        if (v > lab.high() && !lab.name().equals("eGFR")) {
            o.addInterpretation(concept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "H"));
        } else if (v < lab.low()) {
            o.addInterpretation(concept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "L"));
        }
        return o;
    }

    private static Observation bloodPressure(int sys, int dia, int sysHigh, int diaHigh, Instant when,
                                             Reference subject, String encUrl) {
        Observation o = new Observation();
        tag(o);
        o.setStatus(Observation.ObservationStatus.FINAL);
        o.addCategory(concept("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs"));
        o.setCode(new CodeableConcept().addCoding(new Coding(LOINC, "85354-9", "血圧")).setText("血圧"));
        o.setSubject(subject.copy());
        o.setEncounter(new Reference(encUrl));
        o.setEffective(new DateTimeType(Date.from(when)));
        o.addComponent().setCode(new CodeableConcept().addCoding(new Coding(LOINC, "8480-6", "収縮期血圧")))
                .setValue(new Quantity().setValue(sys).setUnit("mmHg").setSystem(UCUM).setCode("mm[Hg]"))
                .addReferenceRange().setHigh(new Quantity().setValue(sysHigh).setUnit("mmHg").setSystem(UCUM).setCode("mm[Hg]"));
        o.addComponent().setCode(new CodeableConcept().addCoding(new Coding(LOINC, "8462-4", "拡張期血圧")))
                .setValue(new Quantity().setValue(dia).setUnit("mmHg").setSystem(UCUM).setCode("mm[Hg]"))
                .addReferenceRange().setHigh(new Quantity().setValue(diaHigh).setUnit("mmHg").setSystem(UCUM).setCode("mm[Hg]"));
        return o;
    }

    private static Quantity quantity(double v, Lab lab) {
        return new Quantity().setValue(new java.math.BigDecimal(Double.toString(v)).setScale(lab.decimals(),
                java.math.RoundingMode.HALF_UP)).setUnit(lab.unit()).setSystem(UCUM).setCode(lab.ucum());
    }

    /** Psychiatric records carry the PSY sensitivity label the access model restricts. */
    private static void sensitivity(Resource res, Department d) {
        if (d.name().equals("精神科")) {
            res.getMeta().addSecurity(new Coding(ACT_CODE, "PSY", "psychiatry information sensitivity"));
        }
    }

    static void tag(Resource res) {
        res.getMeta().addTag(new Coding(ORIGIN_SYSTEM, ORIGIN_CODE, "合成データ (synthetic)"));
        res.getMeta().addTag(new Coding(ACT_REASON, "HTEST", "test health data"));
    }

    private static HumanName name(String representation, String family, String given) {
        HumanName n = new HumanName();
        n.addExtension(REPRESENTATION, new org.hl7.fhir.r4.model.CodeType(representation));
        n.setUse(HumanName.NameUse.OFFICIAL).setText(family + "\u3000" + given).setFamily(family)
                .addGiven(given);
        return n;
    }

    private static CodeableConcept concept(String system, String code) {
        return new CodeableConcept().addCoding(new Coding(system, code, null));
    }

    private static String doctor(Random r) {
        Names.Name f = Names.FAMILY.get(r.nextInt(Names.FAMILY.size()));
        Names.Given g = Names.GIVEN.get(r.nextInt(Names.GIVEN.size()));
        return "医師 " + f.kanji() + " " + g.kanji();
    }

    private static double round(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }

    private static String digits(Random r, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            sb.append((char) ('0' + r.nextInt(10)));
        }
        return sb.toString();
    }

    private static String uuid(Random r) {
        long hi = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return "urn:uuid:" + new UUID(hi, lo);
    }
}
