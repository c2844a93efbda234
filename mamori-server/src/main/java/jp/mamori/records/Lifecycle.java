package jp.mamori.records;

import jp.mamori.access.Stage;
import ca.uhn.fhir.util.FhirTerser;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.DocumentReference;

/**
 * Where a clinical record stands: a draft may change freely; once final, a change is an amendment that
 * needs a reason, and so is marking it entered-in-error. Read from the resource's own status element.
 */
public final class Lifecycle {
    public static final String DRAFT = Stage.DRAFT;
    public static final String FINAL = Stage.FINAL;
    public static final String AMENDED = Stage.AMENDED;
    public static final String ENTERED_IN_ERROR = Stage.ENTERED_IN_ERROR;

    private static final FhirTerser TERSER = FhirSupport.CTX.newTerser();

    private Lifecycle() {
    }

    /** The lifecycle stage of a resource, or null when its type has no document-like status. */
    public static String of(IBaseResource res) {
        if (res instanceof DocumentReference d) {
            if (d.getStatus() == org.hl7.fhir.r4.model.Enumerations.DocumentReferenceStatus.ENTEREDINERROR) {
                return ENTERED_IN_ERROR;
            }
            if (d.hasDocStatus()) {
                return fromStatus(d.getDocStatus().toCode());
            }
            // Without docStatus, a "current" reference is the authoritative document.
            return d.getStatus() == org.hl7.fhir.r4.model.Enumerations.DocumentReferenceStatus.CURRENT ? FINAL : null;
        }
        String status;
        try {
            status = TERSER.getSinglePrimitiveValueOrNull(res, "status");
        } catch (RuntimeException e) {
            return null;
        }
        return status == null ? null : fromStatus(status);
    }

    static String fromStatus(String status) {
        return switch (status) {
            case "final" -> FINAL;
            case "amended", "corrected", "appended" -> AMENDED;
            case "entered-in-error" -> ENTERED_IN_ERROR;
            case "preliminary", "draft", "registered", "partial" -> DRAFT;
            default -> null;
        };
    }

    /** A record in this stage changes only with a reason. */
    public static boolean isLocked(String lifecycle) {
        return Stage.isLocked(lifecycle);
    }
}
