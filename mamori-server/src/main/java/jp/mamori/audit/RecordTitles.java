package jp.mamori.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jp.mamori.access.Caller;
import jp.mamori.identity.Scope;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.RecordService;

import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the audit reports say of the records an entry names (STORE-1 見読性, AUDIT-10): the kind of record, a
 * document's title and the record's date, and whose record it is; never its content. A patient's access history
 * names "経過記録 2026/12/01" rather than {@code Composition/…/_history/3}, and keeps only the records of that
 * patient out of an entry that names several (a search's other results).
 *
 * <p>Reads the named versions through the {@link RecordService} as a read-only caller of its own; what it reads
 * stays here: only the kind, the title of a document without a sensitivity label, the date and the patient
 * references leave. Looking at a report is recorded by the audit page that shows it.
 */
public final class RecordTitles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Caller READER = new Caller("system:audit-report", "Mamori audit report",
            Set.of(Scope.parse("system/*.r")), "local");
    /** Document types whose title the report may show (a document's title names its kind, e.g. 経過記録). */
    private static final Set<String> DOCUMENTS = Set.of("Composition", "DocumentReference");

    private final RecordService records;
    private final ZoneId zone;

    public RecordTitles(RecordService records, ZoneId zone) {
        this.records = records;
        this.zone = zone;
    }

    /**
     * One record as a report names it.
     *
     * @param type     the resource type (the page names its kind in the reader's language)
     * @param title    a document's title, or "" (none, not a document, or a document with a sensitivity label)
     * @param date     the record's own date (a note's date, a result's time, an encounter's start), else when the
     *                 version was stored; null when the version could not be read
     * @param patients the patients it is about (Patient resource ids); empty when it could not be read
     */
    public record Described(String type, String title, LocalDate date, Set<String> patients) {
    }

    /**
     * The records these references name (versioned {@code Type/id/_history/n} or {@code Type/id}); at most
     * {@code max} are read, the others (and those that cannot be read, such as disposed records) are described by
     * their type alone. A type without an id (a search's) is left out.
     */
    public Map<String, Described> describe(Collection<String> refs, int max) {
        Map<String, Described> out = new LinkedHashMap<>();
        int read = 0;
        for (String code : new LinkedHashSet<>(refs)) {
            ResourceRef ref;
            try {
                ref = ResourceRef.parse(code);
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (ref.id() == null) {
                continue;
            }
            Described d = null;
            if (read < max) {
                read++;
                d = read(ref);
            }
            out.put(code, d != null ? d : new Described(ref.type(), "", null,
                    ref.type().equals("Patient") ? Set.of(ref.id()) : Set.of()));
        }
        return out;
    }

    private Described read(ResourceRef ref) {
        RecordService.Stored s;
        try {
            s = ref.version() == null ? records.read(READER, ref.type(), ref.id())
                    : records.vread(READER, ref.type(), ref.id(), ref.version());
        } catch (FhirError | IllegalArgumentException e) {
            return null; // gone, disposed, or never there: the kind alone
        }
        if (s.deleted() || s.body() == null) {
            return null;
        }
        JsonNode j;
        try {
            j = JSON.readTree(s.body());
        } catch (IOException e) {
            return null;
        }
        Set<String> patients = new LinkedHashSet<>();
        if (s.type().equals("Patient")) {
            patients.add(s.id());
        }
        for (String f : List.of("subject", "patient")) {
            String r = j.path(f).path("reference").asText("");
            if (r.startsWith("Patient/")) {
                patients.add(r.substring("Patient/".length()));
            }
        }
        String title = "";
        if (DOCUMENTS.contains(s.type()) && j.path("meta").path("security").isEmpty()) {
            title = j.path("title").asText(j.path("description").asText(""));
            if (title.isEmpty()) {
                JsonNode type = j.path("type");
                title = type.path("text").asText(type.path("coding").path(0).path("display").asText(""));
            }
            title = title.length() > 60 ? title.substring(0, 60) + "…" : title;
        }
        LocalDate date = null;
        for (String f : List.of("date", "effectiveDateTime", "issued", "authoredOn", "recordedDate", "onsetDateTime",
                "occurrenceDateTime", "performedDateTime")) {
            date = day(j.path(f).asText(""));
            if (date != null) {
                break;
            }
        }
        if (date == null) {
            date = day(j.path("period").path("start").asText(""));
        }
        if (date == null && s.lastUpdated() != null) {
            date = LocalDate.ofInstant(s.lastUpdated(), zone);
        }
        return new Described(s.type(), title, date, patients);
    }

    /** A FHIR date or dateTime as the institution's day; null when it is neither. */
    private LocalDate day(String v) {
        if (v.length() == 10) {
            try {
                return LocalDate.parse(v);
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        if (v.length() > 10) {
            try {
                Instant at = OffsetDateTime.parse(v).toInstant();
                return LocalDate.ofInstant(at, zone);
            } catch (DateTimeParseException e) {
                return null;
            }
        }
        return null;
    }
}
