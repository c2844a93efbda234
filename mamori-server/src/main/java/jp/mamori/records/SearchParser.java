package jp.mamori.records;

import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import jp.mamori.records.SearchCondition.DateBound;
import jp.mamori.records.SearchCondition.NumberValue;
import jp.mamori.records.SearchCondition.ReferenceValue;
import jp.mamori.records.SearchCondition.TextMatch;
import jp.mamori.records.SearchCondition.TokenValue;
import jp.mamori.records.SearchCondition.UriMatch;
import org.hl7.fhir.r4.model.DateTimeType;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.TextNormalizer;
import jp.mamori.access.RowFilter;

/**
 * The parameters of a FHIR search (already decoded) turned into a {@link SearchQuery}: one {@link SearchCondition}
 * per occurrence of a parameter, in the order given, and the sort keys. Parameter semantics follow the R4
 * specification: string (prefix, case- and accent-insensitive; :exact, :contains), token (system|code; :not,
 * :text), date (eq ne gt lt ge le sa eb ap, partial dates), reference (Type/id, id, URL, :Type, chained), quantity
 * and number (prefixes, system|code), uri (:below, :above), :missing on all, _id, _lastUpdated and _has. Unknown
 * parameters and modifiers are refused (400), not ignored, so that a typo cannot widen a result; every error is
 * found here, before any statement is written or run.
 */
final class SearchParser {
    /** Parameters that shape the result rather than filter it. */
    static final Set<String> CONTROL = Set.of("_count", "_sort", "_include", "_revinclude", "_summary", "_total",
            "_elements", "_format", "_pretty", "_cursor", "_contained", "_containedType");

    /** The most digits a searched number may have before or after its decimal point. */
    private static final int MAX_DIGITS = 1_000;

    private final String type;
    /** Other types the conditions look into (chain targets, _has sources), in order. */
    private final Set<String> joinedTypes = new TreeSet<>();

    private SearchParser(String type) {
        this.type = type;
    }

    /** The query for {@code type} from the (already decoded) parameters. */
    static SearchQuery parse(String type, Map<String, List<String>> params) {
        return parse(type, params, null);
    }

