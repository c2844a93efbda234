package jp.mamori.compliance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The CycloneDX SBOM this build ships with ({@link #RESOURCE} in the jar; made by the build, see {@link SbomBuild}):
 * what the server is made of, for the end-of-support list and for matching imported advisories (VULN-4, VULN-6).
 */
public final class Sbom {
    /** Where the build puts the SBOM on the class path (and so in the jar). */
    public static final String RESOURCE = "META-INF/sbom/bom.json";

    /** One component: a Maven artifact ({@code group}, {@code name}), a file or the PostgreSQL server. */
    public record Component(String bomRef, String type, String group, String name, String version, String purl,
                            String cpe, List<String> licenses, String sha256) {
        /** {@code group:name} for a Maven artifact, else the name. */
        public String label() {
            return group == null || group.isEmpty() ? name : group + ":" + name;
        }

        /** The purl without its version, qualifiers and subpath, e.g. {@code pkg:maven/org.eclipse.jetty/jetty-server}. */
        public String purlBase() {
            return purl == null ? null : Sbom.purlBase(purl);
        }
    }

    private final String serialNumber;
    private final String timestamp;
    private final List<Component> components;

    private Sbom(String serialNumber, String timestamp, List<Component> components) {
        this.serialNumber = serialNumber;
        this.timestamp = timestamp;
        this.components = List.copyOf(components);
    }

    /** The SBOM of the running build, or empty when this class path has none (run from sources without a build). */
    public static Optional<Sbom> bundled() {
        try (InputStream in = Sbom.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            return in == null ? Optional.empty() : Optional.of(parse(in.readAllBytes()));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** Reads a CycloneDX JSON SBOM. */
    public static Sbom parse(byte[] json) throws IOException {
        JsonNode root = new ObjectMapper().readTree(json);
        if (root == null || !"CycloneDX".equals(root.path("bomFormat").asText())) {
            throw new IOException("not a CycloneDX SBOM");
        }
        List<Component> out = new ArrayList<>();
        for (JsonNode c : root.path("components")) {
            List<String> licenses = new ArrayList<>();
            for (JsonNode l : c.path("licenses")) {
                String id = l.path("license").path("id").asText(l.path("license").path("name").asText(
                        l.path("expression").asText("")));
                if (!id.isEmpty()) {
                    licenses.add(id);
                }
            }
            String sha = null;
            for (JsonNode h : c.path("hashes")) {
                if ("SHA-256".equals(h.path("alg").asText())) {
                    sha = h.path("content").asText();
                }
            }
            out.add(new Component(c.path("bom-ref").asText(null), c.path("type").asText(""),
                    c.path("group").asText(""), c.path("name").asText(""), c.path("version").asText(""),
                    c.path("purl").asText(null), c.path("cpe").asText(null), licenses, sha));
        }
        return new Sbom(root.path("serialNumber").asText(""), root.path("metadata").path("timestamp").asText(""), out);
    }

    public List<Component> components() {
        return components;
    }

    public String serialNumber() {
        return serialNumber;
    }

    /** When the build made it (ISO 8601, UTC). */
    public String timestamp() {
        return timestamp;
    }

    /** The first component of a Maven group and artifact. */
    public Optional<Component> maven(String group, String name) {
        return components.stream().filter(c -> group.equals(c.group()) && name.equals(c.name())).findFirst();
    }

    /** The first component whose Maven group is {@code group}. */
    public Optional<Component> firstOfGroup(String group) {
        return components.stream().filter(c -> group.equals(c.group())).findFirst();
    }

    /** The component named {@code name} without a group (a file, the PostgreSQL server). */
    public Optional<Component> named(String name) {
        return components.stream().filter(c -> c.group().isEmpty() && name.equals(c.name())).findFirst();
    }

    /** A purl without version, qualifiers and subpath, with percent-encoded {@code @} kept as is. */
    static String purlBase(String purl) {
        String p = purl;
        int cut = p.indexOf('#');
        if (cut >= 0) {
            p = p.substring(0, cut);
        }
        cut = p.indexOf('?');
        if (cut >= 0) {
            p = p.substring(0, cut);
        }
        cut = p.lastIndexOf('@');
        if (cut > p.lastIndexOf('/')) {
            p = p.substring(0, cut);
        }
        return p;
    }
}
