package jp.mamori.records;

import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Patient;
import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The canonical forms every stored version is checked against, pinned byte for byte: the canonical JSON the
 * content hash is taken over, the content hash, and the chain hash's envelope. A change to any of them makes
 * every stored version fail verify-records, so it can only be a deliberate, versioned change (ADR 0002). The
 * expected hashes were computed apart from this code (SHA-256 of the UTF-8 JSON; SHA-256 of the previous chain
 * value followed by the newline-joined envelope {@code mamori-version-v1, type, id, version, time, author, reason,
 * operation, lifecycle, content hex}).
 */
class CanonicalFormsGoldenTest {
    private static final Instant AT = Instant.parse("2026-04-01T00:30:00.123456Z");

    static Patient patient() {
        Patient p = new Patient();
        p.setId("p1");
        p.addName().setFamily("山田").addGiven("花子").setText("山田 花子");
        p.addIdentifier().setSystem("urn:oid:1.2.392.100495.20.3.51.11312345678").setValue("00012345");
        p.setGender(Enumerations.AdministrativeGender.FEMALE);
        p.setBirthDateElement(new DateType("1980-02-29"));
        p.getMeta().setVersionId("3").setLastUpdatedElement(new InstantType("2026-04-01T09:30:00.123+09:00"));
        return p;
    }

    @Test
    void theCanonicalJsonOfAPatientIsExactlyThis() {
        assertEquals("{\"resourceType\":\"Patient\",\"id\":\"p1\",\"meta\":{\"versionId\":\"3\",\"lastUpdated\":\"2026-04-"
                + "01T09:30:00.123+09:00\"},\"identifier\":[{\"system\":\"urn:oid:1.2.392.100495.20.3.51.11312345678\","
                + "\"value\":\"00012345\"}],\"name\":[{\"text\":\"山田 花子\",\"family\":\"山田\",\"given\":[\"花子\"]}],\"gender\":\"female\",\"birthDate\":\"1980-02-29\"}", FhirSupport.canonicalJson(patient()));
    }

    @Test
    void theContentHashIsSha256OfTheCanonicalJsonsUtf8() {
        assertEquals("7938bee2e21e74d62d7cd08d73804b07b1c7412423825206e0a8c08930bb8e88",
                VersionHash.hex(VersionHash.content(FhirSupport.canonicalJson(patient()))));
    }

    @Test
    void theChainHashOfAVersionIsExactlyThis() {
        byte[] content = VersionHash.content(FhirSupport.canonicalJson(patient()));
        assertEquals("868c46fe8302de0eb4c8bfe0df589237e3033ac1b066ea5fdb59907272fd2dec",
                VersionHash.hex(VersionHash.chain(VersionHash.GENESIS, "Patient", "p1", 1, AT,
                "account:7b1e0000-0000-4000-8000-000000000001", "入力誤りの訂正", "update", "final", content)));
        assertEquals("ad7ee012ab2cb59678b68beb428e4f3262d67a63c5419c830c89f7c98a2a7835",
                VersionHash.hex(VersionHash.chain(content, "Patient", "p1", 2, AT, "client:lab", null,
                "delete", null, null)));
    }
}
