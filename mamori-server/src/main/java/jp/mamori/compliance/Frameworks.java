package jp.mamori.compliance;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The checklists in force (issue 20, "Checklists as data"): the seeds shipped with Mamori (the role-sharing
 * checklist of seed 004, the on-site inspection items it quotes, and Mamori's requirement catalogue), and the files
 * an institution drops into {@code --compliance-dir} (the official checklist of a new fiscal year, no code change).
 * A refused file never stops the start: it is logged and listed with file, line and reason, and the version that was
 * in force before stays in force.
 */
public final class Frameworks {
    private static final Logger log = LoggerFactory.getLogger(Frameworks.class);
    /** The catalogue of requirement IDs every item's {@code requirements} are checked against. */
    public static final String CATALOGUE = "mamori-requirements";
    static final String SEEDS = "/jp/mamori/compliance/frameworks/";
    static final List<String> SEED_FILES = List.of("mamori-requirements-2026.json", "role-sharing-2026.json",
            "onsite-inspection-2026.json");
    static final int MAX_FILES = 200;

    private final Path dir;
    private volatile State state = new State(Map.of(), List.of());

    /** What is loaded now: frameworks by id and version, and the files refused at the last load. */
    record State(Map<String, Framework> byKey, List<FrameworkLoader.Refusal> refusals) {
    }

    /** @param dir the {@code --compliance-dir} folder, or null for the seeds only */
    public Frameworks(Path dir) {
        this.dir = dir;
    }

    /** Loads the seeds and the folder (at start); returns this. */
    public Frameworks load() {
        reload();
        return this;
    }

    /**
     * Reads everything again. A framework version whose file is refused now keeps the version read before (e.g. an
     * edit that broke the file); a file that is new and refused adds nothing.
     */
    public synchronized List<FrameworkLoader.Refusal> reload() {
        List<FrameworkLoader.Refusal> refusals = new ArrayList<>();
        Map<String, Framework> loaded = new LinkedHashMap<>();
        Map<String, Map<String, Integer>> lines = new LinkedHashMap<>();
        List<String> refusedFiles = new ArrayList<>();
        java.util.Set<String> catalogue = null;
        List<Source> sources = new ArrayList<>();
        for (String f : SEED_FILES) {
            sources.add(new Source("seed:" + f, () -> {
                try (InputStream in = Frameworks.class.getResourceAsStream(SEEDS + f)) {
                    if (in == null) {
                        throw new IOException("missing seed " + f);
                    }
                    return in.readNBytes(FrameworkLoader.MAX_BYTES + 1);
                }
            }));
        }
        if (dir != null) {
            sources.addAll(folder(refusals));
        }
        for (Source s : sources) {
            try {
                byte[] bytes = s.read();
                FrameworkLoader.Loaded l = FrameworkLoader.read(s.name(), bytes, catalogue);
                Framework fw = l.framework();
                if (catalogue == null) {
                    if (!fw.id().equals(CATALOGUE)) {
                        throw new IllegalStateException("the catalogue must be read first");
                    }
                    catalogue = Set.copyOf(fw.items().stream().map(Framework.Item::id).toList());
                }
                String key = key(fw.id(), fw.version());
                if (loaded.containsKey(key)) {
                    throw new FrameworkLoader.Refused(s.name(), 1, "同じ版がすでに読み込まれています（"
                            + loaded.get(key).origin() + "） / this version is already loaded");
                }
                loaded.put(key, fw);
                lines.put(key, l.itemLines());
            } catch (FrameworkLoader.Refused e) {
                refusals.add(e.refusal());
                refusedFiles.add(s.name());
            } catch (IOException e) {
                refusals.add(new FrameworkLoader.Refusal(s.name(), 0, "読めません / cannot read: "
                        + e.getClass().getSimpleName()));
                refusedFiles.add(s.name());
            }
        }
        // replaces: each must name an item of an earlier version of the same framework
        for (Map.Entry<String, Framework> e : List.copyOf(loaded.entrySet())) {
            Framework fw = e.getValue();
            for (Framework.Item it : fw.items()) {
                if (it.replaces() == null) {
                    continue;
                }
                boolean found = loaded.values().stream().anyMatch(o -> o.id().equals(fw.id())
                        && order(o.version(), fw.version()) < 0 && o.item(it.replaces()).isPresent());
                if (!found) {
                    refusals.add(new FrameworkLoader.Refusal(fw.origin(), lines.get(e.getKey()).getOrDefault(it.id(), 0),
                            "replaces の項目 " + it.replaces() + " が以前の版にありません / replaces names no item of an"
                                    + " earlier version"));
                    refusedFiles.add(fw.origin());
                    loaded.remove(e.getKey());
                    break;
                }
            }
        }
        // the previous version stays in force for a file refused now
        for (Map.Entry<String, Framework> prev : state.byKey().entrySet()) {
            if (!loaded.containsKey(prev.getKey()) && refusedFiles.contains(prev.getValue().origin())) {
                loaded.put(prev.getKey(), prev.getValue());
            }
        }
        for (FrameworkLoader.Refusal r : refusals) {
            log.warn("compliance framework refused: {}", r);
        }
        Map<String, Framework> sorted = new TreeMap<>(Comparator.naturalOrder());
        sorted.putAll(loaded);
        state = new State(Map.copyOf(sorted), List.copyOf(refusals));
        log.info("compliance frameworks: {} loaded, {} refused", sorted.size(), refusals.size());
        return state.refusals();
    }

    private interface Reader {
        byte[] read() throws IOException;
    }

    private record Source(String name, Reader reader) {
        byte[] read() throws IOException {
            return reader.read();
        }
    }

    /** The folder's {@code *.json} files in name order (no subfolders; a link or oversized file is refused). */
    private List<Source> folder(List<FrameworkLoader.Refusal> refusals) {
        List<Source> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            refusals.add(new FrameworkLoader.Refusal(dir.toString(), 0, "フォルダがありません / no such folder"));
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> files = s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().toList();
            for (Path p : files.subList(0, Math.min(files.size(), MAX_FILES))) {
                String name = p.getFileName().toString();
                out.add(new Source(name, () -> {
                    if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                        throw new IOException("not a regular file");
                    }
                    if (Files.size(p) > FrameworkLoader.MAX_BYTES) {
                        return new byte[FrameworkLoader.MAX_BYTES + 1];
                    }
                    return Files.readAllBytes(p);
                }));
            }
            if (files.size() > MAX_FILES) {
                refusals.add(new FrameworkLoader.Refusal(dir.toString(), 0, "ファイルが多すぎます（" + MAX_FILES
                        + " まで） / too many files"));
            }
        } catch (IOException e) {
            refusals.add(new FrameworkLoader.Refusal(dir.toString(), 0, "フォルダを読めません / cannot list the folder"));
        }
        return out;
    }

    static String key(String id, String version) {
        return id + "@" + version;
    }

    /** Versions compare as numbers where both are numbers (2025 before 2026), else as text. */
    static int order(String a, String b) {
        if (a.matches("[0-9]{1,9}") && b.matches("[0-9]{1,9}")) {
            return Integer.compare(Integer.parseInt(a), Integer.parseInt(b));
        }
        return a.compareTo(b);
    }

    /** Every framework version in force, by id then version (newest last). */
    public List<Framework> all() {
        return state.byKey().values().stream().sorted(Comparator.comparing(Framework::id)
                .thenComparing(Framework::version, Frameworks::order)).toList();
    }

    public Optional<Framework> find(String id, String version) {
        return Optional.ofNullable(state.byKey().get(key(id, version)));
    }

    /** The newest version of {@code id}. */
    public Optional<Framework> newest(String id) {
        return all().stream().filter(f -> f.id().equals(id)).reduce((a, b) -> b);
    }

    /** The versions of {@code id} before {@code version}, newest first (where answers carry over from). */
    public List<Framework> earlier(String id, String version) {
        List<Framework> out = new ArrayList<>(all().stream().filter(f -> f.id().equals(id)
                && order(f.version(), version) < 0).toList());
        java.util.Collections.reverse(out);
        return out;
    }

    /** The files refused at the last load (a deviation: health shows it amber). */
    public List<FrameworkLoader.Refusal> refusals() {
        return state.refusals();
    }

    /**
     * The health line (amber, never red: the checklists in force still work): the files refused at start, the first
     * one named with its line and reason.
     */
    public jp.mamori.ops.HealthCheck health() {
        return jp.mamori.ops.HealthCheck.of("compliance-frameworks", false, () -> {
            List<FrameworkLoader.Refusal> r = refusals();
            if (r.isEmpty()) {
                return jp.mamori.ops.HealthCheck.Result.up("チェックリスト " + state.byKey().size() + " 版を読み込み済み / "
                        + state.byKey().size() + " checklist versions loaded");
            }
            return jp.mamori.ops.HealthCheck.Result.degraded("読み込めないチェックリストのファイルが " + r.size() + " 件あります（"
                    + r.get(0) + "） / " + r.size() + " checklist file(s) refused; the earlier versions stay in force");
        });
    }

    /** The requirement catalogue's one-line text per ID, in Japanese (the inspection pack's language). */
    public Map<String, String> requirementTexts() {
        return requirementTexts(false);
    }

    /**
     * The requirement catalogue's one-line text per ID in the reader's language: Japanese, or English where the
     * catalogue has an English text ({@code textEn}) and English is asked for.
     */
    public Map<String, String> requirementTexts(boolean english) {
        Map<String, String> out = new LinkedHashMap<>();
        newest(CATALOGUE).ifPresent(c -> c.items().forEach(i -> out.put(i.id(), i.text(english))));
        return out;
    }
}
