package jp.mamori.records;

import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import org.hl7.fhir.r4.model.DateTimeType;

import java.math.BigDecimal;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.TextNormalizer;
import jp.mamori.access.RowFilter;

/**
 * A FHIR search turned into SQL over the index tables. Parameter semantics follow the R4 specification:
 * string (prefix, case- and accent-insensitive; :exact, :contains), token (system|code; :not, :text),
 * date (eq ne gt lt ge le sa eb ap, partial dates), reference (Type/id, id, URL, :Type, chained), quantity
 * and number (prefixes, system|code), uri (:below, :above), :missing on all, _id, _lastUpdated and _has.
 * Unknown parameters and modifiers are refused, not ignored, so that a typo cannot widen a result.
 */
final class SearchQuery {
    /** Parameters that shape the result rather than filter it. */
    static final Set<String> CONTROL = Set.of("_count", "_sort", "_include", "_revinclude", "_summary", "_total",
            "_elements", "_format", "_pretty", "_cursor", "_contained", "_containedType");

    /** The highest code point: every string that starts with a prefix sorts below prefix + this. */
    private static final String PREFIX_END = new String(Character.toChars(0x10FFFF));

    record SortKey(String sqlExpr, boolean desc, String castType) {
    }

    final String type;
    private final List<String> where = new ArrayList<>();
    private final List<Object> args = new ArrayList<>();
    final List<SortKey> sort = new ArrayList<>();
    /** Other types the conditions look into (chain targets, _has sources): the caller must be able to search them. */
    final Set<String> joinedTypes = new java.util.TreeSet<>();

    /** Rows the caller may see, for the main query and every chained and _has subquery; null: all rows. */
    private final RowFilter filter;
    /**
     * The row filter of the main query and its arguments, built when a statement first needs them: a person's
     * search that names its patient is usually answered without them (see {@code RecordService}).
     */
    private String mainFilter;
    private List<Object> mainFilterArgs;
    /** Whether {@link #mainFilter} reads columns of {@code resource} (a person's does, permit-all's does not). */
    private boolean mainFilterReadsColumns;

    private SearchQuery(String type, RowFilter filter) {
        this.type = type;
        this.filter = filter;
    }

    /** Builds the filter for {@code type} from the (already decoded) parameters. */
    static SearchQuery parse(String type, Map<String, List<String>> params) {
        return parse(type, params, null);
    }

    /**
     * Builds the filter for {@code type}; with a {@link RowFilter}, only rows it keeps are matched, counted,
     * paged, or looked at by chained parameters and _has.
     */
    static SearchQuery parse(String type, Map<String, List<String>> params, RowFilter filter) {
        SearchQuery q = new SearchQuery(type, filter);
        for (Map.Entry<String, List<String>> e : params.entrySet()) {
            String key = e.getKey();
            if (CONTROL.contains(key)) {
                continue;
            }
            for (String value : e.getValue()) {
                q.where.add(q.condition("r", type, key, value, 0));
            }
        }
        List<String> sorts = params.getOrDefault("_sort", List.of());
        for (String s : sorts) {
            for (String k : s.split(",")) {
                if (!k.isBlank()) {
                    q.sort.add(q.sortKey(k.trim()));
                }
            }
        }
        return q;
    }

