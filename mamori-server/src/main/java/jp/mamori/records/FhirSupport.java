package jp.mamori.records;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.IParserErrorHandler;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;

import java.io.Reader;
import java.util.ArrayList;
import java.util.List;

/**
 * HAPI FHIR R4 in one place: the shared context, strict parsing that reports each problem with its
 * location, validation against the base R4 structure definitions, and the canonical JSON that is stored
 * and hashed.
 */
public final class FhirSupport {
    public static final FhirContext CTX = FhirContext.forR4Cached();

    /** Body formats the server speaks. */
    public enum Format {
        JSON("application/fhir+json"), XML("application/fhir+xml");

        public final String mediaType;

        Format(String mediaType) {
            this.mediaType = mediaType;
        }
    }

    private final FhirValidator validator;

    public FhirSupport() {
        ValidationSupportChain chain = new ValidationSupportChain(
                new DefaultProfileValidationSupport(CTX),
                new SnapshotGeneratingValidationSupport(CTX),
                new InMemoryTerminologyServerValidationSupport(CTX),
                new CommonCodeSystemsTerminologyService(CTX));
        FhirInstanceValidator instanceValidator = new FhirInstanceValidator(chain);
        instanceValidator.setAnyExtensionsAllowed(true);
        instanceValidator.setNoExtensibleWarnings(true);
        instanceValidator.setBestPracticeWarningLevel(
                org.hl7.fhir.r5.utils.validation.constants.BestPracticeWarningLevel.Ignore);
        instanceValidator.setAssumeValidRestReferences(true);
        validator = CTX.newValidator();
        validator.setValidateAgainstStandardSchema(false);
        validator.setValidateAgainstStandardSchematron(false);
        validator.registerValidatorModule(instanceValidator);
    }

    /**
     * Parses a resource. Malformed syntax is a 400; well-formed content that does not fit the R4 model
     * (unknown element, wrong type, bad value) is a 422 naming each element.
     */
    public static IBaseResource parse(Format format, Reader body) {
        Collector errors = new Collector();
        IParser p = (format == Format.JSON ? CTX.newJsonParser() : CTX.newXmlParser()).setParserErrorHandler(errors);
        IBaseResource res;
        try {
            res = p.parseResource(body);
        } catch (DataFormatException e) {
            if (!errors.issues.isEmpty()) {
                throw new FhirError(422, errors.issues);
            }
            throw FhirError.badRequest("malformed " + format.name() + " body: " + clean(e.getMessage())
                    + " / 本文を解析できません");
        } catch (RuntimeException e) {
            throw FhirError.badRequest("malformed " + format.name() + " body / 本文を解析できません");
        }
        if (!errors.issues.isEmpty()) {
            throw new FhirError(422, errors.issues);
        }
        return res;
    }

    /** Validates against the base R4 definitions: any error refuses the write with 422. */
    public void validate(IBaseResource res) {
        ValidationResult result = validator.validateWithResult(res);
        List<FhirError.Issue> issues = new ArrayList<>();
        for (SingleValidationMessage m : result.getMessages()) {
            if (m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL) {
                issues.add(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR,
                        OperationOutcome.IssueType.STRUCTURE, m.getMessage(), m.getLocationString()));
            }
        }
        if (!issues.isEmpty()) {
            throw new FhirError(422, issues);
        }
    }

    /** The stored form: compact JSON as HAPI writes it (elements in definition order). */
    public static String canonicalJson(IBaseResource res) {
        return CTX.newJsonParser().setPrettyPrint(false).encodeResourceToString(res);
    }

    public static String encode(IBaseResource res, Format format, boolean pretty) {
        IParser p = format == Format.JSON ? CTX.newJsonParser() : CTX.newXmlParser();
        return p.setPrettyPrint(pretty).encodeResourceToString(res);
    }

    public static Resource parseStored(String json) {
        return (Resource) CTX.newJsonParser().parseResource(json);
    }

    public static boolean isResourceType(String type) {
        if (type == null || type.isEmpty() || !Character.isUpperCase(type.charAt(0))) {
            return false;
        }
        try {
            return CTX.getResourceDefinition(type) != null;
        } catch (DataFormatException e) {
            return false;
        }
    }

    private static String clean(String message) {
        if (message == null) {
            return "";
        }
        // HAPI prefixes messages with an internal code such as "HAPI-1861: "; keep the human part.
        String m = message.replaceFirst("^HAPI-\\d+: ", "");
        return m.length() > 300 ? m.substring(0, 300) + "…" : m;
    }

    /** Collects parse problems instead of silently dropping unknown content. */
    private static final class Collector implements IParserErrorHandler {
        final List<FhirError.Issue> issues = new ArrayList<>();

        private void add(IParseLocation loc, String message) {
            String where = loc == null ? null : loc.getParentElementName();
            issues.add(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR, OperationOutcome.IssueType.STRUCTURE,
                    message, where));
        }

        @Override
        public void containedResourceWithNoId(IParseLocation loc) {
            add(loc, "contained resource has no id");
        }

        @Override
        public void incorrectJsonType(IParseLocation loc, String element, BaseJsonLikeValue.ValueType expected,
                                      BaseJsonLikeValue.ScalarType expectedScalar, BaseJsonLikeValue.ValueType found,
                                      BaseJsonLikeValue.ScalarType foundScalar) {
            add(loc, "element '" + element + "' has the wrong JSON type: expected " + expected
                    + (expectedScalar == null ? "" : " " + expectedScalar) + ", found " + found
                    + (foundScalar == null ? "" : " " + foundScalar));
        }

        @Override
        public void invalidValue(IParseLocation loc, String value, String error) {
            add(loc, "invalid value '" + abbreviate(value) + "': " + clean(error));
        }

        @Override
        public void missingRequiredElement(IParseLocation loc, String element) {
            add(loc, "required element '" + element + "' is missing");
        }

        @Override
        public void unexpectedRepeatingElement(IParseLocation loc, String element) {
            add(loc, "element '" + element + "' may appear only once");
        }

        @Override
        public void unknownAttribute(IParseLocation loc, String name) {
            add(loc, "unknown attribute '" + name + "'");
        }

        @Override
        public void unknownElement(IParseLocation loc, String name) {
            add(loc, "unknown element '" + name + "'");
        }

        @Override
        public void unknownReference(IParseLocation loc, String reference) {
            // Unresolvable local references are checked by the validator.
        }

        @Override
        public void invalidInternalReference(IParseLocation loc, String reference) {
            add(loc, "invalid internal reference '" + abbreviate(reference) + "'");
        }

        @Override
        public void extensionContainsValueAndNestedExtensions(IParseLocation loc) {
            add(loc, "an extension may have a value or nested extensions, not both");
        }

        private static String abbreviate(String s) {
            return s == null ? "" : s.length() > 80 ? s.substring(0, 80) + "…" : s;
        }
    }
}
