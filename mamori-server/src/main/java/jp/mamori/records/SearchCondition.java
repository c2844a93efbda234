package jp.mamori.records;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.util.List;
import jp.mamori.kernel.TextNormalizer;
import jp.mamori.access.RowFilter;

/**
 * One occurrence of a search parameter, parsed and checked ({@link SearchParser}): each kind of parameter is a
 * record here, and turns into an SQL boolean over an alias of {@code resource} only when a {@link SearchPlan} is
 * made. Every value was validated when it was parsed; writing the SQL never fails.
 */
sealed interface SearchCondition {

    /**
     * The condition as an SQL boolean over alias {@code a} of {@code resource}; its {@code ?} arguments are
     * appended to {@code args} in the order of the text. A chained or {@code _has} condition also keeps, with
     * {@code filter} (null: none), only the rows of its subquery the caller may see.
     */
    String sql(String a, List<Object> args, RowFilter filter);

    /** {@code r.res_pk IN (SELECT x.res_pk FROM <table> x WHERE ...)}: a lookup of indexed values of one parameter. */
    private static String inIndex(String a, String table, String rtype, String name, List<Object> args, Ors ors) {
        args.add(rtype);
        args.add(name);
        StringBuilder sb = new StringBuilder(a).append(".res_pk IN (SELECT x.res_pk FROM ").append(table)
                .append(" x WHERE x.res_type = ? AND x.param = ? AND (");
        ors.write(sb, args);
        return sb.append("))").toString();
    }

    /** Writes the alternatives of one occurrence (FHIR's comma), joined by OR. */
    @FunctionalInterface
    interface Ors {
        void write(StringBuilder sb, List<Object> args);
    }

    private static void or(StringBuilder sb, int i) {
        if (i > 0) {
            sb.append(" OR ");
        }
    }

