package jp.mamori.records;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Reading common FHIR datatypes from a stored version's JSON, the one way every page and printout does it (the
 * console's pages, the downtime kit): a CodeableConcept as text, its first code.
 */
public final class FhirJson {
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
}
