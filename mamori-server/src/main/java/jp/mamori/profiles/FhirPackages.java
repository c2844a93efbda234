package jp.mamori.profiles;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.context.support.IValidationSupport;
import ca.uhn.fhir.context.support.ValidationSupportContext;
import jp.mamori.config.ConfigException;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.utilities.npm.NpmPackage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * FHIR packages in the NPM package format (JP Core, issue 23), loaded once at start for the instance validator: every
 * StructureDefinition, ValueSet and CodeSystem of each package, every differential profile's snapshot generated once as a
 * check so that a broken package stops the start with the file and the reason, not the first write that meets it.
 *
 * <p>Sources: a package file ({@code .tgz}), a package folder ({@code package/package.json} or {@code package.json}) or
 * a folder holding those. Files are bounded ({@link #MAX_PACKAGE_BYTES} compressed and unpacked, {@link #MAX_RESOURCES}
 * resources); symbolic links are not followed. The packages are the institution's own choice, read from its server's
 * disk; nothing is fetched from a registry.
 */
public final class FhirPackages {
    /** A package file larger than this, packed or unpacked, is refused (JP Core 1.x is about 30 MB unpacked). */
    public static final long MAX_PACKAGE_BYTES = 256L * 1024 * 1024;
    /** At most this many conformance resources over all packages. */
    public static final int MAX_RESOURCES = 20_000;

    /** One loaded package, for the log and the compliance evidence. */
    public record Loaded(String name, String version, String canonical, Path source, int profiles, int valueSets,
                         int codeSystems) {
        public String label() {
            return name + "#" + version;
        }
    }

    private final List<Loaded> loaded;
    private final Map<String, StructureDefinition> profiles;
    private final IValidationSupport support;

    private FhirPackages(List<Loaded> loaded, Map<String, StructureDefinition> profiles, IValidationSupport support) {
        this.loaded = List.copyOf(loaded);
        this.profiles = profiles;
        this.support = support;
    }

    public List<Loaded> loaded() {
        return loaded;
    }

    /** The packages' conformance resources, with snapshots, for a validation support chain. */
    public IValidationSupport support() {
        return support;
    }

    /** The profile with this canonical URL (a version after {@code |} is ignored), or this name or id. */
    public Optional<StructureDefinition> profile(String urlOrName) {
        if (urlOrName == null) {
            return Optional.empty();
        }
        String key = urlOrName.contains("|") ? urlOrName.substring(0, urlOrName.indexOf('|')) : urlOrName;
        StructureDefinition sd = profiles.get(key);
        if (sd != null) {
            return Optional.of(sd);
        }
        return profiles.values().stream()
                .filter(p -> key.equals(p.getName()) || key.equals(p.getIdElement().getIdPart())).findFirst();
    }

    /** Whether this URL is under a loaded package's canonical base, i.e. claims to be one of its profiles. */
    public boolean underCanonical(String url) {
        return url != null && loaded.stream().anyMatch(l -> l.canonical() != null && !l.canonical().isBlank()
                && url.startsWith(l.canonical().endsWith("/") ? l.canonical() : l.canonical() + "/"));
    }

    /**
     * Loads every package found at the sources.
     *
     * @throws ConfigException naming the source and what is wrong with it, in Japanese and English
     */
    public static FhirPackages load(FhirContext ctx, List<Path> sources) {
        List<Path> found = new ArrayList<>();
        for (Path s : sources) {
            found.addAll(packagesAt(s));
        }
        if (found.isEmpty()) {
            throw new ConfigException("FHIR パッケージが見つかりません（" + sources + "） / no FHIR package found at "
                    + sources + " (--validation jp-core needs the JP Core package: --fhir-package PATH.tgz)");
        }
        List<IBaseResource> terminology = new ArrayList<>();
        Map<String, StructureDefinition> profiles = new LinkedHashMap<>();
        Map<String, Path> origin = new LinkedHashMap<>();
        List<Loaded> loaded = new ArrayList<>();
        int total = 0;
        for (Path p : found) {
            NpmPackage pkg = open(p);
            int sds = 0;
            int vss = 0;
            int css = 0;
            List<String> files;
            try {
                files = pkg.listResources("StructureDefinition", "ValueSet", "CodeSystem");
            } catch (IOException | RuntimeException e) {
                throw broken(p, "内容の一覧を読めません / cannot list its resources: " + e.getMessage());
            }
            for (String file : files) {
                if (++total > MAX_RESOURCES) {
                    throw broken(p, "リソースが多すぎます / more than " + MAX_RESOURCES + " conformance resources");
                }
                IBaseResource r;
                try (InputStream in = pkg.loadResource(file)) {
                    if (in == null) {
                        throw broken(p, file + " を読めません / cannot read " + file);
                    }
                    r = ctx.newJsonParser().parseResource(in);
                } catch (IOException | RuntimeException e) {
                    if (e instanceof ConfigException c) {
                        throw c;
                    }
                    throw broken(p, file + " は FHIR R4 の JSON ではありません / " + file + " is not FHIR R4 JSON: "
                            + clean(e.getMessage()));
                }
                if (r instanceof StructureDefinition sd) {
                    if (!sd.hasUrl() || !sd.hasType() || !sd.hasBaseDefinition() && !sd.hasSnapshot()) {
                        throw broken(p, file + " に url, type, baseDefinition がありません / " + file
                                + " lacks url, type or baseDefinition");
                    }
                    if (!sd.hasSnapshot() && !sd.hasDifferential()) {
                        throw broken(p, file + " に snapshot も differential もありません / " + file
                                + " has neither snapshot nor differential");
                    }
                    Path before = origin.putIfAbsent(sd.getUrl(), p);
                    if (before != null) {
                        throw broken(p, sd.getUrl() + " は " + before.getFileName() + " にもあります / " + sd.getUrl()
                                + " is also defined by " + before.getFileName());
                    }
                    profiles.put(sd.getUrl(), sd);
                    sds++;
                } else if (r instanceof ValueSet vs) {
                    terminology.add(vs);
                    vss++;
                } else if (r instanceof CodeSystem cs) {
                    terminology.add(cs);
                    css++;
                }
            }
            loaded.add(new Loaded(pkg.name(), pkg.version(), pkg.canonical(), p, sds, vss, css));
        }
        // Every profile must reach the base definitions: snapshots are generated now, not at the first write.
        PrePopulatedValidationSupport differentials = new PrePopulatedValidationSupport(ctx);
        profiles.values().forEach(differentials::addStructureDefinition);
        ValidationSupportChain chain = new ValidationSupportChain(new DefaultProfileValidationSupport(ctx),
                differentials, new SnapshotGeneratingValidationSupport(ctx));
        ValidationSupportContext vctx = new ValidationSupportContext(chain);
        SnapshotGeneratingValidationSupport snapshots = new SnapshotGeneratingValidationSupport(ctx);
        for (StructureDefinition sd : profiles.values()) {
            if (sd.hasSnapshot()) {
                continue;
            }
            String base = sd.getBaseDefinition();
            if (chain.fetchStructureDefinition(base) == null) {
                throw broken(origin.get(sd.getUrl()), sd.getUrl() + " の基底 " + base + " が見つかりません / the base "
                        + base + " of " + sd.getUrl() + " is in no loaded package");
            }
            IBaseResource withSnapshot;
            try {
                withSnapshot = snapshots.generateSnapshot(vctx, sd.copy(), sd.getUrl(), null, sd.getName());
            } catch (RuntimeException e) {
                throw broken(origin.get(sd.getUrl()), sd.getUrl() + " のスナップショットを作れません / cannot generate"
                        + " the snapshot of " + sd.getUrl() + ": " + clean(e.getMessage()));
            }
            if (!(withSnapshot instanceof StructureDefinition s) || !s.hasSnapshot()
                    || s.getSnapshot().getElement().isEmpty()) {
                throw broken(origin.get(sd.getUrl()), sd.getUrl() + " のスナップショットを作れません / cannot generate"
                        + " the snapshot of " + sd.getUrl());
            }
            // only a check: the validator's own chain generates the snapshot it uses from the differential
        }
        PrePopulatedValidationSupport pre = new PrePopulatedValidationSupport(ctx);
        profiles.values().forEach(pre::addStructureDefinition);
        terminology.forEach(pre::addResource);
        return new FhirPackages(loaded, profiles, pre);
    }

    /** The package files and folders at a source: itself, or the packages one level inside it. */
    private static List<Path> packagesAt(Path source) {
        if (Files.isSymbolicLink(source)) {
            throw broken(source, "シンボリックリンクはたどりません / symbolic links are not followed");
        }
        if (Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
            return List.of(source);
        }
        if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
            throw broken(source, "ありません / does not exist");
        }
        if (isPackageFolder(source)) {
            return List.of(source);
        }
        List<Path> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(source)) {
            for (Path p : s.sorted().toList()) {
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                String n = p.getFileName().toString();
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && n.endsWith(".tgz")
                        || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && isPackageFolder(p)) {
                    out.add(p);
                }
            }
        } catch (IOException e) {
            throw broken(source, "フォルダを読めません / cannot read the folder: " + e.getMessage());
        }
        return out;
    }

    private static boolean isPackageFolder(Path dir) {
        return Files.isRegularFile(dir.resolve("package").resolve("package.json"), LinkOption.NOFOLLOW_LINKS);
    }

    private static NpmPackage open(Path p) {
        try {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                return NpmPackage.fromFolder(p.toString());
            }
            long size = Files.size(p);
            if (size > MAX_PACKAGE_BYTES) {
                throw broken(p, "大きすぎます / larger than " + MAX_PACKAGE_BYTES + " bytes");
            }
            requireBoundedGzip(p);
            try (InputStream in = Files.newInputStream(p)) {
                NpmPackage pkg = NpmPackage.fromPackage(in, p.toString(), false);
                if (pkg.name() == null || pkg.version() == null) {
                    throw broken(p, "package/package.json に name と version がありません / package/package.json lacks"
                            + " name or version");
                }
                return pkg;
            }
        } catch (ConfigException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw broken(p, "FHIR パッケージ（NPM 形式の .tgz、package/package.json）として読めません / not a FHIR"
                    + " package (NPM format .tgz with package/package.json): " + clean(e.getMessage()));
        }
    }

    /** Unpacks once without keeping anything, so that a gzip bomb is refused before the package reader holds it. */
    private static void requireBoundedGzip(Path p) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long total = 0;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            for (int n; (n = in.read(buf)) > 0; ) {
                total += n;
                if (total > MAX_PACKAGE_BYTES) {
                    throw broken(p, "展開後が大きすぎます / larger than " + MAX_PACKAGE_BYTES + " bytes unpacked");
                }
            }
        }
    }

    private static ConfigException broken(Path p, String why) {
        return new ConfigException("FHIR パッケージ " + (p == null ? "?" : p.getFileName()) + " を読み込めません: " + why
                + " / cannot load the FHIR package " + p);
    }

    private static String clean(String m) {
        if (m == null) {
            return "";
        }
        String s = m.replaceFirst("^HAPI-\\d+: ", "");
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }
}
