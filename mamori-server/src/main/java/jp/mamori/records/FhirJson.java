package jp.mamori.records;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reading common FHIR datatypes from a stored version's JSON, the one way every page and printout does it (the
 * console's pages, the downtime kit): a CodeableConcept as text, its first code, a date or time as an instant, the
 * places an encounter names.
 */
public final class FhirJson {
    private static final ZoneId JST = ZoneId.of("Asia/Tokyo");
    private FhirJson() {
    }

    /** A CodeableConcept as text: its text, else the first coding's display, else its code; "" for none. */
    public static String concept(JsonNode cc) {
        if (cc == null || cc.isMissingNode()) {
            return "";
        }
        if (cc.hasNonNull("text")) {
            return cc.get("text").asText();
        }
        for (JsonNode c : cc.path("coding")) {
            if (c.hasNonNull("display")) {
                return c.get("display").asText();
            }
            if (c.hasNonNull("code")) {
                return c.get("code").asText();
            }
        }
        return "";
    }

    /** The code of the first coding of {@code system} (any system when null), or "". */
    public static String firstCode(JsonNode cc, String system) {
        for (JsonNode c : cc.path("coding")) {
            if (system == null || system.equals(c.path("system").asText())) {
                return c.path("code").asText("");
            }
        }
        return "";
    }

    /**
     * A FHIR dateTime or instant as an instant; a date alone (year, year-month or full date) as the start of that
     * day in Japan; null when absent or malformed.
     */
    public static Instant instant(JsonNode v) {
        String s = v == null ? "" : v.asText("");
        if (s.isEmpty()) {
            return null;
        }
        try {
            if (s.length() <= 10) {
                return LocalDate.parse(s.length() == 4 ? s + "-01-01" : s.length() == 7 ? s + "-01" : s)
                        .atStartOfDay(JST).toInstant();
            }
            return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /**
     * The departments and wards an Encounter (as JSON) relates its patient to, named exactly as the record store's
     * index of stays names them ({@link SearchIndexer}): the service type's text and coding displays, the service
     * provider's display and each location's display, each through {@link jp.mamori.kernel.TextNormalizer#placeName}.
     */
    public static Set<String> encounterPlaces(JsonNode e) {
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode st : e.path("serviceType").isArray() ? e.path("serviceType") : List.of(e.path("serviceType"))) {
            names.add(st.path("text").asText(null));
            for (JsonNode c : st.path("coding")) {
                names.add(c.path("display").asText(null));
            }
        }
        names.add(e.path("serviceProvider").path("display").asText(null));
        for (JsonNode l : e.path("location")) {
            names.add(l.path("location").path("display").asText(null));
        }
        Set<String> out = new LinkedHashSet<>();
        for (String n : names) {
            String p = jp.mamori.kernel.TextNormalizer.placeName(n);
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }
}
