package jp.mamori.testing;

import ca.uhn.fhir.context.FhirContext;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** Parsing and encoding in tests, with HAPI's model. */
public final class Fhir {
    public static final FhirContext CTX = FhirContext.forR4Cached();

    private Fhir() {
    }

    public static <T extends IBaseResource> T parse(Class<T> type, String json) {
        return CTX.newJsonParser().parseResource(type, json);
    }

    public static String json(IBaseResource r) {
        return CTX.newJsonParser().encodeResourceToString(r);
    }
}
