package jp.mamori.compliance;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads one framework file (docs/compliance-frameworks.md) and checks it whole before anything of it is used
 * (issue 20, "Bad input"): UTF-8 only (a UTF-8 byte order mark is allowed, as Windows editors write one; UTF-16 and
 * malformed bytes are refused), at most {@link #MAX_BYTES}, no unknown or repeated field, no duplicate id, every
 * section, party and requirement ID known. A refusal names the file, the line and the reason, Japanese first.
 */
public final class FrameworkLoader {
    /** The largest file read: the catalogue of 257 requirements is about 100 KB. */
    public static final int MAX_BYTES = 2 * 1024 * 1024;
    static final int MAX_ITEMS = 2000;
    static final int MAX_TEXT = 20_000;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.-]{0,15}");
    private static final Pattern REQUIREMENT = Pattern.compile("[A-Z]{2,10}-[0-9]{1,3}");

    private static final Set<String> TOP = Set.of("format", "id", "version", "fiscalYear", "title", "source",
            "sections", "items");
    private static final Set<String> TITLE = Set.of("ja", "en");
    private static final Set<String> SOURCE = Set.of("document", "date", "url", "seed");
    private static final Set<String> SECTION = Set.of("id", "title");
    private static final Set<String> ITEM = Set.of("id", "section", "number", "category", "title", "text", "party",
            "examples", "risks", "references", "requirements", "replaces", "seedLine", "titleEn", "textEn");

    private FrameworkLoader() {
    }

    /** Why a file was not loaded: where and what, one line, Japanese first ("日本語 / English"). */
    public record Refusal(String file, int line, String reason) {
        @Override
        public String toString() {
            return file + (line > 0 ? ":" + line : "") + ": " + reason;
        }
    }

    /** A refused file. */
    public static final class Refused extends Exception {
        private final Refusal refusal;

        Refused(String file, int line, String reason) {
            super(file + ":" + line + ": " + reason, null, false, false);
            this.refusal = new Refusal(file, line, reason);
        }

        public Refusal refusal() {
            return refusal;
        }
    }

    /** A framework read, with the line of each item (for refusals found later, such as a {@code replaces}). */
    public record Loaded(Framework framework, Map<String, Integer> itemLines) {
    }

    /**
     * @param requirements the requirement IDs items may name; null for the catalogue itself, whose items name
     *                     their own IDs
     */
    public static Loaded read(String file, byte[] bytes, Set<String> requirements) throws Refused {
        String text = decode(file, bytes);
        Node root = parse(file, text);
        return build(file, root, requirements);
    }

    // ------------------------------------------------------------------ bytes to text

    static String decode(String file, byte[] bytes) throws Refused {
        if (bytes.length > MAX_BYTES) {
            throw new Refused(file, 0, "ファイルが大きすぎます（" + MAX_BYTES / 1024 / 1024 + " MB まで） / file too large (at most "
                    + MAX_BYTES / 1024 / 1024 + " MB)");
        }
        int start = 0;
        if (bytes.length >= 3 && (bytes[0] & 0xFF) == 0xEF && (bytes[1] & 0xFF) == 0xBB && (bytes[2] & 0xFF) == 0xBF) {
            start = 3; // a UTF-8 byte order mark, as Notepad and Excel write it
        } else if (bytes.length >= 2 && ((bytes[0] & 0xFF) == 0xFE && (bytes[1] & 0xFF) == 0xFF
                || (bytes[0] & 0xFF) == 0xFF && (bytes[1] & 0xFF) == 0xFE)) {
            throw new Refused(file, 1, "文字コードが UTF-16 です。UTF-8 で保存してください / encoded as UTF-16, save it as UTF-8");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, start, bytes.length - start)).toString();
        } catch (CharacterCodingException e) {
            // find the line of the first bad byte
            int line = 1;
            var decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT);
            int good = start;
            for (int i = start; i < bytes.length; i++) {
                if (bytes[i] == '\n') {
                    try {
                        decoder.reset().decode(ByteBuffer.wrap(bytes, good, i + 1 - good));
                    } catch (CharacterCodingException bad) {
                        break;
                    }
                    line++;
                    good = i + 1;
                }
            }
            throw new Refused(file, line, "UTF-8 ではない文字があります（Shift_JIS 等で保存されていませんか） / not UTF-8"
                    + " (saved as Shift_JIS?)");
        }
    }

    // ------------------------------------------------------------------ text to a tree with line numbers

    /** A JSON value and the line it starts on. */
    record Node(Object value, int line) {
        @SuppressWarnings("unchecked")
        Map<String, Node> object() {
            return (Map<String, Node>) value;
        }

        @SuppressWarnings("unchecked")
        List<Node> array() {
            return (List<Node>) value;
        }
    }

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16)
                    .maxStringLength(MAX_TEXT * 4).build())
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    static Node parse(String file, String text) throws Refused {
        try (JsonParser p = JSON.createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) {
                throw new Refused(file, 1, "ファイルが空です / the file is empty");
            }
            Node root = value(p);
            if (p.nextToken() != null) {
                throw new Refused(file, line(p), "JSON の後に余分な内容があります / content after the JSON value");
            }
            return root;
        } catch (JsonParseException e) {
            String why = e.getOriginalMessage();
            int line = e.getLocation() == null ? 0 : e.getLocation().getLineNr();
            if (why != null && why.startsWith("Duplicate field")) {
                throw new Refused(file, line, "同じ項目名が二度あります（" + field(why) + "） / duplicate field "
                        + field(why));
            }
            throw new Refused(file, line, "JSON として読めません / not valid JSON: "
                    + (why == null ? "" : why.lines().findFirst().orElse("")).replaceAll("[\\p{Cntrl}]", " ")
                    .substring(0, Math.min(120, why == null ? 0 : why.lines().findFirst().orElse("").length())));
        } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
            throw new Refused(file, 0, "入れ子が深すぎるか、文字列が長すぎます / nested too deep or a string too long");
        } catch (IOException e) {
            throw new Refused(file, 0, "読めません / cannot read: " + e.getClass().getSimpleName());
        }
    }

    private static String field(String message) {
        int a = message.indexOf('\'');
        int b = message.indexOf('\'', a + 1);
        return a >= 0 && b > a ? message.substring(a + 1, b) : "?";
    }

    private static int line(JsonParser p) {
        return p.currentTokenLocation().getLineNr();
    }

    private static Node value(JsonParser p) throws IOException {
        int line = line(p);
        return switch (p.currentToken()) {
            case START_OBJECT -> {
                Map<String, Node> m = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    p.nextToken();
                    m.put(name, value(p));
                }
                yield new Node(m, line);
            }
            case START_ARRAY -> {
                List<Node> l = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    l.add(value(p));
                }
                yield new Node(l, line);
            }
            case VALUE_STRING -> new Node(p.getText(), line);
            case VALUE_NUMBER_INT -> new Node(p.getLongValue(), line);
            case VALUE_NUMBER_FLOAT -> new Node(p.getDoubleValue(), line);
            case VALUE_TRUE -> new Node(Boolean.TRUE, line);
            case VALUE_FALSE -> new Node(Boolean.FALSE, line);
            default -> new Node(null, line);
        };
    }

    // ------------------------------------------------------------------ the tree to a framework

    private static Loaded build(String file, Node root, Set<String> requirements) throws Refused {
        Map<String, Node> top = object(file, root, "the file", TOP);
        long format = number(file, top, root, "format", true);
        if (format != 1) {
            throw new Refused(file, top.get("format").line(), "形式の版 format は 1 だけです / format must be 1");
        }
        String id = string(file, top, root, "id", true, ID, 64);
        String version = string(file, top, root, "version", true, VERSION, 16);
        long fy = number(file, top, root, "fiscalYear", true);
        if (fy < 2000 || fy > 2100) {
            throw new Refused(file, top.get("fiscalYear").line(), "年度 fiscalYear が範囲外です / fiscalYear out of range");
        }
        Node titleNode = required(file, top, root, "title");
        Map<String, Node> title = object(file, titleNode, "title", TITLE);
        String titleJa = string(file, title, titleNode, "ja", true, null, 500);
        String titleEn = string(file, title, titleNode, "en", false, null, 500);
        Node sourceNode = required(file, top, root, "source");
        Map<String, Node> src = object(file, sourceNode, "source", SOURCE);
        Framework.Source source = new Framework.Source(string(file, src, sourceNode, "document", true, null, 1000),
                string(file, src, sourceNode, "date", false, null, 100), string(file, src, sourceNode, "url", false,
                Pattern.compile("https?://[^\\s\"<>]{1,500}"), 510));
        string(file, src, sourceNode, "seed", false, null, 500);

        List<Framework.Section> sections = new ArrayList<>();
        Set<String> sectionIds = new LinkedHashSet<>();
        Node sectionsNode = required(file, top, root, "sections");
        for (Node s : array(file, sectionsNode, "sections", 200)) {
            Map<String, Node> so = object(file, s, "a section", SECTION);
            String sid = string(file, so, s, "id", true, ID, 64);
            if (!sectionIds.add(sid)) {
                throw new Refused(file, s.line(), "区分の id が重複しています（" + sid + "） / duplicate section id " + sid);
            }
            Node st = required(file, so, s, "title");
            Map<String, Node> sto = object(file, st, "a section's title", TITLE);
            sections.add(new Framework.Section(sid, string(file, sto, st, "ja", true, null, 500),
                    string(file, sto, st, "en", false, null, 500)));
        }

        Node itemsNode = required(file, top, root, "items");
        List<Node> itemNodes = array(file, itemsNode, "items", MAX_ITEMS);
        if (itemNodes.isEmpty()) {
            throw new Refused(file, itemsNode.line(), "項目がありません / no items");
        }
        Set<String> own = new LinkedHashSet<>();
        if (requirements == null) {
            for (Node n : itemNodes) {
                if (n.value() instanceof Map<?, ?> m && m.get("id") instanceof Node idNode
                        && idNode.value() instanceof String s) {
                    own.add(s);
                }
            }
        }
        Set<String> known = requirements == null ? own : requirements;
        List<Framework.Item> items = new ArrayList<>();
        Map<String, Integer> lines = new HashMap<>();
        for (Node n : itemNodes) {
            Map<String, Node> o = object(file, n, "an item", ITEM);
            String iid = string(file, o, n, "id", true, ID, 64);
            if (lines.containsKey(iid)) {
                throw new Refused(file, n.line(), "項目の id が重複しています（" + iid + "） / duplicate item id " + iid);
            }
            lines.put(iid, n.line());
            String section = string(file, o, n, "section", true, ID, 64);
            if (!sectionIds.contains(section)) {
                throw new Refused(file, o.get("section").line(), "区分 " + section + " がありません / unknown section "
                        + section);
            }
            String party = string(file, o, n, "party", true, null, 10);
            if (!Framework.PARTIES.contains(party)) {
                throw new Refused(file, o.get("party").line(), "担当 party は 医療機関・事業者・共同 のいずれかです（" + party
                        + "） / unknown party");
            }
            List<String> reqs = new ArrayList<>();
            Node rn = o.get("requirements");
            if (rn != null) {
                for (Node r : array(file, rn, "requirements", 100)) {
                    String rid = r.value() instanceof String s ? s : null;
                    if (rid == null || !REQUIREMENT.matcher(rid).matches() || !known.contains(rid)) {
                        throw new Refused(file, r.line(), "要件カタログにない要件 ID です（" + (rid == null ? "?" : clip(rid))
                                + "） / unknown requirement id");
                    }
                    reqs.add(rid);
                }
            }
            List<String> refs = new ArrayList<>();
            Node refNode = o.get("references");
            if (refNode != null) {
                for (Node r : array(file, refNode, "references", 50)) {
                    if (!(r.value() instanceof String s) || s.isBlank() || s.length() > 1000) {
                        throw new Refused(file, r.line(), "参照は 1000 文字までの文字列です / a reference is a string of at"
                                + " most 1000 characters");
                    }
                    refs.add(s);
                }
            }
            Node seedLine = o.get("seedLine");
            if (seedLine != null && !(seedLine.value() instanceof Long)) {
                throw new Refused(file, seedLine.line(), "seedLine は数です / seedLine must be a number");
            }
            String replaces = string(file, o, n, "replaces", false, ID, 64);
            items.add(new Framework.Item(iid, section, string(file, o, n, "number", true, null, 30),
                    string(file, o, n, "category", false, null, 200), string(file, o, n, "title", true, null, 500),
                    string(file, o, n, "text", true, null, MAX_TEXT), party,
                    string(file, o, n, "examples", false, null, MAX_TEXT),
                    string(file, o, n, "risks", false, null, MAX_TEXT), List.copyOf(refs), List.copyOf(reqs),
                    replaces, string(file, o, n, "titleEn", false, null, 500),
                    string(file, o, n, "textEn", false, null, MAX_TEXT)));
        }
        return new Loaded(new Framework(id, version, (int) fy, titleJa, titleEn, source, List.copyOf(sections),
                List.copyOf(items), file), Map.copyOf(lines));
    }

    private static String clip(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "…" : s;
    }

    private static Map<String, Node> object(String file, Node n, String what, Set<String> allowed) throws Refused {
        if (!(n.value() instanceof Map)) {
            throw new Refused(file, n.line(), what + " はオブジェクト {…} です / " + what + " must be an object");
        }
        for (Map.Entry<String, Node> e : n.object().entrySet()) {
            if (!allowed.contains(e.getKey())) {
                throw new Refused(file, e.getValue().line(), "知らない項目名です（" + clip(e.getKey())
                        + "） / unknown field " + clip(e.getKey()));
            }
        }
        return n.object();
    }

    private static List<Node> array(String file, Node n, String what, int max) throws Refused {
        if (!(n.value() instanceof List)) {
            throw new Refused(file, n.line(), what + " は配列 […] です / " + what + " must be an array");
        }
        if (n.array().size() > max) {
            throw new Refused(file, n.line(), what + " は " + max + " 個までです / at most " + max + " " + what);
        }
        return n.array();
    }

    private static Node required(String file, Map<String, Node> o, Node parent, String name) throws Refused {
        Node n = o.get(name);
        if (n == null || n.value() == null) {
            throw new Refused(file, parent.line(), name + " がありません / " + name + " is missing");
        }
        return n;
    }

    private static String string(String file, Map<String, Node> o, Node parent, String name, boolean needed,
                                 Pattern pattern, int max) throws Refused {
        Node n = o.get(name);
        if (n == null || n.value() == null) {
            if (needed) {
                throw new Refused(file, parent.line(), name + " がありません / " + name + " is missing");
            }
            return null;
        }
        if (!(n.value() instanceof String s) || (needed && s.isBlank())) {
            throw new Refused(file, n.line(), name + " は文字列です / " + name + " must be a string");
        }
        if (s.length() > max) {
            throw new Refused(file, n.line(), name + " が長すぎます（" + max + " 文字まで） / " + name + " too long");
        }
        if (pattern != null && !pattern.matcher(s).matches()) {
            throw new Refused(file, n.line(), name + " の書式が正しくありません（" + clip(s) + "） / " + name
                    + " is not well-formed");
        }
        return s;
    }

    private static long number(String file, Map<String, Node> o, Node parent, String name, boolean needed)
            throws Refused {
        Node n = o.get(name);
        if (n == null) {
            throw new Refused(file, parent.line(), name + " がありません / " + name + " is missing");
        }
        if (!(n.value() instanceof Long l)) {
            throw new Refused(file, n.line(), name + " は整数です / " + name + " must be a whole number");
        }
        return l;
    }
}
