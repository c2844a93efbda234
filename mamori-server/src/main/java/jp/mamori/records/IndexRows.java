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

    final Set<Str> strings = new LinkedHashSet<>();
    final Set<Token> tokens = new LinkedHashSet<>();
    final Set<Date> dates = new LinkedHashSet<>();
    final Set<Ref> refs = new LinkedHashSet<>();
    final Set<Quantity> quantities = new LinkedHashSet<>();
    final Set<Uri> uris = new LinkedHashSet<>();

    public List<Ref> references() {
        return new ArrayList<>(refs);
    }

    public int size() {
        return strings.size() + tokens.size() + dates.size() + refs.size() + quantities.size() + uris.size();
    }
}
