package jp.mamori;

import jp.mamori.compliance.ServiceSpecification;
import jp.mamori.config.ConfigException;
import jp.mamori.config.ServerConfig;
import jp.mamori.testing.TestData;
import jp.mamori.testing.TestFhirPackage;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The validation on write as the compliance evidence shows it (issue 23): the SDS settings name the level and, with
 * JP Core, the required profiles; the server's loading of the packages refuses a start without one.
 */
class ValidationSettingTest {
    private static ServiceSpecification.Setting setting(String... args) {
        return MamoriServer.sdsSettings(ServerConfig.fromArgs(List.of(args), Map.of()), 0).stream()
                .filter(s -> s.labelEn().equals("Validation on write (FHIR)")).findFirst().orElseThrow();
    }

    @Test
    void theSettingIsInTheEvidence() throws Exception {
        assertTrue(setting().value().startsWith("構造"), setting().value());
        Path pkg = TestFhirPackage.write(TestData.newFolder("setting-"));
        ServiceSpecification.Setting jp = setting("--validation", "jp-core", "--fhir-package", pkg.toString(),
                "--jp-core-require", "JP_Patient");
        assertTrue(jp.value().contains("JP Core") && jp.value().contains("JP_Patient"), jp.value());
        assertTrue(jp.secure());
        assertFalse(ServerConfig.fromArgs(List.of("--validation", "jp-core", "--fhir-package", pkg.toString()),
                Map.of()).deviations().stream().anyMatch(d -> d.contains("validation")));
        assertEquals(1, MamoriServer.fhirSupport(ServerConfig.fromArgs(List.of("--validation", "jp-core",
                "--fhir-package", pkg.toString(), "--jp-core-require", "JP_Patient"), Map.of()))
                .requiredProfiles().size());
        Path empty = TestData.newFolder("no-packages-");
        ConfigException none = assertThrows(ConfigException.class, () -> MamoriServer.fhirSupport(
                ServerConfig.fromArgs(List.of("--data", empty.toString(), "--validation", "jp-core"), Map.of())));
        assertTrue(none.getMessage().contains("fhir-packages"), none.getMessage());
    }
}