    /**
     * The query for {@code type}; with a {@link RowFilter}, only rows it keeps are matched, counted, paged, or looked
     * at by chained parameters and _has.
     */
    static SearchQuery parse(String type, Map<String, List<String>> params, RowFilter filter) {
        SearchParser p = new SearchParser(type);
        List<SearchCondition> conditions = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            String key = e.getKey();
            if (CONTROL.contains(key)) {
                continue;
            }
            for (String value : e.getValue()) {
                conditions.add(p.condition(type, key, value, 0));
            }
        }
        List<SearchQuery.SortKey> sort = new ArrayList<>();
        for (String s : params.getOrDefault("_sort", List.of())) {
            for (String k : s.split(",")) {
                if (!k.isBlank()) {
                    sort.add(p.sortKey(k.trim()));
                }
            }
        }
        return new SearchQuery(type, conditions, sort, p.joinedTypes, filter);
    }

    private SearchQuery.SortKey sortKey(String k) {
        boolean desc = k.startsWith("-");
        String name = desc ? k.substring(1) : k;
        if (name.equals("_lastUpdated")) {
            return new SearchQuery.SortKey("r.last_updated", desc, "timestamptz");
        }
        if (name.equals("_id")) {
            return new SearchQuery.SortKey("r.res_id", desc, "text");
        }
        RuntimeSearchParam sp = searchParam(type, name);
        String p = quoteLiteral(name);
        return switch (sp.getParamType()) {
            case DATE -> new SearchQuery.SortKey("coalesce((SELECT min(d.lo) FROM sp_date d WHERE d.res_pk = r.res_pk"
                    + " AND d.param = " + p + "), '" + (desc ? "-infinity" : "infinity") + "'::timestamptz)", desc,
                    "timestamptz");
            case STRING -> new SearchQuery.SortKey("coalesce((SELECT min(s.norm) FROM sp_string s WHERE s.res_pk ="
                    + " r.res_pk AND s.param = " + p + "), " + (desc ? "''" : "'\uffff'") + ")", desc, "text");
            case TOKEN -> new SearchQuery.SortKey("coalesce((SELECT min(t.code) FROM sp_token t WHERE t.res_pk ="
                    + " r.res_pk AND t.param = " + p + "), " + (desc ? "''" : "'\uffff'") + ")", desc, "text");
            default -> throw FhirError.badRequest("cannot sort by '" + name + "' (type "
                    + sp.getParamType().getCode()
                    + "); sort by _lastUpdated, _id, or a date, string or token parameter");
        };
    }

    private static String quoteLiteral(String s) {
        if (!s.matches("[A-Za-z0-9_.\\-]+")) {
            throw FhirError.badRequest("invalid parameter name '" + s + "'");
        }
        return "'" + s + "'";
    }

    static RuntimeSearchParam searchParam(String type, String name) {
        RuntimeResourceDefinition def = FhirSupport.CTX.getResourceDefinition(type);
        RuntimeSearchParam sp = def.getSearchParam(name);
        if (sp == null || sp.getParamType() == RestSearchParameterTypeEnum.COMPOSITE
                || sp.getParamType() == RestSearchParameterTypeEnum.SPECIAL || name.equals("_text")
                || name.equals("_content") || name.equals("_list") || name.equals("_query")) {
            throw FhirError.badRequest("unknown or unsupported search parameter '" + name + "' for " + type
                    + " / 検索条件 '" + name + "' は使用できません");
        }
        return sp;
    }

    /** One parameter occurrence on resources of {@code rtype}, at chain depth {@code depth}. */
    private SearchCondition condition(String rtype, String key, String value, int depth) {
        if (depth > 2) {
            throw FhirError.badRequest("chains deeper than two levels are not supported");
        }
        if (key.startsWith("_has:")) {
            return has(rtype, key, value, depth);
        }
        String name = key;
        String modifier = null;
        String chain = null;
        int dot = key.indexOf('.');
        if (dot > 0) {
            chain = key.substring(dot + 1);
            name = key.substring(0, dot);
        }
        int colon = name.indexOf(':');
        if (colon > 0) {
            modifier = name.substring(colon + 1);
            name = name.substring(0, colon);
        }
        if (name.equals("_id")) {
            requireModifier(modifier, name, "missing");
            if ("missing".equals(modifier)) {
                return new SearchCondition.IdMissing(trueOrFalse(value));
            }
            return new SearchCondition.Id(splitOr(value));
        }
        if (name.equals("_lastUpdated")) {
            requireModifier(modifier, name);
            List<DateBound> ors = new ArrayList<>();
            for (String v : splitOr(value)) {
                ors.add(dateBound(v));
            }
            return new SearchCondition.LastUpdated(ors);
        }
        if (rtype.equals("Encounter") && name.equals(SearchCondition.Place.PARAM) && chain == null) {
            requireModifier(modifier, name);
            List<String> places = new ArrayList<>();
            for (String v : splitOr(value)) {
                String place = jp.mamori.kernel.TextNormalizer.placeName(v);
                if (place == null || place.length() > 100) {
                    throw FhirError.badRequest("'" + name + "' needs a department or ward name / 診療科名または病棟名を指定してください");
                }
                places.add(place);
            }
            return new SearchCondition.Place(places);
        }
        RuntimeSearchParam sp = searchParam(rtype, name);
        if (chain != null) {
            if (sp.getParamType() != RestSearchParameterTypeEnum.REFERENCE) {
                throw FhirError.badRequest("'" + name + "' is not a reference parameter and cannot be chained");
            }
            return chained(rtype, name, modifier, sp, chain, value, depth);
        }
        if ("missing".equals(modifier)) {
            boolean missing = trueOrFalse(value);
            return new SearchCondition.Missing(table(sp.getParamType()), name, missing);
        }
        return switch (sp.getParamType()) {
            case STRING -> string(rtype, name, modifier, value);
            case TOKEN -> token(rtype, name, modifier, value);
            case DATE -> date(rtype, name, modifier, value);
            case REFERENCE -> reference(rtype, name, modifier, value);
            case QUANTITY, NUMBER -> quantity(rtype, name, modifier, value, sp.getParamType());
            case URI -> uri(rtype, name, modifier, value);
            default -> throw FhirError.badRequest("unsupported search parameter '" + name + "'");
        };
    }

    private static boolean trueOrFalse(String value) {
        if (!value.equals("true") && !value.equals("false")) {
            throw FhirError.badRequest(":missing takes true or false");
        }
        return value.equals("true");
    }

    private static void requireModifier(String modifier, String name, String... allowed) {
        if (modifier != null && !List.of(allowed).contains(modifier)) {
            throw FhirError.badRequest("modifier ':" + modifier + "' is not supported on '" + name + "'");
        }
    }

    static String table(RestSearchParameterTypeEnum t) {
        return switch (t) {
            case STRING -> "sp_string";
            case TOKEN -> "sp_token";
            case DATE -> "sp_date";
            case REFERENCE -> "sp_reference";
            case QUANTITY, NUMBER -> "sp_quantity";
            case URI -> "sp_uri";
            default -> throw FhirError.badRequest("unsupported parameter type " + t);
        };
    }

    private static SearchCondition string(String rtype, String name, String modifier, String value) {
        requireModifier(modifier, name, "exact", "contains");
        TextMatch match = "exact".equals(modifier) ? TextMatch.EXACT
                : "contains".equals(modifier) ? TextMatch.CONTAINS : TextMatch.PREFIX;
        List<String> norms = new ArrayList<>();
        List<String> canonicals = match == TextMatch.EXACT ? new ArrayList<>() : null;
        for (String v : splitOr(value)) {
            String norm = TextNormalizer.normalize(v);
            if (norm.isEmpty()) {
                // only spaces or invisible characters: as a prefix it would match every value (a widened result)
                throw FhirError.badRequest("search value '" + name + "' has no visible character"
                        + " / 検索する文字が入力されていません");
            }
            norms.add(norm);
            if (canonicals != null) {
                canonicals.add(TextNormalizer.canonical(v));
            }
        }
        return new SearchCondition.Text(rtype, name, match, norms, canonicals);
    }

    private static SearchCondition token(String rtype, String name, String modifier, String value) {
        requireModifier(modifier, name, "not", "text");
        if ("text".equals(modifier)) {
            return new SearchCondition.TokenText(rtype, name, splitOr(value));
        }
        List<TokenValue> values = new ArrayList<>();
        for (String v : splitOr(value)) {
            int bar = indexOfUnescaped(v, '|');
            if (bar < 0) {
                values.add(new TokenValue(null, unescape(v)));
            } else {
                String system = unescape(v.substring(0, bar));
                String code = unescape(v.substring(bar + 1));
                if (system.isEmpty() && code.isEmpty()) {
                    throw FhirError.badRequest("token '|' needs a system or a code");
                }
                values.add(new TokenValue(system, code));
            }
        }
        return new SearchCondition.Token(rtype, name, "not".equals(modifier), values);
    }

    private static SearchCondition date(String rtype, String name, String modifier, String value) {
        requireModifier(modifier, name);
        List<DateBound> ors = new ArrayList<>();
        for (String v : splitOr(value)) {
            ors.add(dateBound(v));
        }
        return new SearchCondition.Date(rtype, name, ors);
    }

    /** A searched date with its prefix, as the instants the stored interval is compared with. */
    private static DateBound dateBound(String v) {
        String prefix = "eq";
        if (v.length() > 2 && Character.isLetter(v.charAt(0)) && Character.isLetter(v.charAt(1))) {
            prefix = v.substring(0, 2);
            v = v.substring(2);
        }
        DateRanges.Range q;
        try {
            q = DateRanges.of(new DateTimeType(v));
        } catch (RuntimeException e) {
            q = null;
        }
        if (q == null) {
            throw FhirError.badRequest("invalid date '" + v + "': use YYYY, YYYY-MM, YYYY-MM-DD or a dateTime"
                    + " / 日付の形式が正しくありません");
        }
        Timestamp qlo = Timestamp.from(q.lo().toInstant());
        Timestamp qhi = Timestamp.from(q.hi().toInstant());
        // One-sided prefixes compare with one bound of the searched interval.
        List<Timestamp> bounds = switch (prefix) {
            case "eq", "ne" -> List.of(qlo, qhi);
            case "gt", "sa", "le" -> List.of(qhi);
            case "lt", "eb", "ge" -> List.of(qlo);
            case "ap" -> { // the searched interval widened by 10% of its distance from now, at least a day
                OffsetDateTime now = OffsetDateTime.now();
                long dist = Math.abs(Duration.between(now, q.lo()).toSeconds());
                Duration pad = Duration.ofSeconds(Math.max(86_400, dist / 10));
                yield List.of(Timestamp.from(q.hi().plus(pad).toInstant()),
                        Timestamp.from(q.lo().minus(pad).toInstant()));
            }
            default -> throw FhirError.badRequest("unknown date prefix '" + prefix + "'");
        };
        return new DateBound(prefix, bounds);
    }

    private static SearchCondition reference(String rtype, String name, String modifier, String value) {
        String targetType = null;
        if (modifier != null) {
            if (!FhirSupport.isResourceType(modifier)) {
                throw FhirError.badRequest("modifier ':" + modifier + "' is not supported on '" + name + "'");
            }
            targetType = modifier;
        }
        List<ReferenceValue> values = new ArrayList<>();
        for (String v : splitOr(value)) {
            if (v.startsWith("http://") || v.startsWith("https://") || v.startsWith("urn:")) {
                values.add(new ReferenceValue(v, null, null));
                continue;
            }
            String t = targetType;
            String id = v;
            int slash = v.indexOf('/');
            if (slash > 0) {
                t = v.substring(0, slash);
                id = v.substring(slash + 1);
                if (!FhirSupport.isResourceType(t)) {
                    throw FhirError.badRequest("'" + v + "' is not a reference of the form Type/id");
                }
            }
            values.add(new ReferenceValue(null, t, id));
        }
        return new SearchCondition.Reference(rtype, name, values);
    }

    private SearchCondition chained(String rtype, String name, String modifier, RuntimeSearchParam sp, String chain,
                                    String value, int depth) {
        String target = modifier;
        if (target == null) {
            Set<String> targets = sp.getTargets();
            if (targets.size() != 1) {
                throw FhirError.badRequest("chain on '" + name + "' needs the target type, e.g. " + name
                        + ":Patient." + chain + " (targets: " + String.join(", ", targets) + ")");
            }
            target = targets.iterator().next();
        }
        if (!FhirSupport.isResourceType(target)) {
            throw FhirError.badRequest("unknown target type '" + target + "'");
        }
        joinedTypes.add(target);
        return new SearchCondition.Chain(rtype, name, target, "c" + depth,
                condition(target, chain, value, depth + 1));
    }

    /** {@code _has:Observation:patient:code=X}: resources that some Observation with code X refers to. */
    private SearchCondition has(String rtype, String key, String value, int depth) {
        String[] parts = key.split(":", 4);
        if (parts.length != 4 || !FhirSupport.isResourceType(parts[1])) {
            throw FhirError.badRequest("_has must be _has:Type:referenceParam:param=value");
        }
        String source = parts[1];
        RuntimeSearchParam ref = searchParam(source, parts[2]);
        if (ref.getParamType() != RestSearchParameterTypeEnum.REFERENCE) {
            throw FhirError.badRequest("'" + parts[2] + "' of " + source + " is not a reference parameter");
        }
        joinedTypes.add(source);
        return new SearchCondition.Has(rtype, source, parts[2], "h" + depth,
                condition(source, parts[3], value, depth + 1));
    }

    private static SearchCondition quantity(String rtype, String name, String modifier, String value,
                                            RestSearchParameterTypeEnum kind) {
        requireModifier(modifier, name);
        List<NumberValue> values = new ArrayList<>();
        for (String v : splitOr(value)) {
            String[] parts = v.split("\\|", -1);
            String num = parts[0];
            String prefix = "eq";
            if (num.length() > 2 && Character.isLetter(num.charAt(0)) && Character.isLetter(num.charAt(1))) {
                prefix = num.substring(0, 2);
                num = num.substring(2);
            }
            BigDecimal d;
            try {
                d = new BigDecimal(num);
            } catch (NumberFormatException e) {
                throw FhirError.badRequest("invalid number '" + num + "' for '" + name + "'");
            }
            // 1e999999 parses, but its range (a million digits) would take the request thread minutes to write out.
            if (d.precision() - d.scale() > MAX_DIGITS || d.scale() > MAX_DIGITS) {
                throw FhirError.badRequest("the number '" + num + "' for '" + name + "' is out of range (at most "
                        + MAX_DIGITS + " digits before or after the decimal point)");
            }
            // The implicit range of a number is half a unit of its last significant digit (5.4 means [5.35, 5.45)).
            BigDecimal half = BigDecimal.ONE.movePointLeft(Math.max(d.scale(), 0)).divide(BigDecimal.valueOf(2));
            List<BigDecimal> bounds = switch (prefix) {
                case "eq", "ne" -> List.of(d.subtract(half), d.add(half));
                case "ap" -> {
                    BigDecimal tenth = d.abs().divide(BigDecimal.TEN);
                    yield List.of(d.subtract(tenth), d.add(tenth));
                }
                case "gt", "sa", "lt", "eb", "ge", "le" -> List.of(d);
                default -> throw FhirError.badRequest("unknown prefix '" + prefix + "'");
            };
            String system = null;
            String code = null;
            if (kind == RestSearchParameterTypeEnum.QUANTITY && parts.length == 3) {
                system = parts[1];
                code = parts[2];
            } else if (parts.length != 1) {
                throw FhirError.badRequest("'" + v + "' must be [prefix]number or [prefix]number|system|code");
            }
            values.add(new NumberValue(prefix, bounds, system, code));
        }
        return new SearchCondition.Quantity(rtype, name, values);
    }

    private static SearchCondition uri(String rtype, String name, String modifier, String value) {
        requireModifier(modifier, name, "below", "above");
        UriMatch match = "below".equals(modifier) ? UriMatch.BELOW
                : "above".equals(modifier) ? UriMatch.ABOVE : UriMatch.EQUAL;
        return new SearchCondition.Uri(rtype, name, match, splitOr(value));
    }

    /** Splits a value on unescaped commas (FHIR's OR). */
    static List<String> splitOr(String value) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '\\' && i + 1 < value.length()) {
                cur.append(c).append(value.charAt(++i));
            } else if (c == ',') {
                out.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString());
        for (String s : out) {
            if (s.isEmpty()) {
                throw FhirError.badRequest("empty search value");
            }
        }
        return out;
    }

    private static int indexOfUnescaped(String s, char ch) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\\') {
                i++;
            } else if (s.charAt(i) == ch) {
                return i;
            }
        }
        return -1;
    }

    private static String unescape(String s) {
        return s.replace("\\,", ",").replace("\\|", "|").replace("\\$", "$").replace("\\\\", "\\");
    }
}