    /** {@code _id=a,b}. */
    record Id(List<String> ids) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < ids.size(); i++) {
                or(sb, i);
                sb.append(a).append(".res_id = ?");
                args.add(ids.get(i));
            }
            return sb.append(")").toString();
        }
    }

    /** {@code _id:missing=true|false}: every resource has an id, so it is a constant. */
    record IdMissing(boolean missing) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            return missing ? "false" : "true";
        }
    }

    /** {@code param:missing=true|false}: whether the resource has no index row for the parameter. */
    record Missing(String table, String name, boolean missing) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            String exists = "EXISTS (SELECT 1 FROM " + table + " x WHERE x.res_pk = " + a + ".res_pk AND x.param = ?)";
            args.add(name);
            return missing ? "NOT " + exists : exists;
        }
    }

    /** {@code _lastUpdated}: the instant of the head as the interval of its millisecond. */
    record LastUpdated(List<DateBound> ors) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < ors.size(); i++) {
                or(sb, i);
                ors.get(i).write(sb, a + ".last_updated", a + ".last_updated + interval '1 millisecond'", args);
            }
            return sb.append(")").toString();
        }
    }

    /**
     * One searched date with its prefix: the stored interval [lo, hi) compared with the searched one; {@code bounds}
     * are the instants compared with, in the order of the text (one or two).
     */
    record DateBound(String prefix, List<Timestamp> bounds) {
        void write(StringBuilder sb, String lo, String hi, List<Object> args) {
            switch (prefix) {
                case "eq" -> sb.append("(").append(lo).append(" >= ? AND ").append(hi).append(" <= ?)");
                case "ne" -> sb.append("NOT (").append(lo).append(" >= ? AND ").append(hi).append(" <= ?)");
                case "gt", "ge" -> sb.append("(").append(hi).append(" > ?)");
                case "lt", "le" -> sb.append("(").append(lo).append(" < ?)");
                case "sa" -> sb.append("(").append(lo).append(" >= ?)");
                case "eb" -> sb.append("(").append(hi).append(" <= ?)");
                default -> sb.append("(").append(lo).append(" < ? AND ").append(hi).append(" > ?)"); // ap
            }
            args.addAll(bounds);
        }
    }

    /** A date parameter (sp_date). */
    record Date(String rtype, String name, List<DateBound> ors) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            return inIndex(a, "sp_date", rtype, name, args, (sb, out) -> {
                for (int i = 0; i < ors.size(); i++) {
                    or(sb, i);
                    ors.get(i).write(sb, "x.lo", "x.hi", out);
                }
            });
        }
    }

    /** How a string parameter matches. */
    enum TextMatch { PREFIX, EXACT, CONTAINS }

    /**
     * A string parameter (sp_string): {@code norms} are the searched values in normal form (never empty);
     * {@code canonicals} their canonical forms, for {@link TextMatch#EXACT} only (else null).
     */
    record Text(String rtype, String name, TextMatch match, List<String> norms, List<String> canonicals)
            implements SearchCondition {
        /** The highest code point: every string that starts with a prefix sorts below prefix + this. */
        private static final String PREFIX_END = new String(Character.toChars(0x10FFFF));

        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            return inIndex(a, "sp_string", rtype, name, args, (sb, out) -> {
                for (int i = 0; i < norms.size(); i++) {
                    or(sb, i);
                    String norm = norms.get(i);
                    switch (match) {
                        case EXACT -> {
                            // Exact as FHIR asks (case, accents, width, 異体字), but canonically equivalent text is
                            // the same text and invisible characters are not part of it (ADR 0003). Equal canonical
                            // forms have equal normal forms: the norm narrows the index range first.
                            sb.append("(x.norm = ? AND x.exact = ?)");
                            out.add(norm);
                            out.add(canonicals.get(i));
                        }
                        case CONTAINS -> {
                            sb.append("x.norm LIKE ?");
                            out.add("%" + TextNormalizer.likeEscape(norm) + "%");
                        }
                        case PREFIX -> {
                            // A prefix as a byte-wise range, which the text_pattern_ops index serves even in the
                            // generic plan of a prepared statement (LIKE with a parameter cannot use it there).
                            sb.append("(x.norm ~>=~ ? AND x.norm ~<~ ? AND x.norm LIKE ?)");
                            out.add(norm);
                            out.add(norm + PREFIX_END);
                            out.add(TextNormalizer.likeEscape(norm) + "%");
                        }
                    }
                }
            });
        }
    }

    /**
     * One searched token: {@code code} alone ({@code system} null: any system), {@code |code} ({@code system} empty:
     * no system), {@code system|} ({@code code} empty) or {@code system|code}; unescaped.
     */
    record TokenValue(String system, String code) {
    }

    /** A token parameter (sp_token); with {@code not}, the resources without such a token. */
    record Token(String rtype, String name, boolean not, List<TokenValue> values) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            String sql = inIndex(a, "sp_token", rtype, name, args, (sb, out) -> {
                for (int i = 0; i < values.size(); i++) {
                    or(sb, i);
                    TokenValue v = values.get(i);
                    if (v.system() == null) {
                        sb.append("x.code = ?");
                        out.add(v.code());
                    } else if (v.system().isEmpty()) {
                        sb.append("(x.code = ? AND x.system IS NULL)");
                        out.add(v.code());
                    } else if (v.code().isEmpty()) {
                        sb.append("x.system = ?");
                        out.add(v.system());
                    } else {
                        sb.append("(x.code = ? AND x.system = ?)");
                        out.add(v.code());
                        out.add(v.system());
                    }
                }
            });
            return not ? "NOT (" + sql + ")" : sql;
        }
    }

    /** {@code param:text}: a token whose display contains each searched text (as given, not unescaped). */
    record TokenText(String rtype, String name, List<String> texts) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            return inIndex(a, "sp_token", rtype, name, args, (sb, out) -> {
                for (int i = 0; i < texts.size(); i++) {
                    or(sb, i);
                    sb.append("x.display ILIKE ?");
                    out.add("%" + TextNormalizer.likeEscape(texts.get(i)) + "%");
                }
            });
        }
    }

    /** One searched reference: an absolute {@code url}, or an id with its type ({@code type} null: any type). */
    record ReferenceValue(String url, String type, String id) {
    }

    /** A reference parameter (sp_reference). */
    record Reference(String rtype, String name, List<ReferenceValue> values) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            return inIndex(a, "sp_reference", rtype, name, args, (sb, out) -> {
                for (int i = 0; i < values.size(); i++) {
                    or(sb, i);
                    ReferenceValue v = values.get(i);
                    if (v.url() != null) {
                        sb.append("x.url = ?");
                        out.add(v.url());
                    } else if (v.type() == null) {
                        sb.append("x.target_id = ?");
                        out.add(v.id());
                    } else {
                        sb.append("(x.target_id = ? AND x.target_type = ?)");
                        out.add(v.id());
                        out.add(v.type());
                    }
                }
            });
        }
    }

    /**
     * One searched number with its prefix: {@code bounds} are the values compared with (the implicit range of eq
     * and ne, the 10% of ap, else the number), and a quantity's {@code system} and {@code code} (null or empty:
     * any).
     */
    record NumberValue(String prefix, List<BigDecimal> bounds, String system, String code) {
    }

    /** A quantity or number parameter (sp_quantity). */
    record Quantity(String rtype, String name, List<NumberValue> values) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            return inIndex(a, "sp_quantity", rtype, name, args, (sb, out) -> {
                for (int i = 0; i < values.size(); i++) {
                    or(sb, i);
                    NumberValue v = values.get(i);
                    boolean system = v.system() != null && !v.system().isEmpty();
                    boolean code = v.code() != null && !v.code().isEmpty();
                    sb.append("(".repeat((system ? 1 : 0) + (code ? 1 : 0)));
                    sb.append(switch (v.prefix()) {
                        case "eq" -> "(x.value >= ? AND x.value < ?)";
                        case "ne" -> "NOT (x.value >= ? AND x.value < ?)";
                        case "gt", "sa" -> "x.value > ?";
                        case "lt", "eb" -> "x.value < ?";
                        case "ge" -> "x.value >= ?";
                        case "le" -> "x.value <= ?";
                        default -> "(x.value >= ? AND x.value <= ?)"; // ap
                    });
                    out.addAll(v.bounds());
                    if (system) {
                        sb.append(" AND x.system = ?)");
                        out.add(v.system());
                    }
                    if (code) {
                        sb.append(" AND x.code = ?)");
                        out.add(v.code());
                    }
                }
            });
        }
    }

    /** How a uri parameter matches. */
    enum UriMatch { EQUAL, BELOW, ABOVE }

    /** A uri parameter (sp_uri). */
    record Uri(String rtype, String name, UriMatch match, List<String> uris) implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            return inIndex(a, "sp_uri", rtype, name, args, (sb, out) -> {
                for (int i = 0; i < uris.size(); i++) {
                    or(sb, i);
                    String v = uris.get(i);
                    switch (match) {
                        case BELOW -> {
                            sb.append("x.uri LIKE ?");
                            out.add(TextNormalizer.likeEscape(v) + "%");
                        }
                        case ABOVE -> {
                            sb.append("? LIKE x.uri || '%'");
                            out.add(v);
                        }
                        case EQUAL -> {
                            sb.append("x.uri = ?");
                            out.add(v);
                        }
                    }
                }
            });
        }
    }

    /**
     * {@code name:Target.chain=value}: resources whose reference {@code name} points at a {@code target} resource
     * that matches {@code inner} (over {@code alias}) and that the caller may see.
     */
    record Chain(String rtype, String name, String target, String alias, SearchCondition inner)
            implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            args.add(rtype);
            args.add(name);
            args.add(target);
            args.add(target);
            String cond = restricted(alias, target, inner.sql(alias, args, filter), args, filter);
            return a + ".res_pk IN (SELECT x.res_pk FROM sp_reference x WHERE x.res_type = ? AND x.param = ?"
                    + " AND x.target_type = ? AND x.target_id IN (SELECT " + alias + ".res_id FROM resource " + alias
                    + " WHERE " + alias + ".res_type = ? AND NOT " + alias + ".deleted AND " + cond + "))";
        }
    }

    /**
     * {@code _has:Source:reference:param=value}: resources that some {@code source} resource the caller may see,
     * matching {@code inner} (over {@code alias}), refers to by {@code reference}.
     */
    record Has(String rtype, String source, String reference, String alias, SearchCondition inner)
            implements SearchCondition {
        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            args.add(source);
            args.add(reference);
            args.add(rtype);
            args.add(source);
            String cond = restricted(alias, source, inner.sql(alias, args, filter), args, filter);
            return a + ".res_id IN (SELECT x.target_id FROM sp_reference x WHERE x.res_type = ? AND x.param = ?"
                    + " AND x.target_type = ? AND x.res_pk IN (SELECT " + alias + ".res_pk FROM resource " + alias
                    + " WHERE " + alias + ".res_type = ? AND NOT " + alias + ".deleted AND " + cond + "))";
        }
    }

    /**
     * {@code Encounter?place=内科,3東}: encounters in one of these departments or wards, by the names the record
     * store keeps for each encounter's places ({@code encounter_care}: the service type's text and displays, the
     * service provider's display and each location's display, NFKC-normalised; {@link SearchIndexer}). R4 has no
     * search parameter for an encounter's department (service-type came with R5) nor for a location named only by
     * display; this one serves the console's patient search (issue 22) as {@code _has:Encounter:patient:place=}, where
     * the person's row filter applies to the encounters as to any _has.
     */
    record Place(List<String> places) implements SearchCondition {
        static final String PARAM = "place";

        @Override
        public String sql(String a, List<Object> args, RowFilter filter) {
            args.add(places.toArray(String[]::new));
            return a + ".res_pk IN (SELECT ec.res_pk FROM encounter_care ec WHERE ec.place = ANY(?::text[]))";
        }
    }

    /** {@code cond}, and with a row filter also the rows of the subquery the caller may see. */
    private static String restricted(String alias, String rtype, String cond, List<Object> args, RowFilter filter) {
        return filter == null ? cond : cond + " AND " + filter.condition(alias, rtype, args);
    }
}
