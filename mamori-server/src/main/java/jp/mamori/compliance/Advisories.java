package jp.mamori.compliance;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Vulnerability advisories carried to the server as files (VULN-2, VULN-6: a hospital whose server has no internet still
 * sees which of its components an advisory affects): OSV JSON (one advisory, a list, or {@code {"vulns": [...]}}) and
 * CycloneDX VEX JSON, each checked, kept verbatim in {@code <data>/advisories/<sha256>.json} with a manifest of when and
 * by whom it was imported, and matched against the build's SBOM each time it is read (an upgrade changes the answer).
 * <p>
 * OSV "Maven" packages match by group:artifact and version ranges (ECOSYSTEM/SEMVER events, explicit versions); any OSV
 * package with a purl matches by purl (e.g. {@code pkg:generic/postgresql}). A VEX statement matches by bom-ref or purl;
 * its states not_affected, false_positive, resolved and fixed close the same vulnerability (by id or alias) for that
 * component, other states open it. The probe {@link #ID} fails while an open match remains.
 */
public final class Advisories implements Probe {
    public static final String ID = "vendor.advisories";
    /** The largest file accepted: an export filtered to what a server needs, not a whole database. */
    public static final long MAX_BYTES = 8L * 1024 * 1024;
    /** The most advisories (or VEX statements) in one file. */
    public static final int MAX_ADVISORIES = 20_000;
    /** After this long without an import the list is stale (VULN-6: collect continuously). */
    public static final Duration STALE_AFTER = Duration.ofDays(31);
    static final String FOLDER = "advisories";
    static final String MANIFEST = "manifest.json";
    private static final Set<String> CLOSED = Set.of("not_affected", "false_positive", "resolved",
            "resolved_with_pedigree", "fixed");

    /** A file refused: the reason, one line, Japanese first. */
    public static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /** One advisory or VEX statement as read. */
    record Advisory(String id, Set<String> aliases, String summary, String severity, List<Target> targets,
                    String vexState) {
        Set<String> ids() {
            Set<String> s = new LinkedHashSet<>();
            s.add(id);
            s.addAll(aliases);
            return s;
        }
    }

    /**
     * What an advisory names: a Maven {@code group:artifact} or a purl base or a VEX ref; with OSV ranges and versions
     * (none: every version, for a VEX ref).
     */
    record Target(String maven, String purlBase, String ref, List<List<String[]>> ranges, Set<String> versions) {
    }

    /** A file's content: OSV or VEX, and its advisories. */
    record Parsed(String kind, List<Advisory> advisories) {
    }

    /** One import, as the manifest keeps it. */
    public record Imported(String sha256, String kind, String name, Instant at, String by, int advisories) {
    }

    /** An advisory that names a component of this build: open unless a VEX statement closes it. */
    public record Match(String id, Set<String> aliases, String severity, String summary, Sbom.Component component,
                        String closedBy) {
        public boolean open() {
            return closedBy == null;
        }
    }

    private final Path dir;
    private final Optional<Sbom> sbom;
    private final Clock clock;
    private Object cachedStamp;
    private List<Advisory> cached = List.of();

    public Advisories(Path dataDir, Optional<Sbom> sbom, Clock clock) {
        this.dir = dataDir.resolve(FOLDER);
        this.sbom = sbom;
        this.clock = clock;
    }

    private static ObjectMapper mapper() {
        JsonFactory f = JsonFactory.builder().streamReadConstraints(StreamReadConstraints.builder()
                .maxNestingDepth(64).maxStringLength((int) MAX_BYTES).build()).build();
        return new ObjectMapper(f);
    }

    /** Reads and checks a file's bytes; refuses anything but OSV or CycloneDX VEX JSON. */
    static Parsed parse(byte[] bytes) throws Refused {
        if (bytes.length > MAX_BYTES) {
            throw new Refused("ファイルが大きすぎます（上限 " + MAX_BYTES / (1024 * 1024) + " MiB） / file too large (at most "
                    + MAX_BYTES / (1024 * 1024) + " MiB): filter the export to the components of this server");
        }
        JsonNode root;
        try {
            root = mapper().readTree(bytes);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")";
            throw new Refused("JSON として読めません" + where + " / not valid JSON" + where + ": "
                    + e.getOriginalMessage().replace('\n', ' '));
        } catch (IOException e) {
            throw new Refused("読めません / cannot read: " + e.getMessage());
        }
        if (root == null || root.isMissingNode()) {
            throw new Refused("空のファイルです / the file is empty");
        }
        List<JsonNode> osv = new ArrayList<>();
        if (root.isArray()) {
            root.forEach(osv::add);
        } else if (root.isObject() && root.has("bomFormat")) {
            return vex(root);
        } else if (root.isObject() && root.path("vulns").isArray()) {
            root.path("vulns").forEach(osv::add);
        } else if (root.isObject() && root.has("id") && (root.has("affected") || root.has("modified"))) {
            osv.add(root);
        } else {
            throw new Refused("OSV でも CycloneDX VEX でもありません / neither OSV nor CycloneDX VEX JSON"
                    + " (an OSV advisory has \"id\" and \"affected\"; a VEX has \"bomFormat\": \"CycloneDX\")");
        }
        if (osv.size() > MAX_ADVISORIES) {
            throw new Refused("勧告が多すぎます（上限 " + MAX_ADVISORIES + " 件） / too many advisories (at most "
                    + MAX_ADVISORIES + ")");
        }
        List<Advisory> out = new ArrayList<>();
        for (int i = 0; i < osv.size(); i++) {
            out.add(osv(osv.get(i), i));
        }
        return new Parsed("osv", out);
    }

    private static Advisory osv(JsonNode a, int index) throws Refused {
        if (!a.isObject() || !a.path("id").isTextual() || a.path("id").asText().isBlank()) {
            throw new Refused("OSV の " + (index + 1) + " 件目に id がありません / OSV advisory " + (index + 1)
                    + " has no \"id\"");
        }
        if (a.has("affected") && !a.path("affected").isArray()) {
            throw new Refused("OSV " + a.path("id").asText() + ": affected は配列です / \"affected\" must be a list");
        }
        Set<String> aliases = new LinkedHashSet<>();
        a.path("aliases").forEach(x -> aliases.add(x.asText()));
        String severity = a.path("database_specific").path("severity").asText("");
        List<Target> targets = new ArrayList<>();
        for (JsonNode af : a.path("affected")) {
            JsonNode pkg = af.path("package");
            String eco = pkg.path("ecosystem").asText("");
            String name = pkg.path("name").asText("");
            String purl = pkg.path("purl").asText(null);
            if (severity.isEmpty()) {
                severity = af.path("ecosystem_specific").path("severity").asText("");
            }
            List<List<String[]>> ranges = new ArrayList<>();
            for (JsonNode r : af.path("ranges")) {
                String type = r.path("type").asText();
                if (!type.equals("ECOSYSTEM") && !type.equals("SEMVER")) {
                    continue; // GIT ranges name commits, not released versions
                }
                List<String[]> events = new ArrayList<>();
                for (JsonNode e : r.path("events")) {
                    e.properties().forEach(f -> events.add(new String[] {f.getKey(), f.getValue().asText()}));
                }
                ranges.add(events);
            }
            Set<String> versions = new LinkedHashSet<>();
            af.path("versions").forEach(v -> versions.add(v.asText()));
            String maven = eco.equalsIgnoreCase("Maven") && name.contains(":") ? name : null;
            if (maven != null || purl != null) {
                targets.add(new Target(maven, purl == null ? null : Sbom.purlBase(purl), null, ranges, versions));
            }
        }
        if (severity.isEmpty()) {
            for (JsonNode s : a.path("severity")) {
                severity = s.path("type").asText() + " " + s.path("score").asText();
                break;
            }
        }
        return new Advisory(a.path("id").asText(), aliases, a.path("summary").asText(""),
                severity.isEmpty() ? "不明 / unknown" : severity, targets, null);
    }

    private static Parsed vex(JsonNode root) throws Refused {
        if (!"CycloneDX".equals(root.path("bomFormat").asText())) {
            throw new Refused("bomFormat が CycloneDX ではありません / bomFormat is not CycloneDX");
        }
        if (!root.path("vulnerabilities").isArray()) {
            throw new Refused("vulnerabilities のない CycloneDX は VEX ではありません（SBOM です） / a CycloneDX file"
                    + " without \"vulnerabilities\" is an SBOM, not a VEX");
        }
        if (root.path("vulnerabilities").size() > MAX_ADVISORIES) {
            throw new Refused("勧告が多すぎます（上限 " + MAX_ADVISORIES + " 件） / too many statements (at most "
                    + MAX_ADVISORIES + ")");
        }
        List<Advisory> out = new ArrayList<>();
        int i = 0;
        for (JsonNode v : root.path("vulnerabilities")) {
            i++;
            if (!v.path("id").isTextual() || v.path("id").asText().isBlank()) {
                throw new Refused("VEX の " + i + " 件目に id がありません / VEX statement " + i + " has no \"id\"");
            }
            Set<String> aliases = new LinkedHashSet<>();
            v.path("references").forEach(r -> aliases.add(r.path("id").asText()));
            aliases.remove("");
            String severity = "";
            for (JsonNode r : v.path("ratings")) {
                if (r.hasNonNull("severity")) {
                    severity = r.path("severity").asText().toUpperCase(Locale.ROOT);
                    break;
                }
            }
            List<Target> targets = new ArrayList<>();
            for (JsonNode af : v.path("affects")) {
                String ref = af.path("ref").asText("");
                int hash = ref.indexOf('#');
                if (ref.startsWith("urn:cdx:") && hash > 0) {
                    ref = ref.substring(hash + 1); // a BOM-Link to a component of another BOM
                }
                if (!ref.isEmpty()) {
                    targets.add(new Target(null, null, ref, List.of(), Set.of()));
                }
            }
            String state = v.path("analysis").path("state").asText("in_triage");
            out.add(new Advisory(v.path("id").asText(), aliases, v.path("description").asText(
                    v.path("detail").asText("")), severity.isEmpty() ? "不明 / unknown" : severity, targets, state));
        }
        return new Parsed("vex", out);
    }

    /** Whether {@code t} names {@code c} at its version. */
    static boolean affects(Target t, Sbom.Component c) {
        if (t.ref() != null) {
            return t.ref().equals(c.bomRef()) || t.ref().equals(c.purl())
                    || (c.purl() != null && t.ref().contains("@") && Sbom.purlBase(t.ref()).equals(c.purlBase())
                    && versionOfPurl(t.ref()).equals(c.version()));
        }
        boolean named = (t.maven() != null && t.maven().equals(c.group() + ":" + c.name()))
                || (t.purlBase() != null && t.purlBase().equals(c.purlBase()));
        if (!named || c.version() == null || c.version().isEmpty()) {
            return false;
        }
        if (t.versions().contains(c.version())) {
            return true;
        }
        for (List<String[]> events : t.ranges()) {
            if (inRange(c.version(), events)) {
                return true;
            }
        }
        return false;
    }

    private static String versionOfPurl(String purl) {
        String p = purl;
        int q = p.indexOf('?');
        if (q >= 0) {
            p = p.substring(0, q);
        }
        int at = p.lastIndexOf('@');
        return at < 0 ? "" : p.substring(at + 1);
    }

    /** OSV's range evaluation: affected from an {@code introduced} up to a {@code fixed} (or to {@code last_affected}). */
    static boolean inRange(String version, List<String[]> events) {
        List<String[]> sorted = new ArrayList<>(events);
        sorted.removeIf(e -> e[0].equals("limit"));
        sorted.sort((a, b) -> MavenVersion.compare(a[1].equals("0") ? "0" : a[1], b[1].equals("0") ? "0" : b[1]));
        boolean affected = false;
        for (String[] e : sorted) {
            int c = e[1].equals("0") ? 1 : MavenVersion.compare(version, e[1]);
            switch (e[0]) {
                case "introduced" -> {
                    if (c >= 0) {
                        affected = true;
                    }
                }
                case "fixed" -> {
                    if (c >= 0) {
                        affected = false;
                    }
                }
                case "last_affected" -> {
                    if (c > 0) {
                        affected = false;
                    }
                }
                default -> { }
            }
        }
        return affected;
    }

    /** Reads and checks a file without keeping it: refused when missing, too large, or not OSV or VEX JSON. */
    public static void check(Path file) throws Refused, IOException {
        read(file);
    }

    private static Map.Entry<byte[], Parsed> read(Path file) throws Refused, IOException {
        if (!Files.isRegularFile(file)) {
            throw new Refused("ファイルがありません / no such file");
        }
        if (Files.size(file) > MAX_BYTES) {
            throw new Refused("ファイルが大きすぎます（上限 " + MAX_BYTES / (1024 * 1024) + " MiB） / file too large (at most "
                    + MAX_BYTES / (1024 * 1024) + " MiB): filter the export to the components of this server");
        }
        byte[] bytes = Files.readAllBytes(file);
        return Map.entry(bytes, parse(bytes));
    }

    /**
     * Checks and keeps a file (at most {@link #MAX_BYTES}); the same file twice is kept once.
     *
     * @return the import, and whether it was new
     */
    public synchronized Map.Entry<Imported, Boolean> importFile(Path file, String by) throws Refused, IOException {
        Map.Entry<byte[], Parsed> read = read(file);
        byte[] bytes = read.getKey();
        Parsed p = read.getValue();
        String sha = sha256(bytes);
        List<Imported> all = new ArrayList<>(imports());
        for (Imported i : all) {
            if (i.sha256().equals(sha)) {
                return Map.entry(i, false);
            }
        }
        Files.createDirectories(dir);
        Path stored = dir.resolve(sha + ".json");
        write(stored, bytes);
        String name = file.getFileName().toString();
        Imported imp = new Imported(sha, p.kind(), name.length() > 200 ? name.substring(0, 200) : name,
                clock.instant(), by, p.advisories().size());
        all.add(imp);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode arr = json.createArrayNode();
        for (Imported i : all) {
            ObjectNode o = arr.addObject();
            o.put("sha256", i.sha256()).put("kind", i.kind()).put("name", i.name()).put("at", i.at().toString())
                    .put("by", i.by()).put("advisories", i.advisories());
        }
        write(dir.resolve(MANIFEST), json.writeValueAsBytes(arr));
        return Map.entry(imp, true);
    }

    private static void write(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.write(tmp, bytes);
        try {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** The imports, oldest first. */
    public List<Imported> imports() throws IOException {
        Path m = dir.resolve(MANIFEST);
        if (!Files.isRegularFile(m)) {
            return List.of();
        }
        List<Imported> out = new ArrayList<>();
        for (JsonNode o : new ObjectMapper().readTree(m.toFile())) {
            out.add(new Imported(o.path("sha256").asText(), o.path("kind").asText(), o.path("name").asText(),
                    Instant.parse(o.path("at").asText()), o.path("by").asText(), o.path("advisories").asInt()));
        }
        return out;
    }

    /** The stored advisories, parsed again only when the manifest changed (the home page asks on every view). */
    private synchronized List<Advisory> stored() throws IOException {
        Path m = dir.resolve(MANIFEST);
        Object stamp = Files.isRegularFile(m) ? Files.getLastModifiedTime(m).toMillis() + ":" + Files.size(m) : "none";
        if (stamp.equals(cachedStamp)) {
            return cached;
        }
        List<Advisory> out = new ArrayList<>();
        for (Imported i : imports()) {
            try {
                out.addAll(read(dir.resolve(i.sha256() + ".json")).getValue().advisories());
            } catch (Refused e) {
                throw new IOException("stored advisory file " + i.sha256() + " no longer reads: " + e.getMessage());
            }
        }
        cached = List.copyOf(out);
        cachedStamp = stamp;
        return cached;
    }

    /** Every stored advisory against this build's SBOM: open ones first. */
    public List<Match> matches() throws IOException {
        if (sbom.isEmpty()) {
            return List.of();
        }
        List<Advisory> advisories = stored();
        Map<String, Match> found = new LinkedHashMap<>();
        for (Advisory a : advisories) {
            if (a.vexState() != null && CLOSED.contains(a.vexState())) {
                continue;
            }
            for (Target t : a.targets()) {
                for (Sbom.Component c : sbom.get().components()) {
                    if (affects(t, c)) {
                        found.putIfAbsent(a.id() + "|" + c.bomRef(), new Match(a.id(), a.aliases(), a.severity(),
                                a.summary(), c, null));
                    }
                }
            }
        }
        List<Match> out = new ArrayList<>();
        for (Match m : found.values()) {
            String closedBy = null;
            for (Advisory a : advisories) {
                if (a.vexState() == null || !CLOSED.contains(a.vexState())) {
                    continue;
                }
                Set<String> ids = a.ids();
                boolean same = ids.contains(m.id()) || m.aliases().stream().anyMatch(ids::contains);
                if (same && a.targets().stream().anyMatch(t -> affects(t, m.component()))) {
                    closedBy = "VEX " + a.vexState();
                }
            }
            out.add(new Match(m.id(), m.aliases(), m.severity(), m.summary(), m.component(), closedBy));
        }
        out.sort((x, y) -> Boolean.compare(y.open(), x.open()));
        return out;
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Set<String> requirements() {
        return Set.of("VULN-2", "VULN-6", "SUPPLY-9", "MAINT-16");
    }

    @Override
    public Evidence evaluate(Instant now) {
        String detail = "/console/admin/vendor";
        try {
            if (sbom.isEmpty()) {
                return new Evidence(ID, Evidence.Status.UNKNOWN, "このビルドに SBOM がありません / this build has no SBOM",
                        detail, now);
            }
            List<Imported> imports = imports();
            if (imports.isEmpty()) {
                return new Evidence(ID, Evidence.Status.UNKNOWN, "脆弱性情報が取り込まれていません（mamori advisories import）"
                        + " / no advisories imported yet (mamori advisories import)", detail, now);
            }
            List<Match> m = matches();
            long open = m.stream().filter(Match::open).count();
            Instant last = imports.get(imports.size() - 1).at();
            jp.mamori.chart.JpDates jst = jp.mamori.chart.JpDates.tokyo();
            String summary = "未対応 " + open + " 件、VEX で対応済み " + (m.size() - open) + " 件（最終取込 "
                    + jst.dateTimeWithZone(last, jp.mamori.chart.JpDates.Lang.JA) + "） / " + open + " open, "
                    + (m.size() - open) + " closed by VEX (last import "
                    + jst.dateTimeWithZone(last, jp.mamori.chart.JpDates.Lang.EN) + ")";
            Evidence.Status s = open > 0 ? Evidence.Status.FAIL
                    : Duration.between(last, now).compareTo(STALE_AFTER) > 0 ? Evidence.Status.PARTIAL
                    : Evidence.Status.PASS;
            return new Evidence(ID, s, summary, detail, now);
        } catch (IOException | RuntimeException e) {
            return new Evidence(ID, Evidence.Status.UNKNOWN, "脆弱性情報を読めません / cannot read the advisories: "
                    + e.getClass().getSimpleName(), detail, now);
        }
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
