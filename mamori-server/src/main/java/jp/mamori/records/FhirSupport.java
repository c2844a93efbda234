package jp.mamori.records;

import jp.mamori.config.Validation;
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
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;

import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.RequestText;

/**
 * HAPI FHIR R4 in one place: the shared context, strict parsing that reports each problem with its
 * location, validation against the base R4 structure definitions, and the canonical JSON that is stored
 * and hashed.
 */
public final class FhirSupport {
    public static final FhirContext CTX = context();

    /**
     * An R4 context whose encoders gather contained resources in linear time ({@link LinearTerser}) and never move
     * a referenced resource into {@code contained} on their own.
     */
    private static FhirContext context() {
        FhirContext ctx = new FhirContext(ca.uhn.fhir.context.FhirVersionEnum.R4) {
            @Override
            public ca.uhn.fhir.util.FhirTerser newTerser() {
                return new LinearTerser(this);
            }
        };
        ctx.getParserOptions().setAutoContainReferenceTargetsWithNoId(false);
        // A Provenance names the exact version it is about (a signature's target, issue 17): keep the version there.
        ctx.getParserOptions().setDontStripVersionsFromReferencesAtPaths("Provenance.target", "Provenance.entity.what");
        return ctx;
    }

    /** Body formats the server speaks. */
    public enum Format {
        JSON("application/fhir+json"), XML("application/fhir+xml");

        public final String mediaType;

        Format(String mediaType) {
            this.mediaType = mediaType;
        }
    }

    private final Validation mode;
    private final FhirValidator validator;
    private final jp.mamori.profiles.FhirPackages packages;
    /** {@code --jp-core-require}: resource type → the profile every resource of that type must conform to. */
    private final java.util.Map<String, String> required;

    public FhirSupport() {
        this(Validation.STRUCTURE);
    }

    public FhirSupport(Validation mode) {
        this(mode, null, List.of());
    }

    /**
     * @param packages the loaded profile packages ({@link Validation#JP_CORE} only)
     * @param required profiles (name or URL) that every resource of their type must conform to
     */
    public FhirSupport(Validation mode, jp.mamori.profiles.FhirPackages packages, List<String> required) {
        if (mode == Validation.JP_CORE && packages == null) {
            throw new jp.mamori.config.ConfigException("--validation jp-core には FHIR パッケージが必要です /"
                    + " --validation jp-core needs the JP Core package (--fhir-package)");
        }
        this.mode = mode;
        this.packages = mode == Validation.JP_CORE ? packages : null;
        java.util.Map<String, String> req = new java.util.LinkedHashMap<>();
        for (String r : mode == Validation.JP_CORE ? required : List.<String>of()) {
            org.hl7.fhir.r4.model.StructureDefinition sd = packages.profile(r).orElseThrow(() ->
                    new jp.mamori.config.ConfigException("--jp-core-require: プロファイル " + r + " は読み込んだパッケージに"
                            + "ありません / the profile " + r + " is in no loaded package"));
            if (req.putIfAbsent(sd.getType(), sd.getUrl()) != null) {
                throw new jp.mamori.config.ConfigException("--jp-core-require: " + sd.getType() + " に二つのプロファイル"
                        + "があります / two required profiles for " + sd.getType());
            }
        }
        this.required = java.util.Map.copyOf(req);
        this.validator = mode == Validation.STRUCTURE ? null : instanceValidator(this.packages);
    }

    public Validation mode() {
        return mode;
    }

    /** The loaded profile packages ({@link Validation#JP_CORE}), for the log and the compliance evidence. */
    public java.util.Optional<jp.mamori.profiles.FhirPackages> packages() {
        return java.util.Optional.ofNullable(packages);
    }

    /** Resource type → the profile every resource of that type must conform to ({@code --jp-core-require}). */
    public java.util.Map<String, String> requiredProfiles() {
        return required;
    }

