package jp.mamori.records;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * For {@code verify-records}: whether what is derived from the newest version of each resource is what that version
 * says (STORE-1 真正性; ADR 0002). The head ({@code resource}: type and id, deleted flag, lifecycle, last updated, and
 * the access columns patients, document type codings and security labels) is compared with the version itself and
 * with its body indexed again by {@link SearchIndexer}, the code that indexed it when it was written; the search
 * index rows ({@code sp_*}, {@code encounter_care}) with those of the body indexed again. Every difference is reported,
 * with the rows missing and the rows that should not be there. (The head's version number is checked against the
 * versions by {@link RecordService#verifyAll}.)
 *
 * <p>Resources are checked in batches: one query for their heads and one per index table.
 */
final class DerivedCheck {
    static final int BATCH = 500;
    /** At most this many rows are listed per table and direction; the rest are counted. */
    static final int SHOWN = 10;

    private final SearchIndexer indexer;
    private final Consumer<RecordService.Mismatch> report;
    private final List<RecordStore.Version> batch = new ArrayList<>();
    private long checked;

    DerivedCheck(SearchIndexer indexer, Consumer<RecordService.Mismatch> report) {
        this.indexer = indexer;
        this.report = report;
    }

    /** How many resources were checked. */
    long checked() {
        return checked;
    }

    /** Adds the newest stored version of a resource; checks the batch when it is full. */
    void add(Connection c, RecordStore.Version newest) throws SQLException {
        batch.add(newest);
        if (batch.size() >= BATCH) {
            flush(c);
        }
    }

    /** A table of the search index: how its rows are read and how the indexer's rows of the same kind read. */
    private record Table<T>(String name, String columns, Function<IndexRows, Collection<T>> expected,
                            Function<T, String> render, RowReader read) {
    }

    @FunctionalInterface
    private interface RowReader {
        String read(ResultSet rs) throws SQLException;
    }

    /**
     * Every index table. A row reads as its parameter, then its values quoted (null unquoted), timestamps as UTC
     * instants and numbers without trailing zeros; a row under another type than the resource's starts with that type
     * in brackets, so that it never equals an expected row.
     */
    private static final List<Table<?>> TABLES = List.of(
            new Table<IndexRows.Str>("sp_string", "res_type, param, norm, exact", r -> r.strings,
                    x -> row(x.param(), q(x.norm()), q(x.exact())),
                    rs -> row(rs.getString(3), q(rs.getString(4)), q(rs.getString(5)))),
            new Table<IndexRows.Token>("sp_token", "res_type, param, system, code, display", r -> r.tokens,
                    x -> row(x.param(), q(x.system()), q(x.code()), q(x.display())),
                    rs -> row(rs.getString(3), q(rs.getString(4)), q(rs.getString(5)), q(rs.getString(6)))),
            new Table<IndexRows.Date>("sp_date", "res_type, param, lo, hi", r -> r.dates,
                    x -> row(x.param(), t(x.lo()), t(x.hi())),
                    rs -> row(rs.getString(3), t(rs.getTimestamp(4)), t(rs.getTimestamp(5)))),
            new Table<IndexRows.Ref>("sp_reference", "res_type, param, target_type, target_id, url", r -> r.refs,
                    x -> row(x.param(), q(x.targetType()), q(x.targetId()), q(x.url())),
                    rs -> row(rs.getString(3), q(rs.getString(4)), q(rs.getString(5)), q(rs.getString(6)))),
            new Table<IndexRows.Quantity>("sp_quantity", "res_type, param, value, system, code", r -> r.quantities,
                    x -> row(x.param(), n(x.value()), q(x.system()), q(x.code())),
                    rs -> row(rs.getString(3), n(rs.getBigDecimal(4)), q(rs.getString(5)), q(rs.getString(6)))),
            new Table<IndexRows.Uri>("sp_uri", "res_type, param, uri", r -> r.uris,
                    x -> row(x.param(), q(x.uri())),
                    rs -> row(rs.getString(3), q(rs.getString(4)))),
            // No type column: an encounter's wards; the patient and place come first.
            new Table<IndexRows.Place>("encounter_care", "NULL, patient_id, place, starts, ends", r -> r.places,
                    x -> row(q(x.patientId()), q(x.place()), t(x.starts()), t(x.ends())),
                    rs -> row(q(rs.getString(3)), q(rs.getString(4)), t(rs.getTimestamp(5)), t(rs.getTimestamp(6)))));

    /** Checks every resource added since the last flush. */
    void flush(Connection c) throws SQLException {
        if (batch.isEmpty()) {
            return;
        }
        Long[] pks = batch.stream().map(RecordStore.Version::pk).toArray(Long[]::new);
        java.sql.Array keys = c.createArrayOf("bigint", pks);
        Map<Long, String> types = new HashMap<>();
        batch.forEach(v -> types.put(v.pk(), v.type()));
        Map<Long, Object[]> heads = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT res_pk, res_type, res_id, deleted, lifecycle,"
                + " last_updated, patients, doc_codes, labels FROM resource WHERE res_pk = ANY (?)")) {
            ps.setArray(1, keys);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    heads.put(rs.getLong(1), new Object[] {rs.getString(2), rs.getString(3), rs.getBoolean(4),
                            rs.getString(5), rs.getTimestamp(6).toInstant(), texts(rs, 7), texts(rs, 8), texts(rs, 9)});
                }
            }
        }
        List<Map<Long, Map<String, Integer>>> stored = new ArrayList<>();
        for (Table<?> t : TABLES) {
            Map<Long, Map<String, Integer>> byPk = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT res_pk, " + t.columns() + " FROM " + t.name()
                    + " WHERE res_pk = ANY (?)")) {
                ps.setArray(1, keys);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String type = rs.getString(2);
                        String row = t.read().read(rs);
                        long pk = rs.getLong(1);
                        if (type != null && !type.equals(types.get(pk))) {
                            row = "[" + type + "] " + row;
                        }
                        byPk.computeIfAbsent(pk, k -> new HashMap<>()).merge(row, 1, Integer::sum);
                    }
                }
            }
            stored.add(byPk);
        }
        for (RecordStore.Version v : batch) {
            checked++;
            IndexRows rows;
            try {
                rows = v.deleted() ? new IndexRows()
                        : indexer.extract(FhirSupport.parseStored(new String(v.body(), StandardCharsets.UTF_8)));
            } catch (RuntimeException e) {
                problem(v, "最新版の本文を読めないため現在版と検索索引を確認できません / the newest version's body"
                        + " does not parse, so its head and index rows cannot be checked", "a FHIR resource",
                        String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
                continue;
            }
            Object[] h = heads.get(v.pk());
            if (h == null) {
                problem(v, "現在版の行がありません / the resource has no head row", "a head", "none");
            } else {
                head(v, "type/id", v.type() + "/" + v.id(), h[0] + "/" + h[1]);
                head(v, "deleted", v.deleted(), h[2]);
                head(v, "lifecycle", v.lifecycle(), h[3]);
                head(v, "last_updated", v.recordedAt(), h[4]);
                head(v, "patients", v.deleted() ? Set.of() : new TreeSet<>(rows.patients(v.type(), v.id())), h[5]);
                head(v, "doc_codes", new TreeSet<>(rows.docCodes()), h[6]);
                head(v, "labels", new TreeSet<>(rows.labels()), h[7]);
            }
            for (int i = 0; i < TABLES.size(); i++) {
                index(v, TABLES.get(i), rows, stored.get(i).getOrDefault(v.pk(), Map.of()));
            }
        }
        batch.clear();
    }

    private void head(RecordStore.Version v, String column, Object expected, Object found) {
        Object e = expected instanceof Set<?> s ? new TreeSet<>(s) : expected;
        Object f = found instanceof Set<?> s ? new TreeSet<>(s) : found;
        if (!Objects.equals(e, f)) {
            problem(v, "現在版の " + column + " が最新版と一致しません / head " + column
                    + " differs from the newest version", String.valueOf(e), String.valueOf(f));
        }
    }

    private <T> void index(RecordStore.Version v, Table<T> table, IndexRows rows, Map<String, Integer> stored) {
        Map<String, Integer> expected = new TreeMap<>();
        for (T x : table.expected().apply(rows)) {
            expected.merge(table.render().apply(x), 1, Integer::sum);
        }
        List<String> missing = new ArrayList<>();
        List<String> extra = new ArrayList<>();
        for (var e : expected.entrySet()) {
            for (int i = stored.getOrDefault(e.getKey(), 0); i < e.getValue(); i++) {
                missing.add(e.getKey());
            }
        }
        for (var e : new TreeMap<>(stored).entrySet()) {
            for (int i = expected.getOrDefault(e.getKey(), 0); i < e.getValue(); i++) {
                extra.add(e.getKey());
            }
        }
        if (!missing.isEmpty() || !extra.isEmpty()) {
            problem(v, "検索索引 " + table.name() + " が最新版と一致しません / search index " + table.name()
                    + " differs from the newest version: " + missing.size() + " rows missing, " + extra.size()
                    + " rows not from it", list(missing), list(extra));
        }
    }

    private void problem(RecordStore.Version v, String what, String expected, String found) {
        report.accept(new RecordService.Mismatch(v.type(), v.id(), v.version(), what, expected, found));
    }

    private static String list(List<String> rows) {
        if (rows.isEmpty()) {
            return "none";
        }
        String shown = String.join("; ", rows.subList(0, Math.min(SHOWN, rows.size())));
        return rows.size() > SHOWN ? shown + "; … and " + (rows.size() - SHOWN) + " more" : shown;
    }

    private static String row(String... parts) {
        return String.join(" ", parts);
    }

    /**
     * A text value quoted, as PostgreSQL keeps it: through UTF-8, so that a lone surrogate (a string cut inside a
     * pair) reads as the driver stored it.
     */
    private static String q(String s) {
        if (s == null) {
            return "null";
        }
        String stored = new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        return "\"" + stored.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String t(OffsetDateTime t) {
        // as written: through java.sql.Timestamp, which is also how the stored value is read back
        return t == null ? "null" : Timestamp.from(t.toInstant()).toInstant().toString();
    }

    private static String t(Timestamp t) {
        return t == null ? "null" : t.toInstant().toString();
    }

    private static String n(BigDecimal d) {
        return d == null ? "null" : d.stripTrailingZeros().toPlainString();
    }

    private static Set<String> texts(ResultSet rs, int column) throws SQLException {
        java.sql.Array a = rs.getArray(column);
        return a == null ? Set.of() : new TreeSet<>(java.util.Arrays.asList((String[]) a.getArray()));
    }
}
