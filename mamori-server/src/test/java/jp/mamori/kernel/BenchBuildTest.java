package jp.mamori.kernel;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The measurement build without auditing (issue 24) can come only from its own profile and folder. */
class BenchBuildTest {
    @Test
    void theProductBuildAuditsAndCarriesNoMarker() {
        assertFalse(BenchBuild.UNAUDITED, "the build that runs the tests audits");
        assertNull(BenchBuildTest.class.getResource("/META-INF/mamori/bench-unaudited"));
        assertFalse(Files.exists(Path.of("target/classes/META-INF/mamori/bench-unaudited")),
                "the marker never reaches the product's classes");
        assertTrue(Files.exists(Path.of("src/bench-unaudited/resources/META-INF/mamori/bench-unaudited")),
                "the marker lives only in the profile's own resource folder");
    }
}