    private static FhirValidator instanceValidator(jp.mamori.profiles.FhirPackages packages) {
        List<ca.uhn.fhir.context.support.IValidationSupport> supports = new ArrayList<>();
        supports.add(new DefaultProfileValidationSupport(CTX));
        if (packages != null) {
            supports.add(packages.support());
        }
        supports.add(new SnapshotGeneratingValidationSupport(CTX));
        supports.add(new InMemoryTerminologyServerValidationSupport(CTX));
        supports.add(new CommonCodeSystemsTerminologyService(CTX));
        ValidationSupportChain chain = new ValidationSupportChain(
                supports.toArray(new ca.uhn.fhir.context.support.IValidationSupport[0]));
        FhirInstanceValidator instanceValidator = new FhirInstanceValidator(chain);
        instanceValidator.setAnyExtensionsAllowed(true);
        instanceValidator.setNoExtensibleWarnings(true);
        instanceValidator.setBestPracticeWarningLevel(
                org.hl7.fhir.r5.utils.validation.constants.BestPracticeWarningLevel.Ignore);
        instanceValidator.setAssumeValidRestReferences(true);
        FhirValidator v = CTX.newValidator();
        v.setValidateAgainstStandardSchema(false);
        v.setValidateAgainstStandardSchematron(false);
        v.registerValidatorModule(instanceValidator);
        return v;
    }

    /**
     * Parses a resource. Malformed syntax is a 400; well-formed content that does not fit the R4 model
     * (unknown element, wrong type, bad value) is a 422 naming each element.
     */
    public static IBaseResource parse(Format format, byte[] body) {
        // UTF-8 only, read strictly, JSON keys once each (RequestText): never a guessed or silently mended text
        if (format == Format.XML) {
            RequestText.requireUtf8XmlDeclaration(body);
        }
        String text = RequestText.utf8(body, "the " + format.name() + " body");
        if (format == Format.JSON) {
            RequestText.requireUniqueKeys(text);
        }
        Collector errors = new Collector();
        IParser p = (format == Format.JSON ? CTX.newJsonParser() : CTX.newXmlParser()).setParserErrorHandler(errors);
        IBaseResource res;
        try {
            res = p.parseResource(new StringReader(text));
        } catch (DataFormatException e) {
            if (!errors.problems.isEmpty()) {
                throw new FhirError(422, errors.issues(format, body));
            }
            throw FhirError.badRequest("malformed " + format.name() + " body: " + clean(e.getMessage())
                    + " / 本文を解析できません");
        } catch (RuntimeException e) {
            throw FhirError.badRequest("malformed " + format.name() + " body / 本文を解析できません");
        }
        if (!errors.problems.isEmpty()) {
            throw new FhirError(422, errors.issues(format, body));
        }
        return res;
    }

