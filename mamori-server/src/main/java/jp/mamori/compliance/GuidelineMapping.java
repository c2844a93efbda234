package jp.mamori.compliance;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The requirement → code → test mapping ({@code docs/guideline-mapping.md}) read as data (issue 20, "Mamori's own
 * deliverables as a vendor"): the build copies the document into the jar, and this class reads its table, so the
 * service specification disclosure (SDS, {@link ServiceSpecification}) shows exactly what the mapping says, and a
 * test holds the mapping to the code (every ID exists in the catalogue, every file it names exists).
 *
 * <p>A row's first cell names one or more requirement IDs and may add a note in parentheses ({@code ACCESS-1 / STORE-1
 * (the worklist, issue 22)}); a range {@code DEGRADED-1 … DEGRADED-4} names every ID between; a family wildcard
 * ({@code DEGRADED-*}) names none (it would claim more than the row shows). Cells are split on {@code |} outside
 * code spans and not escaped as {@code \|}.
 */
public final class GuidelineMapping {
    /** Where the build puts the document in the jar. */
    public static final String RESOURCE = "/jp/mamori/compliance/guideline-mapping.md";
    /** The mapping is a few hundred kilobytes; a larger resource is not ours. */
    static final int MAX_BYTES = 4 * 1024 * 1024;
    private static final Pattern ID = Pattern.compile("\\b([A-Z]{2,12})-(\\d{1,3})\\b");
    private static final Pattern RANGE = Pattern.compile("\\b([A-Z]{2,12})-(\\d{1,3})\\s*(?:…|\\.\\.\\.|–|to)\\s*\\1-(\\d{1,3})\\b");
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");

    /**
     * One row of the mapping.
     *
     * @param ids     the requirement IDs the row is about, in order
     * @param label   the first cell as written (IDs and note)
     * @param summary the requirement in short (English)
     * @param how     how Mamori meets it (English, as the document says)
     * @param code    the code spans of the code cell (paths relative to the source root)
     * @param tests   the code spans of the tests cell
     * @param partly  whether the row says a later capability completes it ("Partly")
     */
    public record Row(List<String> ids, String label, String summary, String how, List<String> code,
                      List<String> tests, boolean partly) {
    }

    private final List<Row> rows;
    private final Map<String, List<Row>> byId;

    GuidelineMapping(List<Row> rows) {
        this.rows = List.copyOf(rows);
        Map<String, List<Row>> m = new LinkedHashMap<>();
        for (Row r : rows) {
            for (String id : r.ids()) {
                m.computeIfAbsent(id, k -> new ArrayList<>()).add(r);
            }
        }
        m.replaceAll((k, v) -> List.copyOf(v));
        this.byId = Collections.unmodifiableMap(m);
    }

    /**
     * The mapping the build put in the jar; empty when it is missing (a build from a source tree without docs) or does
     * not read (logged).
     */
    public static Optional<GuidelineMapping> bundled() {
        try (InputStream in = GuidelineMapping.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                return Optional.empty();
            }
            byte[] b = in.readNBytes(MAX_BYTES + 1);
            if (b.length > MAX_BYTES) {
                throw new IllegalStateException("guideline mapping larger than " + MAX_BYTES + " bytes");
            }
            return Optional.of(parse(new String(b, StandardCharsets.UTF_8)));
        } catch (IOException | RuntimeException e) {
            // a mapping that does not read never stops the server: the SDS says it has none (GuidelineMappingTest
            // keeps the shipped one readable)
            org.slf4j.LoggerFactory.getLogger(GuidelineMapping.class).warn("guideline mapping not read: {}",
                    e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Reads the table rows of a mapping document: lines that start with {@code | } after the header and separator.
     *
     * @throws IllegalArgumentException naming the line, for a table row that does not have five cells
     */
    public static GuidelineMapping parse(String markdown) {
        List<Row> rows = new ArrayList<>();
        String[] lines = markdown.split("\r?\n", -1);
        boolean inTable = false;
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (!line.startsWith("|")) {
                inTable = false;
                continue;
            }
            if (line.startsWith("| ID ") || line.startsWith("|---") || line.startsWith("| ---")) {
                inTable = true;
                continue;
            }
            if (!inTable) {
                // Markdown ends a table at a blank line: a row after one is shown as text and would be lost here
                throw new IllegalArgumentException("guideline mapping line " + (n + 1) + ": a table row outside the"
                        + " table (a blank line above it ends the table)");
            }
            List<String> cells = cells(line);
            if (cells.size() != 5) {
                throw new IllegalArgumentException("guideline mapping line " + (n + 1) + ": " + cells.size()
                        + " cells, expected 5 (ID, requirement, how, code, tests)");
            }
            String how = cells.get(2);
            rows.add(new Row(ids(cells.get(0)), cells.get(0), cells.get(1), how, spans(cells.get(3)),
                    spans(cells.get(4)), how.contains("Partly") || how.contains("partly:")));
        }
        return new GuidelineMapping(rows);
    }

    /** The cells of a table line: split on {@code |} outside code spans and not escaped; trimmed, ends dropped. */
    static List<String> cells(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean code = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '`') {
                code = !code;
                cur.append(c);
            } else if (c == '\\' && i + 1 < line.length() && line.charAt(i + 1) == '|') {
                cur.append('|');
                i++;
            } else if (c == '|' && !code) {
                out.add(cur.toString().strip());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        out.add(cur.toString().strip());
        // "| a | b |" gives "", a, b, "": drop the empty ends
        if (!out.isEmpty() && out.get(0).isEmpty()) {
            out.remove(0);
        }
        if (!out.isEmpty() && out.get(out.size() - 1).isEmpty()) {
            out.remove(out.size() - 1);
        }
        return out;
    }

    /** The requirement IDs a first cell names, ranges expanded, in order, once each; the note in parentheses ignored. */
    static List<String> ids(String cell) {
        int paren = cell.indexOf('(');
        String head = paren < 0 ? cell : cell.substring(0, paren);
        Set<String> out = new LinkedHashSet<>();
        Matcher range = RANGE.matcher(head);
        StringBuilder rest = new StringBuilder();
        int last = 0;
        while (range.find()) {
            int from = Integer.parseInt(range.group(2));
            int to = Integer.parseInt(range.group(3));
            rest.append(head, last, range.start());
            for (int i = from; i <= to && i - from < 100; i++) {
                out.add(range.group(1) + "-" + i);
            }
            last = range.end();
        }
        rest.append(head.substring(last));
        Matcher m = ID.matcher(rest);
        while (m.find()) {
            out.add(m.group(1) + "-" + Integer.parseInt(m.group(2)));
        }
        return List.copyOf(out);
    }

    private static List<String> spans(String cell) {
        List<String> out = new ArrayList<>();
        Matcher m = CODE.matcher(cell);
        while (m.find()) {
            out.add(m.group(1));
        }
        return List.copyOf(out);
    }

    public List<Row> rows() {
        return rows;
    }

    /** The rows that name requirement {@code id}, in document order; empty when none does. */
    public List<Row> forRequirement(String id) {
        return byId.getOrDefault(id, List.of());
    }

    /** Every requirement ID some row names. */
    public Set<String> ids() {
        return byId.keySet();
    }
}
