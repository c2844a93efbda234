package jp.mamori.testing;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * A small FHIR package in the NPM package format, made by the test because the JP Core package is not on the registries
 * reachable from here (issue 23): {@code package/package.json} and StructureDefinitions written as real differentials
 * on the R4 base, JP Core's canonical base and names. Not JP Core itself: a few of its kind of rules.
 *
 * <ul>
 *   <li>{@code JP_Patient}: an identifier of the 患者ID system ({@link #PATIENT_ID_SYSTEM}) with a value (a slice on
 *   {@code identifier} by system), a birth date, and the invariant {@code jp-pat-1}: a name in kana (extension
 *   {@code iso21090-EN-representation} = {@code SYL}).</li>
 *   <li>{@code JP_Practitioner}: a name.</li>
 * </ul>
 */
public final class TestFhirPackage {
    public static final String CANONICAL = "http://jpfhir.jp/fhir/core";
    public static final String JP_PATIENT = CANONICAL + "/StructureDefinition/JP_Patient";
    public static final String JP_PRACTITIONER = CANONICAL + "/StructureDefinition/JP_Practitioner";
    /** 患者ID: JP Core's OID arc for patient numbers followed by the institution's 10-digit code. */
    public static final String PATIENT_ID_SYSTEM = "urn:oid:1.2.392.100495.20.3.51.11318814790";
    public static final String REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation";

    private TestFhirPackage() {
    }

    public static final String PACKAGE_JSON = """
            {"name": "jp-core.r4", "version": "1.1.2-test", "canonical": "http://jpfhir.jp/fhir/core",
             "fhirVersions": ["4.0.1"], "type": "IG", "dependencies": {"hl7.fhir.r4.core": "4.0.1"},
             "description": "A small JP Core-like package made by Mamori's tests"}""";

    public static final String JP_PATIENT_SD = """
            {"resourceType": "StructureDefinition", "id": "jp-patient",
             "url": "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient", "version": "1.1.2-test",
             "name": "JP_Patient", "title": "JP Core Patient Profile", "status": "active", "fhirVersion": "4.0.1",
             "kind": "resource", "abstract": false, "type": "Patient",
             "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient", "derivation": "constraint",
             "differential": {"element": [
               {"id": "Patient", "path": "Patient", "constraint": [{"key": "jp-pat-1", "severity": "error",
                 "human": "カナ氏名（SYL）が必要です / a name in kana (representation SYL) is required",
                 "expression": "name.where(extension('http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation').value = 'SYL').exists()",
                 "source": "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Patient"}]},
               {"id": "Patient.identifier", "path": "Patient.identifier", "min": 1,
                "slicing": {"discriminator": [{"type": "value", "path": "system"}], "rules": "open"}},
               {"id": "Patient.identifier:patientId", "path": "Patient.identifier", "sliceName": "patientId",
                "short": "患者ID", "min": 1, "max": "1"},
               {"id": "Patient.identifier:patientId.system", "path": "Patient.identifier.system", "min": 1,
                "fixedUri": "urn:oid:1.2.392.100495.20.3.51.11318814790"},
               {"id": "Patient.identifier:patientId.value", "path": "Patient.identifier.value", "min": 1},
               {"id": "Patient.birthDate", "path": "Patient.birthDate", "min": 1}
             ]}}""";

    public static final String JP_PRACTITIONER_SD = """
            {"resourceType": "StructureDefinition", "id": "jp-practitioner",
             "url": "http://jpfhir.jp/fhir/core/StructureDefinition/JP_Practitioner", "version": "1.1.2-test",
             "name": "JP_Practitioner", "status": "active", "fhirVersion": "4.0.1", "kind": "resource",
             "abstract": false, "type": "Practitioner",
             "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Practitioner", "derivation": "constraint",
             "differential": {"element": [
               {"id": "Practitioner.name", "path": "Practitioner.name", "min": 1}
             ]}}""";

    /** The package's files by their path in the archive. */
    public static Map<String, String> files() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("package/package.json", PACKAGE_JSON);
        f.put("package/StructureDefinition-jp-patient.json", JP_PATIENT_SD);
        f.put("package/StructureDefinition-jp-practitioner.json", JP_PRACTITIONER_SD);
        return f;
    }

    /** Writes the package as {@code NAME.tgz} in {@code dir}. */
    public static Path write(Path dir) throws IOException {
        return write(dir.resolve("jp-core.r4-1.1.2-test.tgz"), files());
    }

    /** Writes these files as a gzipped tar (the NPM package format). */
    public static Path write(Path file, Map<String, String> files) throws IOException {
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file);
             GZIPOutputStream gz = new GZIPOutputStream(out);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(gz)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (Map.Entry<String, String> e : files.entrySet()) {
                byte[] b = e.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry te = new TarArchiveEntry(e.getKey());
                te.setSize(b.length);
                tar.putArchiveEntry(te);
                tar.write(b);
                tar.closeArchiveEntry();
            }
        }
        return file;
    }

    /** Writes the package as a folder ({@code package/package.json} …) in {@code dir}. */
    public static Path writeFolder(Path dir, Map<String, String> files) throws IOException {
        for (Map.Entry<String, String> e : files.entrySet()) {
            Path p = dir.resolve(e.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, e.getValue());
        }
        return dir;
    }
}
