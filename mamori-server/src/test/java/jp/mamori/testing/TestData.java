package jp.mamori.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Data folders for tests, all under {@code target/test-data} (which the build empties when it starts; see the
 * module's pom).
 */
public final class TestData {
    private TestData() {
    }

    /** The absolute path of a new, not yet existing folder named {@code prefix} plus a random suffix. */
    public static Path newFolder(String prefix) throws IOException {
        return Files.createDirectories(Path.of("target", "test-data"))
                .resolve(prefix + UUID.randomUUID().toString().substring(0, 8)).toAbsolutePath();
    }
}