    /** Validates against the base R4 definitions: any error refuses the write with 422. */
    public void validate(IBaseResource res) {
        List<FhirError.Issue> issues = new ArrayList<>(StructureValidator.check(res));
        if (issues.isEmpty() && packages != null) {
            issues.addAll(unknownClaims(res));
        }
        if (issues.isEmpty() && validator != null) {
            ca.uhn.fhir.validation.ValidationOptions options = new ca.uhn.fhir.validation.ValidationOptions();
            String type = CTX.getResourceType(res);
            if (required.containsKey(type)) {
                options.addProfile(required.get(type));
            }
            ValidationResult result = validator.validateWithResult(res, options);
            for (SingleValidationMessage m : result.getMessages()) {
                if (m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL) {
                    issues.add(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR,
                            OperationOutcome.IssueType.STRUCTURE, packages == null ? m.getMessage()
                            : m.getLocationString() + " がプロファイルに適合しません / does not conform to the profile: "
                            + clean(m.getMessage()), m.getLocationString()));
                }
            }
        }
        if (!issues.isEmpty()) {
            throw new FhirError(422, issues);
        }
    }

    /**
     * A {@code meta.profile} under a loaded package's canonical base that the package does not define: the claim cannot
     * be checked, so it is refused (a misspelt JP Core profile would otherwise pass unchecked).
     */
    private List<FhirError.Issue> unknownClaims(IBaseResource res) {
        List<FhirError.Issue> out = new ArrayList<>();
        List<? extends org.hl7.fhir.instance.model.api.IPrimitiveType<String>> claims = res.getMeta().getProfile();
        for (int i = 0; i < claims.size(); i++) {
            String url = claims.get(i).getValue();
            if (packages.underCanonical(url) && packages.profile(url).isEmpty()) {
                out.add(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR, OperationOutcome.IssueType.NOTSUPPORTED,
                        "プロファイル " + url + " は読み込んだパッケージにありません / the profile " + url
                                + " is in no loaded package", CTX.getResourceType(res) + ".meta.profile[" + i + "]"));
            }
        }
        return out;
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

    /**
     * Collects parse problems instead of silently dropping unknown content. HAPI tells only the name of
     * the element at fault, so each problem is then located in the body ({@link ElementSpots}) to report
     * a FHIRPath such as {@code Patient.name[0].bogus}.
     */
    private static final class Collector implements IParserErrorHandler {
        /** One problem: the element's name (null when unknown), its value when it has one, the message. */
        private record Problem(String element, String value, String message) {
        }

        final List<Problem> problems = new ArrayList<>();

        private void add(IParseLocation loc, String message) {
            add(loc == null ? null : loc.getParentElementName(), null, message);
        }

        private void add(String element, String value, String message) {
            problems.add(new Problem(element, value, message));
        }

        List<FhirError.Issue> issues(Format format, byte[] body) {
            ElementSpots spots = ElementSpots.of(format, body);
            List<FhirError.Issue> issues = new ArrayList<>();
            for (Problem p : problems) {
                issues.add(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR,
                        OperationOutcome.IssueType.STRUCTURE, p.message(), spots.locate(p.element(), p.value())));
            }
            return issues;
        }

        @Override
        public void containedResourceWithNoId(IParseLocation loc) {
            add("contained", null, "contained resource has no id");
        }

        @Override
        public void incorrectJsonType(IParseLocation loc, String element, BaseJsonLikeValue.ValueType expected,
                                      BaseJsonLikeValue.ScalarType expectedScalar, BaseJsonLikeValue.ValueType found,
                                      BaseJsonLikeValue.ScalarType foundScalar) {
            add(element, null, "element '" + element + "' has the wrong JSON type: expected " + expected
                    + (expectedScalar == null ? "" : " " + expectedScalar) + ", found " + found
                    + (foundScalar == null ? "" : " " + foundScalar));
        }

        @Override
        public void invalidValue(IParseLocation loc, String value, String error) {
            add(loc == null ? null : loc.getParentElementName(), value,
                    "invalid value '" + abbreviate(value) + "': " + clean(error));
        }

        @Override
        public void missingRequiredElement(IParseLocation loc, String element) {
            add(loc, "required element '" + element + "' is missing");
        }

        @Override
        public void unexpectedRepeatingElement(IParseLocation loc, String element) {
            add(element, null, "element '" + element + "' may appear only once");
        }

        @Override
        public void unknownAttribute(IParseLocation loc, String name) {
            add(loc, "unknown attribute '" + name + "'");
        }

        @Override
        public void unknownElement(IParseLocation loc, String name) {
            add(name, null, "unknown element '" + name + "'");
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
            add("extension", null, "an extension may have a value or nested extensions, not both");
        }

        private static String abbreviate(String s) {
            return s == null ? "" : s.length() > 80 ? s.substring(0, 80) + "…" : s;
        }
    }

    /**
     * Every element of a body in document order with its FHIRPath ({@code Patient.name[0].family}), so
     * that a problem HAPI reports by element name can be pointed at. Each spot is used for one problem,
     * in order, as HAPI reports problems in document order too.
     */
    private static final class ElementSpots {
        private record Spot(String name, String path, String value) {
        }

        private final List<Spot> spots = new ArrayList<>();
        private final boolean[] used;
        private final String root;

        private ElementSpots(Format format, byte[] body) {
            String r = null;
            try {
                r = format == Format.JSON ? json(body) : xml(body);
            } catch (Exception e) {
                // a body HAPI could read but we cannot: report without locations
            }
            root = r;
            used = new boolean[spots.size()];
        }

        static ElementSpots of(Format format, byte[] body) {
            return new ElementSpots(format, body);
        }

        /** The path of the first unused element named {@code name} (with {@code value}, when given). */
        String locate(String name, String value) {
            if (name == null) {
                return root;
            }
            for (int pass = value == null ? 1 : 0; pass < 2; pass++) {
                for (int i = 0; i < spots.size(); i++) {
                    Spot s = spots.get(i);
                    if (!used[i] && s.name().equals(name) && (pass == 1 || value.equals(s.value()))) {
                        used[i] = true;
                        return s.path();
                    }
                }
            }
            return root == null ? name : root + "." + name;
        }

        private String json(byte[] body) throws java.io.IOException {
            try (JsonParser p = new JsonFactory().createParser(body)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    return null;
                }
                String type = jsonObject(p, "");
                if (type != null) {
                    spots.replaceAll(s -> new Spot(s.name(), type + s.path(), s.value()));
                }
                return type;
            }
        }

        /** Walks an object whose START_OBJECT was just read; returns its resourceType, if any. */
        private String jsonObject(JsonParser p, String path) throws java.io.IOException {
            String type = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String n = p.currentName();
                JsonToken t = p.nextToken();
                if (n.equals("resourceType") && t == JsonToken.VALUE_STRING) {
                    type = p.getText();
                    continue;
                }
                String name = n.startsWith("_") ? n.substring(1) : n;
                jsonValue(p, name, path + "." + name);
            }
            return type;
        }

        private void jsonValue(JsonParser p, String name, String path) throws java.io.IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.START_ARRAY) {
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    jsonValue(p, name, path + "[" + i++ + "]");
                }
            } else if (t == JsonToken.START_OBJECT) {
                spots.add(new Spot(name, path, null));
                jsonObject(p, path);
            } else {
                spots.add(new Spot(name, path, p.getText()));
            }
        }

        private String xml(byte[] body) throws javax.xml.stream.XMLStreamException {
            javax.xml.stream.XMLInputFactory f = javax.xml.stream.XMLInputFactory.newFactory();
            f.setProperty(javax.xml.stream.XMLInputFactory.SUPPORT_DTD, false);
            f.setProperty(javax.xml.stream.XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
            javax.xml.stream.XMLStreamReader x = f.createXMLStreamReader(new ByteArrayInputStream(body));
            String type = null;
            java.util.Deque<String> paths = new java.util.ArrayDeque<>();
            java.util.Deque<java.util.Map<String, Integer>> counts = new java.util.ArrayDeque<>();
            try {
                while (x.hasNext()) {
                    int ev = x.next();
                    if (ev == javax.xml.stream.XMLStreamConstants.START_ELEMENT) {
                        String n = x.getLocalName();
                        String path;
                        if (paths.isEmpty()) {
                            type = n;
                            path = n;
                        } else if (Character.isUpperCase(n.charAt(0))) {
                            path = paths.peek(); // a resource inside resource or contained: no element of its own
                        } else {
                            int i = counts.peek().merge(n, 1, Integer::sum) - 1;
                            path = paths.peek() + "." + n + (i > 0 ? "[" + i + "]" : "");
                            spots.add(new Spot(n, path, x.getAttributeValue(null, "value")));
                        }
                        paths.push(path);
                        counts.push(new java.util.HashMap<>());
                    } else if (ev == javax.xml.stream.XMLStreamConstants.END_ELEMENT) {
                        paths.pop();
                        counts.pop();
                    }
                }
            } finally {
                x.close();
            }
            return type;
        }
    }
}