    private SortKey sortKey(String k) {
        boolean desc = k.startsWith("-");
        String name = desc ? k.substring(1) : k;
        if (name.equals("_lastUpdated")) {
            return new SortKey("r.last_updated", desc, "timestamptz");
        }
        if (name.equals("_id")) {
            return new SortKey("r.res_id", desc, "text");
        }
        RuntimeSearchParam sp = searchParam(type, name);
        String p = quoteLiteral(name);
        return switch (sp.getParamType()) {
            case DATE -> new SortKey("coalesce((SELECT min(d.lo) FROM sp_date d WHERE d.res_pk = r.res_pk AND d.param = "
                    + p + "), '" + (desc ? "-infinity" : "infinity") + "'::timestamptz)", desc, "timestamptz");
            case STRING -> new SortKey("coalesce((SELECT min(s.norm) FROM sp_string s WHERE s.res_pk = r.res_pk"
                    + " AND s.param = " + p + "), " + (desc ? "''" : "'\uffff'") + ")", desc, "text");
            case TOKEN -> new SortKey("coalesce((SELECT min(t.code) FROM sp_token t WHERE t.res_pk = r.res_pk"
                    + " AND t.param = " + p + "), " + (desc ? "''" : "'\uffff'") + ")", desc, "text");
            default -> throw FhirError.badRequest("cannot sort by '" + name + "' (type "
                    + sp.getParamType().getCode() + "); sort by _lastUpdated, _id, or a date, string or token parameter");
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

    /** One parameter occurrence as an SQL boolean over alias {@code a} of {@code resource}. */
    private String condition(String a, String rtype, String key, String value, int depth) {
        if (depth > 2) {
            throw FhirError.badRequest("chains deeper than two levels are not supported");
        }
        if (key.startsWith("_has:")) {
            return has(a, rtype, key, value, depth);
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
                return missing(value, "true".equals(value) ? "false" : "true");
            }
            List<String> ors = new ArrayList<>();
            for (String v : splitOr(value)) {
                ors.add(a + ".res_id = ?");
                args.add(v);
            }
            return "(" + String.join(" OR ", ors) + ")";
        }
        if (name.equals("_lastUpdated")) {
            requireModifier(modifier, name);
            List<String> ors = new ArrayList<>();
            for (String v : splitOr(value)) {
                ors.add(dateCompare(v, a + ".last_updated", a + ".last_updated + interval '1 millisecond'"));
            }
            return "(" + String.join(" OR ", ors) + ")";
        }
        RuntimeSearchParam sp = searchParam(rtype, name);
        if (chain != null) {
            if (sp.getParamType() != RestSearchParameterTypeEnum.REFERENCE) {
                throw FhirError.badRequest("'" + name + "' is not a reference parameter and cannot be chained");
            }
            return chained(a, rtype, name, modifier, sp, chain, value, depth);
        }
        if ("missing".equals(modifier)) {
            if (!value.equals("true") && !value.equals("false")) {
                throw FhirError.badRequest(":missing takes true or false");
            }
            String exists = "EXISTS (SELECT 1 FROM " + table(sp.getParamType()) + " x WHERE x.res_pk = " + a
                    + ".res_pk AND x.param = ?)";
            args.add(name);
            return value.equals("true") ? "NOT " + exists : exists;
        }
        return switch (sp.getParamType()) {
            case STRING -> string(a, rtype, name, modifier, value);
            case TOKEN -> token(a, rtype, name, modifier, value);
            case DATE -> date(a, rtype, name, modifier, value);
            case REFERENCE -> reference(a, rtype, name, modifier, sp, value);
            case QUANTITY, NUMBER -> quantity(a, rtype, name, modifier, value, sp.getParamType());
            case URI -> uri(a, rtype, name, modifier, value);
            default -> throw FhirError.badRequest("unsupported search parameter '" + name + "'");
        };
    }

    private String missing(String value, String ignored) {
        if (!value.equals("true") && !value.equals("false")) {
            throw FhirError.badRequest(":missing takes true or false");
        }
        return value.equals("true") ? "false" : "true";
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

    private String inIndex(String a, String table, String rtype, String name, List<String> ors) {
        args.add(rtype);
        args.add(name);
        // Parameters for the OR conditions were added by the caller before this call? No: they follow.
        return a + ".res_pk IN (SELECT x.res_pk FROM " + table + " x WHERE x.res_type = ? AND x.param = ? AND ("
                + String.join(" OR ", ors) + "))";
    }

    private String string(String a, String rtype, String name, String modifier, String value) {
        requireModifier(modifier, name, "exact", "contains");
        List<String> ors = new ArrayList<>();
        List<Object> vals = new ArrayList<>();
        for (String v : splitOr(value)) {
            String norm = TextNormalizer.normalize(v);
            if (norm.isEmpty()) {
                // only spaces or invisible characters: as a prefix it would match every value (a widened result)
                throw FhirError.badRequest("search value '" + name + "' has no visible character"
                        + " / 検索する文字が入力されていません");
            }
            if ("exact".equals(modifier)) {
                // Exact as FHIR asks (case, accents, width, 異体字), but canonically equivalent text is the same
                // text and invisible characters are not part of it (ADR 0003). Equal canonical forms have equal
                // normal forms: the norm narrows the index range first.
                ors.add("(x.norm = ? AND x.exact = ?)");
                vals.add(norm);
                vals.add(TextNormalizer.canonical(v));
            } else if ("contains".equals(modifier)) {
                ors.add("x.norm LIKE ?");
                vals.add("%" + TextNormalizer.likeEscape(norm) + "%");
            } else {
                // A prefix as a byte-wise range, which the text_pattern_ops index serves even in the generic
                // plan of a prepared statement (LIKE with a parameter cannot use it there).
                ors.add("(x.norm ~>=~ ? AND x.norm ~<~ ? AND x.norm LIKE ?)");
                vals.add(norm);
                vals.add(norm + PREFIX_END);
                vals.add(TextNormalizer.likeEscape(norm) + "%");
            }
        }
        String sql = inIndex(a, "sp_string", rtype, name, ors);
        args.addAll(vals);
        return sql;
    }

    private String token(String a, String rtype, String name, String modifier, String value) {
        requireModifier(modifier, name, "not", "text");
        List<String> ors = new ArrayList<>();
        List<Object> vals = new ArrayList<>();
        for (String v : splitOr(value)) {
            if ("text".equals(modifier)) {
                ors.add("x.display ILIKE ?");
                vals.add("%" + TextNormalizer.likeEscape(v) + "%");
                continue;
            }
            int bar = indexOfUnescaped(v, '|');
            if (bar < 0) {
                ors.add("x.code = ?");
                vals.add(unescape(v));
            } else {
                String system = unescape(v.substring(0, bar));
                String code = unescape(v.substring(bar + 1));
                if (system.isEmpty() && code.isEmpty()) {
                    throw FhirError.badRequest("token '|' needs a system or a code");
                }
                if (system.isEmpty()) {
                    ors.add("(x.code = ? AND x.system IS NULL)");
                    vals.add(code);
                } else if (code.isEmpty()) {
                    ors.add("x.system = ?");
                    vals.add(system);
                } else {
                    ors.add("(x.code = ? AND x.system = ?)");
                    vals.add(code);
                    vals.add(system);
                }
            }
        }
        String sql = inIndex(a, "sp_token", rtype, name, ors);
        args.addAll(vals);
        return "not".equals(modifier) ? "NOT (" + sql + ")" : sql;
    }

    private String date(String a, String rtype, String name, String modifier, String value) {
        requireModifier(modifier, name);
        List<String> ors = new ArrayList<>();
        for (String v : splitOr(value)) {
            ors.add(dateCompare(v, "x.lo", "x.hi"));
        }
        // dateCompare added its arguments already; the table arguments must come first in SQL order.
        int n = args.size();
        List<Object> tail = new ArrayList<>(args.subList(n - countPlaceholders(ors), n));
        args.subList(n - tail.size(), n).clear();
        String sql = inIndex(a, "sp_date", rtype, name, ors);
        args.addAll(tail);
        return sql;
    }

    private static int countPlaceholders(List<String> parts) {
        int c = 0;
        for (String p : parts) {
            for (int i = 0; i < p.length(); i++) {
                if (p.charAt(i) == '?') {
                    c++;
                }
            }
        }
        return c;
    }

    /** Compares the stored interval [lo, hi) with the searched one according to the prefix. */
    private String dateCompare(String v, String lo, String hi) {
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
        String sql = switch (prefix) {
            case "eq" -> "(" + lo + " >= ? AND " + hi + " <= ?)";
            case "ne" -> "NOT (" + lo + " >= ? AND " + hi + " <= ?)";
            case "gt", "ge" -> "(" + hi + " > ?)";
            case "lt", "le" -> "(" + lo + " < ?)";
            case "sa" -> "(" + lo + " >= ?)";
            case "eb" -> "(" + hi + " <= ?)";
            case "ap" -> "(" + lo + " < ? AND " + hi + " > ?)";
            default -> throw FhirError.badRequest("unknown date prefix '" + prefix + "'");
        };
        // One-sided prefixes compare with one bound of the searched interval.
        switch (prefix) {
            case "eq", "ne" -> {
                args.add(qlo);
                args.add(qhi);
            }
            case "gt", "sa", "le" -> args.add(qhi);
            case "lt", "eb", "ge" -> args.add(qlo);
            default -> { // ap: the searched interval widened by 10% of its distance from now, at least a day
                OffsetDateTime now = OffsetDateTime.now();
                long dist = Math.abs(Duration.between(now, q.lo()).toSeconds());
                Duration pad = Duration.ofSeconds(Math.max(86_400, dist / 10));
                args.add(Timestamp.from(q.hi().plus(pad).toInstant()));
                args.add(Timestamp.from(q.lo().minus(pad).toInstant()));
            }
        }
        return sql;
    }

    private String reference(String a, String rtype, String name, String modifier, RuntimeSearchParam sp,
                             String value) {
        String targetType = null;
        if (modifier != null) {
            if (!FhirSupport.isResourceType(modifier)) {
                throw FhirError.badRequest("modifier ':" + modifier + "' is not supported on '" + name + "'");
            }
            targetType = modifier;
        }
        List<String> ors = new ArrayList<>();
        List<Object> vals = new ArrayList<>();
        for (String v : splitOr(value)) {
            if (v.startsWith("http://") || v.startsWith("https://") || v.startsWith("urn:")) {
                ors.add("x.url = ?");
                vals.add(v);
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
            if (t == null) {
                ors.add("x.target_id = ?");
                vals.add(id);
            } else {
                ors.add("(x.target_id = ? AND x.target_type = ?)");
                vals.add(id);
                vals.add(t);
            }
        }
        String sql = inIndex(a, "sp_reference", rtype, name, ors);
        args.addAll(vals);
        return sql;
    }

    private String chained(String a, String rtype, String name, String modifier, RuntimeSearchParam sp, String chain,
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
        String alias = "c" + depth;
        args.add(rtype);
        args.add(name);
        args.add(target);
        args.add(target);
        String inner = restricted(alias, target, condition(alias, target, chain, value, depth + 1));
        return a + ".res_pk IN (SELECT x.res_pk FROM sp_reference x WHERE x.res_type = ? AND x.param = ?"
                + " AND x.target_type = ? AND x.target_id IN (SELECT " + alias + ".res_id FROM resource " + alias
                + " WHERE " + alias + ".res_type = ? AND NOT " + alias + ".deleted AND " + inner + "))";
    }

    /** {@code cond}, and with a row filter also the rows of the subquery the caller may see. */
    private String restricted(String alias, String rtype, String cond) {
        return filter == null ? cond : cond + " AND " + filter.condition(alias, rtype, args);
    }

    /** {@code _has:Observation:patient:code=X}: resources that some Observation with code X refers to. */
    private String has(String a, String rtype, String key, String value, int depth) {
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
        String alias = "h" + depth;
        args.add(source);
        args.add(parts[2]);
        args.add(rtype);
        args.add(source);
        String inner = restricted(alias, source, condition(alias, source, parts[3], value, depth + 1));
        return a + ".res_id IN (SELECT x.target_id FROM sp_reference x WHERE x.res_type = ? AND x.param = ?"
                + " AND x.target_type = ? AND x.res_pk IN (SELECT " + alias + ".res_pk FROM resource " + alias
                + " WHERE " + alias + ".res_type = ? AND NOT " + alias + ".deleted AND " + inner + "))";
    }

    private String quantity(String a, String rtype, String name, String modifier, String value,
                            RestSearchParameterTypeEnum kind) {
        requireModifier(modifier, name);
        List<String> ors = new ArrayList<>();
        List<Object> vals = new ArrayList<>();
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
            String cond = switch (prefix) {
                case "eq" -> "(x.value >= ? AND x.value < ?)";
                case "ne" -> "NOT (x.value >= ? AND x.value < ?)";
                case "gt", "sa" -> "x.value > ?";
                case "lt", "eb" -> "x.value < ?";
                case "ge" -> "x.value >= ?";
                case "le" -> "x.value <= ?";
                case "ap" -> "(x.value >= ? AND x.value <= ?)";
                default -> throw FhirError.badRequest("unknown prefix '" + prefix + "'");
            };
            switch (prefix) {
                case "eq", "ne" -> {
                    vals.add(d.subtract(half));
                    vals.add(d.add(half));
                }
                case "ap" -> {
                    BigDecimal tenth = d.abs().divide(BigDecimal.TEN);
                    vals.add(d.subtract(tenth));
                    vals.add(d.add(tenth));
                }
                default -> vals.add(d);
            }
            if (kind == RestSearchParameterTypeEnum.QUANTITY && parts.length == 3) {
                if (!parts[1].isEmpty()) {
                    cond = "(" + cond + " AND x.system = ?)";
                    vals.add(parts[1]);
                }
                if (!parts[2].isEmpty()) {
                    cond = "(" + cond + " AND x.code = ?)";
                    vals.add(parts[2]);
                }
            } else if (parts.length != 1) {
                throw FhirError.badRequest("'" + v + "' must be [prefix]number or [prefix]number|system|code");
            }
            ors.add(cond);
        }
        String sql = inIndex(a, "sp_quantity", rtype, name, ors);
        args.addAll(vals);
        return sql;
    }

    private String uri(String a, String rtype, String name, String modifier, String value) {
        requireModifier(modifier, name, "below", "above");
        List<String> ors = new ArrayList<>();
        List<Object> vals = new ArrayList<>();
        for (String v : splitOr(value)) {
            if ("below".equals(modifier)) {
                ors.add("x.uri LIKE ?");
                vals.add(TextNormalizer.likeEscape(v) + "%");
            } else if ("above".equals(modifier)) {
                ors.add("? LIKE x.uri || '%'");
                vals.add(v);
            } else {
                ors.add("x.uri = ?");
                vals.add(v);
            }
        }
        String sql = inIndex(a, "sp_uri", rtype, name, ors);
        args.addAll(vals);
        return sql;
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

    // ---- SQL assembly ----

    private static final String INDEX_LOOKUP = "r.res_pk IN (SELECT x.res_pk FROM ";

    /** The most digits a searched number may have before or after its decimal point. */
    private static final int MAX_DIGITS = 1_000;

    /**
     * Whether the search can be answered from the index alone: its first condition is a lookup of indexed
     * values and it sorts by nothing but the row key. Index rows exist only for the current version of
     * resources that are not deleted (each write rebuilds them; a delete removes them), so such a search
     * needs neither the type nor the deleted flag of {@code resource}, and skips a lookup per match.
     */
    private boolean indexDriven(boolean needResourceColumns, boolean filtered) {
        if (needResourceColumns || !sort.isEmpty() || where.isEmpty() || !where.get(0).startsWith(INDEX_LOOKUP)
                || !where.get(0).endsWith(")")) {
            return false;
        }
        // The other conditions may use only the row key: _id and _lastUpdated read columns of resource, and so
        // does a person's row filter (permit-all's does not).
        return firstReadingColumns() >= where.size() && !(filtered && mainFilter() != null && mainFilterReadsColumns);
    }

    /** The main query's row filter (null without one), built on first use; its arguments follow all others. */
    private String mainFilter() {
        if (filter != null && mainFilter == null) {
            List<Object> out = new ArrayList<>();
            mainFilter = filter.condition("r", type, out);
            mainFilterArgs = out;
            mainFilterReadsColumns = readsColumnOtherThanRowKey(mainFilter);
        }
        return mainFilter;
    }

    /** Memo of {@link #firstReadingColumns()}: the conditions are complete once the query is parsed. */
    private int firstReadingColumns = -1;

    /** The index of the first condition after the first that reads a column of resource other than the row key. */
    private int firstReadingColumns() {
        if (firstReadingColumns < 0) {
            int found = where.size();
            for (int i = 1; i < where.size() && found == where.size(); i++) {
                if (readsColumnOtherThanRowKey(where.get(i))) {
                    found = i;
                }
            }
            firstReadingColumns = found;
        }
        return firstReadingColumns;
    }

    /** Whether {@code sql} names {@code r.<column>} for a column other than res_pk (a person's filter is long). */
    static boolean readsColumnOtherThanRowKey(String sql) {
        for (int at = sql.indexOf("r."); at >= 0; at = sql.indexOf("r.", at + 2)) {
            if (at > 0 && isWordChar(sql.charAt(at - 1))) {
                continue;
            }
            int end = at + 2;
            while (end < sql.length() && isWordChar(sql.charAt(end))) {
                end++;
            }
            int length = end - (at + 2);
            if (length > 0 && !(length == 6 && sql.regionMatches(at + 2, "res_pk", 0, 6))) {
                return true;
            }
        }
        return false;
    }

    private static boolean isWordChar(char ch) {
        return ch == '_' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9';
    }

    /**
     * The FROM and WHERE clauses of the search, binding alias {@code r} with at least {@code res_pk};
     * with {@code needResourceColumns} it is the {@code resource} table itself.
     */
    String fromWhereSql(boolean needResourceColumns) {
        return fromWhereSql(needResourceColumns, true);
    }

    /** As {@link #fromWhereSql(boolean)}; without {@code filtered}, the main query's row filter is left out. */
    String fromWhereSql(boolean needResourceColumns, boolean filtered) {
        StringBuilder sb = new StringBuilder();
        int first = 0;
        if (indexDriven(needResourceColumns, filtered)) {
            String lookup = where.get(0); // r.res_pk IN (SELECT x.res_pk FROM ...)
            String inner = lookup.substring("r.res_pk IN (".length(), lookup.length() - 1);
            sb.append("(SELECT DISTINCT").append(inner.substring("SELECT".length())).append(") r WHERE true");
            first = 1;
        } else {
            sb.append("resource r WHERE r.res_type = ? AND NOT r.deleted");
        }
        for (int i = first; i < where.size(); i++) {
            sb.append(" AND ").append(where.get(i));
        }
        if (filtered && mainFilter() != null) {
            sb.append(" AND ").append(mainFilter());
        }
        return sb.toString();
    }

    /** The arguments of {@link #fromWhereSql(boolean, boolean)}. */
    List<Object> fromWhereArgs(boolean needResourceColumns, boolean filtered) {
        List<Object> out = new ArrayList<>();
        if (!indexDriven(needResourceColumns, filtered)) {
            out.add(type);
        }
        out.addAll(args);
        if (filtered && mainFilter() != null) {
            out.addAll(mainFilterArgs);
        }
        return out;
    }

    /**
     * Whether a person's search is best paged in chunks (see {@code RecordService}): it has a row filter, the
     * default order, and does not already name one patient, so that most matches may be of other patients.
     */
    boolean acrossPatients(Map<String, List<String>> params) {
        return filter != null && sort.isEmpty() && !namesPatient(params);
    }

    /** Whether the search names its patient(s): patient or subject (of any modifier or chain), or Patient?_id. */
    private boolean namesPatient(Map<String, List<String>> params) {
        for (String key : params.keySet()) {
            String name = key;
            for (int i = 0; i < key.length(); i++) {
                if (key.charAt(i) == ':' || key.charAt(i) == '.') {
                    name = key.substring(0, i);
                    break;
                }
            }
            if (name.equals("patient") || name.equals("subject") || (type.equals("Patient") && name.equals("_id"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a page of this person's search may first be read without the row filter and decided in memory
     * (see {@code RecordService}): it has a row filter and names its patient(s). Chained and _has conditions keep
     * the filter inside their subqueries either way (it is written into them when they are parsed), so they never
     * match through a row the person may not see.
     */
    boolean pageDecidableInMemory(Map<String, List<String>> params) {
        return filter != null && namesPatient(params);
    }

    /**
     * The keys of the next {@code chunk} matches after {@code afterPk}, in key order, found without the main row
     * filter: the caller decides each of them as a read is decided.
     */
    String chunkSql(long afterPk, int chunk, List<Object> out) {
        out.addAll(fromWhereArgs(false, false));
        out.add(afterPk);
        return "SELECT r.res_pk FROM " + fromWhereSql(false, false) + " AND r.res_pk > ? ORDER BY r.res_pk ASC LIMIT "
                + chunk;
    }

    List<Object> fromWhereArgs(boolean needResourceColumns) {
        return fromWhereArgs(needResourceColumns, true);
    }

    /** Keyset condition for the page after {@code cursor}, plus its arguments. */
    String afterSql(List<String> cursor, List<Object> outArgs) {
        // Keys in order: the sort keys, then res_pk in the direction of the first key.
        List<String> exprs = new ArrayList<>();
        List<Boolean> desc = new ArrayList<>();
        List<String> casts = new ArrayList<>();
        for (SortKey k : sort) {
            exprs.add(k.sqlExpr());
            desc.add(k.desc());
            casts.add(k.castType());
        }
        exprs.add("r.res_pk");
        desc.add(!sort.isEmpty() && sort.get(0).desc());
        casts.add("bigint");
        if (cursor.size() != exprs.size() || !cursor.get(cursor.size() - 1).matches("[0-9]{1,18}")) {
            throw FhirError.badRequest("the paging link is not valid for this search; start the search again");
        }
        for (int i = 0; i < casts.size() - 1; i++) {
            if (casts.get(i).equals("timestamptz")
                    && !cursor.get(i).matches("-?infinity|[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9:.]+([+-][0-9:]+|Z)?")) {
                throw FhirError.badRequest("the paging link is not valid for this search; start the search again");
            }
        }
        List<String> ors = new ArrayList<>();
        for (int i = 0; i < exprs.size(); i++) {
            StringBuilder and = new StringBuilder("(");
            for (int j = 0; j < i; j++) {
                and.append(exprs.get(j)).append(" = ?::").append(casts.get(j)).append(" AND ");
                outArgs.add(cursor.get(j));
            }
            and.append(exprs.get(i)).append(desc.get(i) ? " < ?::" : " > ?::").append(casts.get(i)).append(")");
            outArgs.add(cursor.get(i));
            ors.add(and.toString());
        }
        return "(" + String.join(" OR ", ors) + ")";
    }

    String orderSql() {
        StringBuilder sb = new StringBuilder(" ORDER BY ");
        for (SortKey k : sort) {
            sb.append(k.sqlExpr()).append(k.desc() ? " DESC, " : " ASC, ");
        }
        sb.append("r.res_pk").append(!sort.isEmpty() && sort.get(0).desc() ? " DESC" : " ASC");
        return sb.toString();
    }

    String sortSelectSql() {
        StringBuilder sb = new StringBuilder();
        for (SortKey k : sort) {
            sb.append(", ").append(k.sqlExpr()).append("::text");
        }
        return sb.toString();
    }

    static String encodeCursor(List<String> values) {
        List<String> enc = new ArrayList<>();
        for (String v : values) {
            enc.add(URLEncoder.encode(v, StandardCharsets.UTF_8));
        }
        return Base64.getUrlEncoder().withoutPadding()
                .encodeToString(String.join(",", enc).getBytes(StandardCharsets.UTF_8));
    }

    static List<String> decodeCursor(String cursor) {
        try {
            String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            for (String p : s.split(",", -1)) {
                out.add(URLDecoder.decode(p, StandardCharsets.UTF_8));
            }
            return out;
        } catch (IllegalArgumentException e) {
            throw FhirError.badRequest("the paging link is not valid; start the search again");
        }
    }

    static Map<String, List<String>> copy(Map<String, List<String>> m) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, new ArrayList<>(v)));
        return out;
    }
}
