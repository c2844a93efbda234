package jp.mamori.clinical;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Html;

/** What the console shows of stored FHIR JSON: names, codes, dates and note text, read without a full parse. */
final class FhirText {
    static final String LOINC = "http://loinc.org";
    static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";
    /** The author's account, on notes written in the console (finalization is the author's alone). */
    static final String ACCOUNT_SYSTEM = "https://mamori.jp/fhir/account";
    /** The LOINC code of a progress note, the type of the notes the console writes. */
    static final String PROGRESS_NOTE = "11506-3";
    /** The tag the record service puts on someone else's draft whose content it withheld (issue 22). */
    static final String SUBSETTED = "SUBSETTED";
    /** SOAP sections: LOINC code, Japanese and English label. */
    static final String[][] SOAP = {{"61150-9", "S 主観的情報（主訴）", "S Subjective"},
            {"61149-1", "O 客観的情報（所見）", "O Objective"}, {"51848-0", "A 評価", "A Assessment"},
            {"18776-5", "P 計画", "P Plan"}};

    private FhirText() {
    }

    /** The name written in kanji (the IDE representation, or the first name that is not kana). */
    static String name(JsonNode patient) {
        return jp.mamori.audit.PatientDirectory.name(patient, false);
    }

    /** The name in kana (the SYL representation). */
    static String kana(JsonNode patient) {
        return jp.mamori.audit.PatientDirectory.name(patient, true);
    }

    static String sex(JsonNode patient, ConsoleRequest.Lang lang) {
        return switch (patient.path("gender").asText("")) {
            case "male" -> lang.t("男", "Male");
            case "female" -> lang.t("女", "Female");
            case "other" -> lang.t("その他", "Other");
            default -> lang.t("不明", "Unknown");
        };
    }

    static LocalDate birthDate(JsonNode patient) {
        String b = patient.path("birthDate").asText("");
        try {
            return b.length() == 10 ? LocalDate.parse(b) : null;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** The patient ID (the first identifier's value). */
    static String identifier(JsonNode patient) {
        return jp.mamori.audit.PatientDirectory.patientId(patient); // one definition of 患者ID everywhere
    }

    /** {@code meta.security} codes (sensitivity markers such as PSY). */
    static Set<String> labels(JsonNode res) {
        Set<String> out = new LinkedHashSet<>();
        for (JsonNode c : res.path("meta").path("security")) {
            out.add(c.path("code").asText());
        }
        return out;
    }

    /** A CodeableConcept as text: its text, else the first coding's display, else its code. */
    static String concept(JsonNode cc) {
        return jp.mamori.records.FhirJson.concept(cc);
    }

    /** The first code of a CodeableConcept ({@code system|code}), for grouping. */
    static String code(JsonNode cc) {
        for (JsonNode c : cc.path("coding")) {
            return c.path("system").asText("") + "|" + c.path("code").asText("");
        }
        return "|" + concept(cc);
    }

    static String firstCode(JsonNode cc, String system) {
        return jp.mamori.records.FhirJson.firstCode(cc, system);
    }

    /** A FHIR dateTime or instant as an instant; a date alone as the start of that day in Japan; null if absent. */
    static Instant instant(JsonNode v) {
        return jp.mamori.records.FhirJson.instant(v);
    }

    /** The section text of a note (its narrative as plain text), by LOINC section code. */
    static String section(JsonNode composition, String loinc) {
        for (JsonNode s : composition.path("section")) {
            if (loinc.equals(firstCode(s.path("code"), LOINC))) {
                return divText(s.path("text").path("div").asText(""));
            }
        }
        return "";
    }

    /** The four SOAP texts of a note. */
    static String[] soap(JsonNode composition) {
        String[] out = new String[4];
        for (int i = 0; i < 4; i++) {
            out[i] = section(composition, SOAP[i][0]);
        }
        return out;
    }

    /** The whole note as one text, for the difference between versions. */
    static String noteText(JsonNode composition, ConsoleRequest.Lang lang) {
        return noteText(soap(composition), lang);
    }

    /** The four SOAP texts as one text, as {@link #noteText(JsonNode, ConsoleRequest.Lang)} writes a note's. */
    static String noteText(String[] s, ConsoleRequest.Lang lang) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            sb.append("【").append(lang.t(SOAP[i][1], SOAP[i][2])).append("】\n").append(s[i]).append("\n");
        }
        return sb.toString();
    }

    /** XHTML narrative to plain text: line breaks kept, tags dropped, entities decoded. */
    static String divText(String div) {
        String t = div.replaceAll("(?i)<br\\s*/?>", "\n").replaceAll("(?i)</p>", "\n").replaceAll("<[^>]*>", "");
        t = t.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
                .replace("&apos;", "'").replace("&amp;", "&");
        return t.strip();
    }

    static String author(JsonNode composition) {
        List<String> names = new ArrayList<>();
        for (JsonNode a : composition.path("author")) {
            names.add(a.path("display").asText(a.path("reference").asText("")));
        }
        return String.join(", ", names);
    }

    /** The account that wrote a note in the console, or null for notes from elsewhere. */
    static String authorAccount(JsonNode composition) {
        for (JsonNode a : composition.path("author")) {
            JsonNode id = a.path("identifier");
            if (ACCOUNT_SYSTEM.equals(id.path("system").asText())) {
                return id.path("value").asText();
            }
        }
        return null;
    }

    /** Active (or no status) in a clinicalStatus CodeableConcept. */
    static boolean active(JsonNode res) {
        String s = firstCode(res.path("clinicalStatus"), null);
        return s.isEmpty() || s.equals("active") || s.equals("recurrence") || s.equals("relapse");
    }

    /** Whether the record service gave this resource with its content withheld (someone else's draft). */
    static boolean withheld(JsonNode res) {
        for (JsonNode t : res.path("meta").path("tag")) {
            if (SUBSETTED.equals(t.path("code").asText())) {
                return true;
            }
        }
        return false;
    }

    /** The account (id as text) of each author the console recorded, in order. */
    static List<String> authorAccounts(JsonNode composition) {
        List<String> out = new ArrayList<>();
        for (JsonNode a : composition.path("author")) {
            JsonNode id = a.path("identifier");
            if (ACCOUNT_SYSTEM.equals(id.path("system").asText())) {
                out.add(id.path("value").asText());
            }
        }
        return out;
    }

    /** The display name the note gives for the author with this account, or null. */
    static String authorName(JsonNode composition, String accountId) {
        for (JsonNode a : composition.path("author")) {
            JsonNode id = a.path("identifier");
            if (ACCOUNT_SYSTEM.equals(id.path("system").asText()) && accountId.equals(id.path("value").asText())) {
                return a.path("display").asText(null);
            }
        }
        return null;
    }
}
