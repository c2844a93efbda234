package jp.mamori.compliance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The end-of-support list of what this server runs on (VULN-4: presented at contract and every fiscal year; SUPPLY-11):
 * the dates are data ({@link #RESOURCE}, docs/end-of-support.md), the versions are the running server's (the JDK it
 * runs on, the embedded PostgreSQL binaries and the libraries from the build's SBOM, an external database's
 * {@code server_version}, the OS from {@code /etc/os-release}). A component past its end is FAIL, within
 * {@link #WARN_DAYS} days PARTIAL; an end we do not know is UNKNOWN, never guessed.
 */
public final class EndOfSupport implements Probe {
    public static final String RESOURCE = "jp/mamori/compliance/end-of-support.json";
    public static final String ID = "vendor.end-of-support";
    /** Fewer days than this before the end: PARTIAL (time to plan the upgrade). */
    public static final int WARN_DAYS = 180;
    private static final ZoneId JST = ZoneId.of("Asia/Tokyo");

    enum Kind { DATE, NONE_ANNOUNCED, UNKNOWN }

    /** One line of a component's support (a major version, a vendor's build of it). */
    record Line(String match, String vendor, Kind kind, LocalDate end, String certainty, String source) {
    }

    /** A component of the list: its names and lines. */
    record Component(String id, String nameJa, String nameEn, List<Line> lines) {
    }

    /** What runs: a version (and, for the JDK, its vendor). */
    public record Installed(String version, String vendor) {
    }

    /** One row of the report. */
    public record Entry(String id, String nameJa, String nameEn, String version, String vendor,
                        Evidence.Status status, LocalDate end, Long daysLeft, String certainty, String source) {
        /** One line, Japanese first. */
        public String line() {
            String when = switch (status) {
                case FAIL -> "サポート終了（" + end + "、" + (-daysLeft) + " 日経過） / ended " + end;
                case PARTIAL -> "まもなく終了（" + end + "、残り " + daysLeft + " 日） / ends " + end + " (" + daysLeft
                        + " days)";
                case PASS -> end == null ? "終了日の発表なし / no end announced"
                        : "サポート中（" + end + " まで、残り " + daysLeft + " 日） / supported until " + end;
                case UNKNOWN -> "終了日不明 / end of support unknown";
            };
            return nameJa + " " + (version == null ? "?" : version) + ": " + when
                    + ("at-least".equals(certainty) ? "（少なくとも / at least）" : "");
        }
    }

    private final List<Component> catalog;
    private final Supplier<Map<String, Installed>> installed;

    /** The bundled list, over {@code installed} (component id to what runs). */
    public EndOfSupport(List<Component> catalog, Supplier<Map<String, Installed>> installed) {
        this.catalog = List.copyOf(catalog);
        this.installed = installed;
    }

    /**
     * The running server's list: the bundled dates, the SBOM's versions, this JVM and OS, and an external database's
     * version when {@code externalPostgres} gives one.
     */
    public static EndOfSupport running(Supplier<Optional<String>> externalPostgres) {
        return new EndOfSupport(bundledCatalog(), () -> runningFacts(Sbom.bundled(), externalPostgres));
    }

    /** The bundled list of dates. */
    static List<Component> bundledCatalog() {
        try (InputStream in = EndOfSupport.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("no " + RESOURCE + " on the class path");
            }
            return parse(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Component> parse(byte[] json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json);
        if (!"mamori-end-of-support/1".equals(root.path("format").asText())) {
            throw new IOException("not a mamori-end-of-support/1 file");
        }
        Map<String, List<Line>> linesById = new LinkedHashMap<>();
        List<Component> out = new ArrayList<>();
        for (JsonNode c : root.path("components")) {
            List<Line> lines = new ArrayList<>();
            for (JsonNode l : c.path("lines")) {
                Kind kind = Kind.valueOf(l.path("kind").asText().toUpperCase(Locale.ROOT).replace('-', '_'));
                LocalDate end = kind == Kind.DATE ? LocalDate.parse(l.path("end").asText()) : null;
                lines.add(new Line(l.path("match").asText(), l.path("vendor").asText(null), kind, end,
                        l.path("certainty").asText(null), l.path("source").asText()));
            }
            if (c.hasNonNull("sameAs")) {
                lines.addAll(linesById.getOrDefault(c.path("sameAs").asText(), List.of()));
            }
            linesById.put(c.path("id").asText(), lines);
            out.add(new Component(c.path("id").asText(), c.path("nameJa").asText(), c.path("nameEn").asText(), lines));
        }
        return out;
    }

    /** What this server runs, by component id. */
    static Map<String, Installed> runningFacts(Optional<Sbom> sbom, Supplier<Optional<String>> externalPostgres) {
        Map<String, Installed> m = new LinkedHashMap<>();
        m.put("jdk", new Installed(Runtime.version().toString(), System.getProperty("java.vendor")));
        sbom.ifPresent(s -> {
            String platform = postgresPlatform();
            s.components().stream().filter(c -> c.name().equals("postgresql") && c.group().isEmpty()
                            && c.bomRef() != null && c.bomRef().startsWith("mamori-postgresql-server:" + platform + "@"))
                    .findFirst().ifPresent(c -> m.put("postgresql", new Installed(c.version(), null)));
            s.maven("org.eclipse.jetty", "jetty-server").ifPresent(c -> m.put("jetty", new Installed(c.version(), null)));
            s.maven("ca.uhn.hapi.fhir", "hapi-fhir-base").ifPresent(c -> m.put("hapi-fhir",
                    new Installed(c.version(), null)));
            s.maven("org.bouncycastle", "bcprov-jdk18on").ifPresent(c -> m.put("bouncycastle",
                    new Installed(c.version(), null)));
            s.firstOfGroup("eu.europa.ec.joinup.sd-dss").ifPresent(c -> m.put("dss", new Installed(c.version(), null)));
        });
        try {
            externalPostgres.get().ifPresent(v -> m.put("postgresql-external", new Installed(v.split(" ")[0], null)));
        } catch (RuntimeException e) {
            m.put("postgresql-external", new Installed(null, null));
        }
        osRelease().ifPresent(os -> m.put("os:" + os[0], new Installed(os[1], null)));
        return m;
    }

    /** The platform of the embedded binaries this JVM would run, as the io.zonky artifacts name it. */
    static String postgresPlatform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String a = arch.equals("x86_64") || arch.equals("amd64") ? "amd64" : arch.equals("aarch64") ? "arm64v8" : arch;
        if (os.contains("win")) {
            return "windows-" + a;
        }
        if (os.contains("mac")) {
            return "darwin-" + a;
        }
        return Files.exists(Path.of("/etc/alpine-release")) ? "linux-" + a + "-alpine" : "linux-" + a;
    }

    /** {ID, VERSION_ID} of {@code /etc/os-release}, when there is one. */
    static Optional<String[]> osRelease() {
        try {
            Path p = Path.of("/etc/os-release");
            if (!Files.isRegularFile(p)) {
                return Optional.empty();
            }
            String id = null;
            String version = null;
            for (String line : Files.readAllLines(p)) {
                if (line.startsWith("ID=")) {
                    id = line.substring(3).replace("\"", "");
                } else if (line.startsWith("VERSION_ID=")) {
                    version = line.substring(11).replace("\"", "");
                }
            }
            return id == null ? Optional.empty() : Optional.of(new String[] {id, version});
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Every component that runs here (and each listed one that should but was not found), on {@code today} (JST). */
    public List<Entry> report(LocalDate today) {
        Map<String, Installed> facts = installed.get();
        List<Entry> out = new ArrayList<>();
        for (Component c : catalog) {
            Installed i = facts.get(c.id());
            if (i == null) {
                // An external database or an OS that is not this one: not part of this server.
                if (c.id().equals("postgresql-external") || c.id().startsWith("os:")) {
                    continue;
                }
                out.add(new Entry(c.id(), c.nameJa(), c.nameEn(), null, null, Evidence.Status.UNKNOWN, null, null,
                        null, "version not found in this build / このビルドで版が見つかりません"));
                continue;
            }
            Line line = i.version() == null ? null : line(c, i);
            if (line == null || line.kind() == Kind.UNKNOWN) {
                out.add(new Entry(c.id(), c.nameJa(), c.nameEn(), i.version(), i.vendor(), Evidence.Status.UNKNOWN,
                        null, null, null, line == null ? "this version is not in the list / 一覧にない版です"
                        : line.source()));
                continue;
            }
            if (line.kind() == Kind.NONE_ANNOUNCED) {
                out.add(new Entry(c.id(), c.nameJa(), c.nameEn(), i.version(), i.vendor(), Evidence.Status.PASS,
                        null, null, null, line.source()));
                continue;
            }
            long days = ChronoUnit.DAYS.between(today, line.end());
            Evidence.Status s = days < 0 ? Evidence.Status.FAIL : days < WARN_DAYS ? Evidence.Status.PARTIAL
                    : Evidence.Status.PASS;
            out.add(new Entry(c.id(), c.nameJa(), c.nameEn(), i.version(), i.vendor(), s, line.end(), days,
                    line.certainty(), line.source()));
        }
        // OSes not in the list still appear, as unknown.
        for (Map.Entry<String, Installed> f : facts.entrySet()) {
            if (f.getKey().startsWith("os:") && catalog.stream().noneMatch(c -> c.id().equals(f.getKey()))) {
                out.add(new Entry(f.getKey(), "OS (" + f.getKey().substring(3) + ")", "OS (" + f.getKey().substring(3)
                        + ")", f.getValue().version(), null, Evidence.Status.UNKNOWN, null, null, null,
                        "this OS is not in the list / 一覧にない OS です"));
            }
        }
        return out;
    }

    /** The line for an installed version: the longest matching prefix; a line naming the vendor wins. */
    static Line line(Component c, Installed i) {
        Line best = null;
        int bestScore = -1;
        for (Line l : c.lines()) {
            if (!versionStartsWith(i.version(), l.match())) {
                continue;
            }
            if (l.vendor() != null && !l.vendor().equalsIgnoreCase(i.vendor() == null ? "" : i.vendor())) {
                continue;
            }
            int score = l.match().length() * 2 + (l.vendor() != null ? 1000 : 0);
            if (score > bestScore) {
                best = l;
                bestScore = score;
            }
        }
        return best;
    }

    /** Whether {@code version} is {@code prefix} or starts with it followed by a separator ("17" matches "17.0.2"). */
    static boolean versionStartsWith(String version, String prefix) {
        if (prefix.isEmpty()) {
            return true;
        }
        return version.equals(prefix) || (version.startsWith(prefix)
                && ".-+_ ".indexOf(version.charAt(prefix.length())) >= 0);
    }

    @Override
    public String id() {
        return ID;
    }

    @Override
    public Set<String> requirements() {
        return Set.of("VULN-4", "SUPPLY-11", "MAINT-16");
    }

    @Override
    public Evidence evaluate(Instant now) {
        try {
            List<Entry> r = report(now.atZone(JST).toLocalDate());
            Evidence.Status worst = Evidence.Status.PASS;
            int ended = 0;
            int soon = 0;
            int unknown = 0;
            for (Entry e : r) {
                worst = Evidence.worse(worst, e.status());
                switch (e.status()) {
                    case FAIL -> ended++;
                    case PARTIAL -> soon++;
                    case UNKNOWN -> unknown++;
                    default -> { }
                }
            }
            String summary = "構成要素 " + r.size() + " 件: サポート終了 " + ended + " 件、" + WARN_DAYS + " 日以内に終了 " + soon
                    + " 件、終了日不明 " + unknown + " 件 / " + r.size() + " components: " + ended + " past end of support, "
                    + soon + " ending within " + WARN_DAYS + " days, " + unknown + " unknown";
            return new Evidence(ID, worst, summary, "/console/admin/vendor", now);
        } catch (RuntimeException e) {
            return new Evidence(ID, Evidence.Status.UNKNOWN, "サポート終了一覧を評価できません / cannot evaluate the"
                    + " end-of-support list: " + e.getClass().getSimpleName(), "/console/admin/vendor", now);
        }
    }
}
