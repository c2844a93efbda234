package jp.mamori.records;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.RuntimeChildResourceDefinition;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.instance.model.api.IPrimitiveType;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Enumeration;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

import java.util.ArrayList;
import java.util.List;
import jp.mamori.kernel.FhirError;

/**
 * Checks a parsed resource against the base R4 structure definitions as HAPI's model encodes them: the
 * cardinality of every element at every depth, the allowed target types of references, and that coded
 * elements bound to a required value set hold a code of it. Together with the strict parser (unknown
 * elements, JSON types, primitive formats, repetitions) this is the structural part of validation, in
 * microseconds. FHIRPath invariants and terminology are checked only in {@code --validation full}.
 */
final class StructureValidator {
    private static final int MAX_DEPTH = 64;
    /** Contained resources in one resource. */
    static final int MAX_CONTAINED = 100;

    private StructureValidator() {
    }

    static List<FhirError.Issue> check(IBaseResource res) {
        List<FhirError.Issue> issues = new ArrayList<>();
        RuntimeResourceDefinition def = FhirSupport.CTX.getResourceDefinition(res);
        if (res instanceof DomainResource d && d.hasContained()) {
            contained(d, def.getName(), issues);
            if (!issues.isEmpty()) {
                return issues; // walking thousands of contained resources only to refuse them is not worth it
            }
        }
        composite(res, def, def.getName(), issues, 0);
        return issues;
    }

    private static void composite(IBase element, BaseRuntimeElementCompositeDefinition<?> def, String path,
                                  List<FhirError.Issue> issues, int depth) {
        if (depth > MAX_DEPTH) {
            issues.add(issue(path, "elements are nested too deeply (more than " + MAX_DEPTH + " levels)"));
            return;
        }
        for (BaseRuntimeChildDefinition child : def.getChildren()) {
            String name = child.getElementName();
            List<IBase> values;
            try {
                values = child.getAccessor().getValues(element);
            } catch (RuntimeException e) {
                continue;
            }
            int present = 0;
            for (IBase v : values) {
                if (v != null && !v.isEmpty()) {
                    present++;
                }
            }
            if (present < child.getMin()) {
                issues.add(issue(path + "." + name, "required element '" + name + "' is missing (minimum "
                        + child.getMin() + ") / 必須要素がありません"));
            }
            if (child.getMax() > 0 && present > child.getMax()) {
                issues.add(issue(path + "." + name, "element '" + name + "' may appear at most " + child.getMax()
                        + " time(s), found " + present));
            }
            int index = 0;
            for (IBase v : values) {
                if (v == null || v.isEmpty()) {
                    continue;
                }
                String at = path + "." + name.replace("[x]", "") + (child.isMultipleCardinality() ? "[" + index + "]" : "");
                index++;
                if (v instanceof IBaseResource contained) {
                    if (contained instanceof Resource) {
                        RuntimeResourceDefinition rd = FhirSupport.CTX.getResourceDefinition(contained);
                        composite(contained, rd, at, issues, depth + 1);
                    }
                    continue;
                }
                if (v instanceof Reference ref && child instanceof RuntimeChildResourceDefinition rc) {
                    checkTarget(ref, rc, at, issues);
                }
                if (v instanceof Enumeration<?> e && e.getValue() == null && e.getValueAsString() != null) {
                    issues.add(issue(at, "'" + e.getValueAsString() + "' is not a code of the required value set"));
                }
                if (v instanceof IPrimitiveType<?> prim) {
                    checkCharacters(prim, at, issues);
                    continue;
                }
                BaseRuntimeElementDefinition<?> vd = child.getChildElementDefinitionByDatatype(v.getClass());
                if (vd == null) {
                    vd = FhirSupport.CTX.getElementDefinition(v.getClass());
                }
                if (vd instanceof BaseRuntimeElementCompositeDefinition<?> cd) {
                    composite(v, cd, at, issues, depth + 1);
                }
            }
        }
    }

    /**
     * Contained resources: at most {@value #MAX_CONTAINED} (FHIR expects a handful, and each costs
     * every later read and encoding of the record), each with its own id, none containing others (dom-2). HAPI
     * silently drops a second contained resource with the same id and moves a nested one up into the outer
     * resource: refusing them keeps what is stored what the client sent.
     */
    private static void contained(DomainResource d, String type, List<FhirError.Issue> issues) {
        List<Resource> contained = d.getContained();
        if (contained.size() > MAX_CONTAINED) {
            issues.add(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR, OperationOutcome.IssueType.TOOCOSTLY,
                    "含まれるリソース (contained) が多すぎます: " + contained.size() + " 件、上限は "
                            + MAX_CONTAINED + " 件です / " + contained.size()
                            + " contained resources exceed the limit of " + MAX_CONTAINED
                            + " per resource; store them as resources of their own and reference them",
                    type + ".contained"));
            return;
        }
        java.util.Set<String> ids = new java.util.HashSet<>();
        for (int i = 0; i < contained.size(); i++) {
            Resource c = contained.get(i);
            String id = c.getIdElement().getIdPart();
            if (id != null && !ids.add(id)) {
                issues.add(issue(type + ".contained[" + i + "]", "contained の id '" + id + "' が重複しています / "
                        + "the contained id '" + id + "' is used twice"));
            }
            if (c instanceof DomainResource cd && cd.hasContained()) {
                issues.add(issue(type + ".contained[" + i + "].contained", "contained のリソースは他のリソースを"
                        + "含められません (dom-2) / a contained resource cannot contain resources (dom-2)"));
            }
        }
    }

    /** FHIR strings may not hold control characters other than tab, carriage return and line feed. */
    private static void checkCharacters(IPrimitiveType<?> prim, String at, List<FhirError.Issue> issues) {
        String s = prim.getValueAsString();
        if (s == null) {
            return;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\r' && c != '\n') {
                issues.add(issue(at, "control character U+" + String.format("%04X", (int) c)
                        + " is not allowed in a FHIR string / 制御文字は使用できません"));
                return;
            }
        }
    }

    private static void checkTarget(Reference ref, RuntimeChildResourceDefinition rc, String at,
                                    List<FhirError.Issue> issues) {
        IIdType id = ref.getReferenceElement();
        if (id == null || id.isEmpty() || id.isLocal() || !id.hasResourceType() || ref.getReference() == null
                || ref.getReference().startsWith("urn:") || ref.getReference().contains("?")) {
            return;
        }
        List<Class<? extends IBaseResource>> allowed = rc.getResourceTypes();
        if (allowed == null || allowed.isEmpty()) {
            return;
        }
        String type = id.getResourceType();
        for (Class<? extends IBaseResource> c : allowed) {
            String name = c.getSimpleName();
            if (name.equals("Resource") || name.equals("IBaseResource") || name.equals("IAnyResource")
                    || name.equals("DomainResource") || name.equals(type)) {
                return;
            }
        }
        List<String> names = allowed.stream().map(Class::getSimpleName).toList();
        issues.add(issue(at, "a reference to " + type + " is not allowed here; allowed: " + String.join(", ", names)));
    }

    private static FhirError.Issue issue(String expression, String message) {
        return new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR, OperationOutcome.IssueType.STRUCTURE, message,
                expression);
    }
}
