package jp.mamori.records;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The search-index rows of one resource version, by index table. Duplicates are dropped. */
public final class IndexRows {
    public record Str(String param, String norm, String exact) {
    }

    public record Token(String param, String system, String code, String display) {
    }

    public record Date(String param, OffsetDateTime lo, OffsetDateTime hi) {
    }

    public record Ref(String param, String targetType, String targetId, String url) {
    }

    public record Quantity(String param, BigDecimal value, String system, String code) {
    }

    public record Uri(String param, String uri) {
    }

    /**
     * A department or ward an encounter belongs to, for care relationships derived from encounters: {@code ends}
     * is null while the encounter lasts.
     */
    public record Place(String patientId, String place, OffsetDateTime starts, OffsetDateTime ends) {
    }

    final Set<Str> strings = new LinkedHashSet<>();
    final Set<Token> tokens = new LinkedHashSet<>();
    final Set<Date> dates = new LinkedHashSet<>();
    final Set<Ref> refs = new LinkedHashSet<>();
    final Set<Quantity> quantities = new LinkedHashSet<>();
    final Set<Uri> uris = new LinkedHashSet<>();
    final Set<Place> places = new LinkedHashSet<>();

    public List<Ref> references() {
        return new ArrayList<>(refs);
    }

    /** The patients a version of {@code type}/{@code id} belongs to: its patient/subject references, or itself. */
    public Set<String> patients(String type, String id) {
        Set<String> out = new java.util.TreeSet<>();
        if ("Patient".equals(type)) {
            out.add(id);
        }
        for (Ref r : refs) {
            if (jp.mamori.access.AccessPolicy.PATIENT_PARAMS.contains(r.param()) && "Patient".equals(r.targetType())
                    && r.targetId() != null) {
                out.add(r.targetId());
            }
        }
        return out;
    }

    /** The document type codings ({@code system|code}) of the version. */
    public Set<String> docCodes() {
        Set<String> out = new java.util.TreeSet<>();
        for (Token t : tokens) {
            if (jp.mamori.access.AccessPolicy.DOC_TYPE_PARAM.equals(t.param()) && t.system() != null && t.code() != null) {
                out.add(t.system() + "|" + t.code());
            }
        }
        return out;
    }

    /** The {@code meta.security} codes of the version. */
    public Set<String> labels() {
        Set<String> out = new java.util.TreeSet<>();
        for (Token t : tokens) {
            if (jp.mamori.access.AccessPolicy.LABEL_PARAM.equals(t.param()) && t.code() != null) {
                out.add(t.code());
            }
        }
        return out;
    }

    public List<Place> places() {
        return new ArrayList<>(places);
    }

    public int size() {
        return strings.size() + tokens.size() + dates.size() + refs.size() + quantities.size() + uris.size();
    }
}
