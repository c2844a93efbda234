package jp.mamori.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.Caller;
import jp.mamori.identity.Scope;
import jp.mamori.identity.Sessions;
import jp.mamori.records.RecordService;

import java.io.IOException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Patients' demographics for the pages that name patients but show no clinical content: the administrator's care
 * relationships and break-glass review, and the audit reports (issue 22). What it gives is the name in kanji and
 * kana, the sex, the birth date and the 患者ID; never a clinical record.
 *
 * <p>It reads through the {@link RecordService} (so the record store's search, with its normalisation of kana and
 * 異体字, is the one the clinician's patient search uses) as a caller that holds nothing but {@code Patient} read and
 * search: the console's gate has already decided that the person may open the page (ACCESS-7: an administrator
 * reaches demographics only through these pages, for administering access, and every look is an entry). A
 * {@link #find} records its own entry naming each patient shown; the other lookups leave that to the page, whose
 * entry names the patients it shows.
 */
public final class PatientDirectory {
    /** At most this many patients per search: a narrower search, never a list of everyone (no wildcard dump). */
    public static final int MAX_RESULTS = 20;
    /** The longest name or 患者ID a search takes. */
    static final int MAX_TERM = 64;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    /** Reads Patients and nothing else. */
    private static final Caller DEMOGRAPHICS = new Caller("system:patient-directory", "Mamori patient directory",
            Set.of(Scope.parse("system/Patient.rs")), "local");

    private final RecordService records;
    private final AuditRecorder recorder;

    public PatientDirectory(RecordService records, AuditRecorder recorder) {
        this.records = records;
        this.recorder = recorder;
    }

    /**
     * A patient as these pages show them.
     *
     * @param id        the Patient resource's id (for links and forms only; never shown as the 患者ID)
     * @param patientId the 患者ID: the same as the patient banner's ({@link #patientId(JsonNode)}), or ""
     * @param sex       {@code male}, {@code female}, {@code other} or {@code unknown}
     * @param birthDate null when not recorded
     * @param version   the version read
     */
    public record Demographics(String id, String patientId, String name, String kana, String sex, LocalDate birthDate,
                               int version) {
    }

    /** A search's criteria; blank ones are not used. {@code birthDate} is YYYY-MM-DD. */
    public record Criteria(String patientId, String name, String birthDate) {
        public Criteria {
            patientId = patientId == null ? "" : patientId.strip();
            name = name == null ? "" : name.strip();
            birthDate = birthDate == null ? "" : birthDate.strip();
        }

        public boolean empty() {
            return patientId.isEmpty() && name.isEmpty() && birthDate.isEmpty();
        }
    }

    /** What a search found; {@code more} when there were more than {@link #MAX_RESULTS}. */
    public record Found(List<Demographics> patients, boolean more) {
    }

    /** A search refused for its criteria: the message says why, in Japanese and English. */
    public static final class BadCriteria extends RuntimeException {
        public BadCriteria(String message) {
            super(message);
        }
    }

    /**
     * The 患者ID of a Patient: the value of its first identifier that has one (the one identifier the patient banner,
     * the patient search and the printouts show as 患者ID); "" when there is none. Never the resource's id.
     */
    public static String patientId(JsonNode patient) {
        for (JsonNode i : patient.path("identifier")) {
            if (i.hasNonNull("value")) {
                return i.get("value").asText();
            }
        }
        return "";
    }

    /**
     * Searches by 患者ID (exact), name in kanji or kana (from the start of the family or given name, normalised as the
     * clinician's search does) and birth date, together; at most {@link #MAX_RESULTS}. Records one entry: {@code s}
     * searched patients for {@code purpose}, naming every patient shown (the search's terms are not recorded, only
     * which were used).
     *
     * @throws BadCriteria when no criterion is given or one is malformed
     */
    public Found find(Criteria c, Sessions.Session s, String address, Purpose purpose, String view) {
        Map<String, List<String>> params = params(c);
        Map<String, List<String>> p = new LinkedHashMap<>(params);
        p.put("_count", List.of(Integer.toString(MAX_RESULTS + 1)));
        List<Demographics> found = new ArrayList<>();
        boolean more = false;
        for (RecordService.Stored st : records.search(DEMOGRAPHICS, "Patient", p).matches()) {
            if (found.size() == MAX_RESULTS) {
                more = true;
                break;
            }
            found.add(demographics(st));
        }
        AuditEvent.Builder e = AuditEvent.by(Actor.of(s, address), AuditAction.SEARCH).purpose(purpose)
                .resource(ResourceRef.type("Patient")).detail("view", view)
                .detail("criteria", String.join(",", params.keySet()));
        for (Demographics d : found) {
            e.patient(PatientRef.of(d.id())).resource(ResourceRef.version("Patient", d.id(), d.version()));
        }
        append(e);
        return new Found(found, more);
    }

    /**
     * The demographics of these patients (Patient resource ids), those that exist; not recorded here: the page that
     * shows them names them in its own entry ({@link #recordShown}).
     */
    public Map<String, Demographics> byIds(Collection<String> ids) {
        Map<String, Demographics> out = new LinkedHashMap<>();
        List<String> valid = new ArrayList<>();
        for (String id : new LinkedHashSet<>(ids)) {
            if (id != null && ResourceRef.isId(id)) {
                valid.add(id);
            }
        }
        for (int from = 0; from < valid.size(); from += 200) {
            List<String> part = valid.subList(from, Math.min(valid.size(), from + 200));
            Map<String, List<String>> p = new LinkedHashMap<>();
            p.put("_id", List.of(String.join(",", part)));
            p.put("_count", List.of(Integer.toString(part.size())));
            for (RecordService.Stored st : records.search(DEMOGRAPHICS, "Patient", p).matches()) {
                out.put(st.id(), demographics(st));
            }
        }
        return out;
    }

    /**
     * The patients whose 患者ID is exactly {@code patientId} (usually one), at most {@link #MAX_RESULTS}; not
     * recorded here.
     */
    public List<Demographics> byPatientId(String patientId) {
        String v = patientId == null ? "" : patientId.strip();
        if (v.isEmpty() || v.length() > MAX_TERM || !v.matches("[0-9A-Za-z\\-.]+")) {
            return List.of();
        }
        List<Demographics> out = new ArrayList<>();
        for (RecordService.Stored st : records.search(DEMOGRAPHICS, "Patient", Map.of("identifier", List.of(v),
                "_count", List.of(Integer.toString(MAX_RESULTS)))).matches()) {
            out.add(demographics(st));
        }
        return out;
    }

    /**
     * Records that {@code s} was shown these patients' demographics on {@code view}, for {@code purpose} (an
     * administrator's page); nothing when there are none.
     */
    public void recordShown(Collection<Demographics> shown, Sessions.Session s, String address, Purpose purpose,
                            String view) {
        if (shown.isEmpty()) {
            return;
        }
        AuditEvent.Builder e = AuditEvent.by(Actor.of(s, address), AuditAction.READ).purpose(purpose)
                .detail("view", view);
        for (Demographics d : shown) {
            e.patient(PatientRef.of(d.id())).resource(ResourceRef.version("Patient", d.id(), d.version()));
        }
        append(e);
    }

    private void append(AuditEvent.Builder e) {
        try {
            recorder.append(e.build());
        } catch (AuditUnavailable x) {
            throw x.toFhirError();
        }
    }

    private static Map<String, List<String>> params(Criteria c) {
        if (c.empty()) {
            throw new BadCriteria("患者ID、氏名（漢字またはかな）、生年月日のいずれかを入力してください"
                    + " / Enter a patient ID, a name (kanji or kana) or a birth date");
        }
        Map<String, List<String>> p = new LinkedHashMap<>();
        if (!c.patientId().isEmpty()) {
            if (c.patientId().length() > MAX_TERM || !c.patientId().matches("[0-9A-Za-z\\-.]+")) {
                throw new BadCriteria("患者IDは英数字、ハイフン、ピリオドで入力してください（64文字まで）"
                        + " / A patient ID is letters, digits, hyphens and dots (up to 64)");
            }
            p.put("identifier", List.of(c.patientId()));
        }
        if (!c.name().isEmpty()) {
            if (c.name().length() > MAX_TERM) {
                throw new BadCriteria("氏名は64文字までで入力してください / A name is up to 64 characters");
            }
            if (!c.name().codePoints().anyMatch(Character::isLetterOrDigit)) {
                throw new BadCriteria("氏名は文字で入力してください / Enter a name in letters");
            }
            p.put("name", List.of(c.name()));
        }
        if (!c.birthDate().isEmpty()) {
            try {
                p.put("birthdate", List.of(LocalDate.parse(c.birthDate()).toString()));
            } catch (DateTimeParseException e) {
                throw new BadCriteria("生年月日は YYYY-MM-DD で入力してください / A birth date is YYYY-MM-DD");
            }
        }
        return p;
    }

    static Demographics demographics(RecordService.Stored st) {
        JsonNode j;
        try {
            j = JSON.readTree(st.body());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("a stored Patient could not be read", e);
        }
        String birth = j.path("birthDate").asText("");
        LocalDate birthDate = null;
        if (birth.length() == 10) {
            try {
                birthDate = LocalDate.parse(birth);
            } catch (DateTimeParseException e) {
                birthDate = null;
            }
        }
        String sex = j.path("gender").asText("unknown");
        return new Demographics(st.id(), patientId(j), name(j, false), name(j, true),
                Set.of("male", "female", "other").contains(sex) ? sex : "unknown", birthDate, st.version());
    }

    /**
     * The name in kanji (the IDE representation, or the first that is not kana) or in kana (SYL): the one reading of
     * a Patient's names every page uses.
     */
    public static String name(JsonNode patient, boolean kana) {
        String fallback = null;
        for (JsonNode n : patient.path("name")) {
            String rep = null;
            for (JsonNode e : n.path("extension")) {
                if (REPRESENTATION.equals(e.path("url").asText())) {
                    rep = e.path("valueCode").asText();
                }
            }
            if (kana ? "SYL".equals(rep) : "IDE".equals(rep)) {
                return text(n);
            }
            if (!kana && fallback == null && !"SYL".equals(rep)) {
                fallback = text(n);
            }
        }
        return fallback == null ? "" : fallback;
    }

    private static String text(JsonNode n) {
        if (n.hasNonNull("text")) {
            return n.get("text").asText();
        }
        StringBuilder sb = new StringBuilder(n.path("family").asText(""));
        for (JsonNode g : n.path("given")) {
            sb.append(sb.isEmpty() ? "" : "\u3000").append(g.asText());
        }
        return sb.toString();
    }
}
