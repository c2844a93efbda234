package jp.mamori.audit;

import jp.mamori.records.FhirSupport;
import jp.mamori.kernel.Csv;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;

import java.time.format.DateTimeFormatter;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * Entries as FHIR R4 AuditEvent in the shape of IHE Basic Audit Log Patterns (BALP): type and subtype of the
 * interaction, the requesting agent (who, requestor, network address) and the server as the other agent, the
 * server as source observer, the patient and each resource (with version) as entities, the outcome and the
 * purpose of use. As a Bundle (collection), as NDJSON (one AuditEvent per line), or as CSV for people.
 */
public final class AuditExport {
    static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";
    static final String REST_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type";
    static final String RESTFUL = "http://hl7.org/fhir/restful-interaction";
    static final String MAMORI_ACTION = "https://mamori.jp/fhir/CodeSystem/audit-action";
    static final String PURPOSE = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
    static final String PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
    static final String ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
    static final String OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role";
    static final String SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type";
    private static final Map<String, String> REST = Map.of("read", "read", "vread", "vread", "search", "search-type",
            "history", "history-instance", "create", "create", "update", "update", "delete", "delete",
            "finalize", "update", "amend", "update", "entered-in-error", "update");

    private final String observer;

    /** @param observer this server's name (host), the BALP source observer */
    public AuditExport(String observer) {
        this.observer = observer;
    }

    public AuditEvent toAuditEvent(AuditReports.Row r) {
        AuditEvent e = new AuditEvent();
        e.setId("mamori-" + r.seq());
        String rest = REST.get(r.action());
        if (r.action().equals("transaction")) {
            rest = "transaction";
        }
        if (rest != null) {
            e.setType(new Coding(REST_TYPE, "rest", "Restful Operation"));
            e.addSubtype(new Coding(RESTFUL, rest, rest));
            if (!rest.equals(r.action()) && !r.action().equals("search")) {
                e.addSubtype(new Coding(MAMORI_ACTION, r.action(), r.action()));
            }
        } else if (r.action().startsWith("auth.")) {
            e.setType(new Coding(DCM, "110114", "User Authentication"));
            e.addSubtype(r.action().contains("logout") ? new Coding(DCM, "110123", "Logout")
                    : new Coding(DCM, "110122", "Login"));
            e.addSubtype(new Coding(MAMORI_ACTION, r.action(), r.action()));
        } else {
            e.setType(new Coding(DCM, "110100", "Application Activity"));
            e.addSubtype(new Coding(MAMORI_ACTION, r.action(), r.action()));
        }
        e.setAction(switch (r.action()) {
            case "create" -> AuditEvent.AuditEventAction.C;
            case "read", "vread", "history" -> AuditEvent.AuditEventAction.R;
            case "update", "finalize", "amend", "entered-in-error" -> AuditEvent.AuditEventAction.U;
            case "delete" -> AuditEvent.AuditEventAction.D;
            default -> AuditEvent.AuditEventAction.E;
        });
        e.setRecorded(Date.from(r.at()));
        e.setOutcome(switch (r.outcome()) {
            case "success" -> AuditEvent.AuditEventOutcome._0;
            case "refused", "invalid" -> AuditEvent.AuditEventOutcome._4;
            default -> AuditEvent.AuditEventOutcome._8;
        });
        e.setOutcomeDesc(r.outcome());
        e.addPurposeOfEvent(new CodeableConcept(purpose(r.purpose())).setText(r.purpose()));

        AuditEvent.AuditEventAgentComponent who = e.addAgent();
        who.setType(new CodeableConcept(new Coding(PARTICIPATION, "IRCP", "information recipient")));
        who.setWho(new Reference().setIdentifier(new Identifier().setSystem("https://mamori.jp/principal")
                .setValue(r.actor())).setDisplay(r.display()));
        who.setAltId(r.session());
        who.setRequestor(true);
        for (String role : r.roles()) {
            who.addRole(new CodeableConcept(new Coding("https://mamori.jp/fhir/CodeSystem/role", role, role)));
        }
        if (r.department() != null) {
            who.addRole().setText(r.department());
        }
        if (r.address() != null) {
            who.getNetwork().setAddress(r.address()).setType(AuditEvent.AuditEventAgentNetworkType._2);
        }
        who.addPolicy("https://mamori.jp/purpose/" + r.purpose());
        AuditEvent.AuditEventAgentComponent server = e.addAgent();
        server.setType(new CodeableConcept(new Coding(DCM, "110152", "Destination Role ID")));
        server.setWho(new Reference().setDisplay("Mamori " + observer));
        server.setRequestor(false);

        e.getSource().setSite(observer).setObserver(new Reference().setDisplay("Mamori " + observer))
                .addType(new Coding(SOURCE_TYPE, "4", "Application Server"));
        for (String p : r.patients()) {
            e.addEntity().setWhat(new Reference("Patient/" + p))
                    .setType(new Coding(ENTITY_TYPE, "1", "Person"))
                    .setRole(new Coding(OBJECT_ROLE, "1", "Patient"));
        }
        for (String res : r.resources()) {
            e.addEntity().setWhat(new Reference(res))
                    .setType(new Coding(ENTITY_TYPE, "2", "System Object"))
                    .setRole(new Coding(OBJECT_ROLE, "4", "Domain Resource"));
        }
        return e;
    }

    /** HL7 v3 purpose of use for our purposes. */
    static Coding purpose(String purpose) {
        return switch (purpose) {
            case "treatment" -> new Coding(PURPOSE, "TREAT", "treatment");
            case "break-glass" -> new Coding(PURPOSE, "ETREAT", "Emergency Treatment");
            case "operations", "audit" -> new Coding(PURPOSE, "HOPERAT", "healthcare operations");
            default -> new Coding(PURPOSE, "HSYSADMIN", "health system administration");
        };
    }

    /** Versioned references stay versioned: BALP's entity names the exact version that was touched. */
    private static String json(org.hl7.fhir.instance.model.api.IBaseResource r) {
        return FhirSupport.CTX.newJsonParser().setStripVersionsFromReferences(false).encodeResourceToString(r);
    }

    public String bundleJson(List<AuditReports.Row> rows) {
        Bundle b = new Bundle().setType(Bundle.BundleType.COLLECTION);
        b.setTimestamp(new Date());
        for (AuditReports.Row r : rows) {
            b.addEntry().setResource(toAuditEvent(r));
        }
        return json(b);
    }

    public String ndjson(List<AuditReports.Row> rows) {
        StringBuilder sb = new StringBuilder();
        for (AuditReports.Row r : rows) {
            sb.append(json(toAuditEvent(r))).append('\n');
        }
        return sb.toString();
    }

    public static String csv(List<AuditReports.Row> rows) {
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(AuditReports.JST);
        StringBuilder sb = new StringBuilder(Csv.BOM);
        sb.append("番号,日時,利用者,種別,氏名,役割,部署,患者,操作,結果,目的,対象,接続元,セッション,緊急時アクセス\r\n");
        for (AuditReports.Row r : rows) {
            Csv.row(sb, Long.toString(r.seq()), f.format(r.at()), r.actor(), r.kind(), r.display(),
                    String.join(" ", r.roles()), r.department(), String.join(" ", r.patients()), r.action(),
                    r.outcome(), r.purpose(), String.join(" ", r.resources()), r.address(), r.session(),
                    r.breakGlass() ? "はい" : "");
        }
        return sb.toString();
    }
}
