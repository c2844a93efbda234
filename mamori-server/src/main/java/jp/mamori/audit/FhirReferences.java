package jp.mamori.audit;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a FHIR JSON document names, for its audit entry: the resources in it and the patients it is about. Used for
 * the FHIR API's answers and for every write's entry ({@link WriteEntries}).
 */
public final class FhirReferences {
    private static final JsonFactory JSON = new JsonFactory();
    /** A reference or location: {@code Type/id} or {@code Type/id/_history/n}, at the end of a URL or alone. */
    public static final Pattern REF = Pattern.compile(
            "(?:^|/)([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\\-.]{1,64})(?:/_history/([0-9]{1,9}))?$");

    private FhirReferences() {
    }

    /** A resource reference as {@link #REF} matched it. */
    public static ResourceRef ref(Matcher m) {
        return m.group(3) == null ? ResourceRef.of(m.group(1), m.group(2))
                : ResourceRef.version(m.group(1), m.group(2), m.group(3));
    }

    /**
     * Collects every resource (type/id/_history/version) in a FHIR JSON document and every patient: Patient
     * resources and every reference to a Patient, anywhere. Contained resources count as part of their container.
     */
    public static void scan(byte[] json, Set<ResourceRef> resources, Set<String> patients) {
        final class Frame {
            final String name;
            String type;
            String id;
            String version;

            Frame(String name) {
                this.name = name;
            }
        }
        Deque<Frame> stack = new ArrayDeque<>();
        try (JsonParser p = JSON.createParser(json)) {
            JsonToken t;
            while ((t = p.nextToken()) != null) {
                if (t == JsonToken.START_OBJECT) {
                    JsonStreamContext parent = p.getParsingContext().getParent();
                    String name = parent == null ? null : parent.inArray() && parent.getParent() != null
                            ? parent.getParent().getCurrentName() : parent.getCurrentName();
                    stack.push(new Frame(name));
                } else if (t == JsonToken.END_OBJECT) {
                    Frame f = stack.pop();
                    Frame up = stack.peek();
                    if ("meta".equals(f.name) && up != null && f.version != null) {
                        up.version = f.version;
                    }
                    if (f.type != null && f.id != null && !"contained".equals(f.name)
                            && !f.type.equals("Bundle") && !f.type.equals("OperationOutcome")) {
                        // as the body names it: a nested resource (a document bundle's) need not have a valid id
                        resources.add(ResourceRef.named(f.type, f.id, f.version));
                        if (f.type.equals("Patient")) {
                            patients.add(f.id);
                        }
                    }
                } else if (t == JsonToken.VALUE_STRING && !stack.isEmpty()) {
                    String field = p.currentName();
                    Frame f = stack.peek();
                    if ("resourceType".equals(field)) {
                        f.type = p.getText();
                    } else if ("id".equals(field)) {
                        f.id = p.getText();
                    } else if ("versionId".equals(field)) {
                        f.version = p.getText();
                    } else if ("reference".equals(field)) {
                        Matcher m = REF.matcher(p.getText());
                        if (m.find() && m.group(1).equals("Patient")) {
                            patients.add(m.group(2));
                        }
                    } else if ("location".equals(field) && "response".equals(f.name)) {
                        Matcher m = REF.matcher(p.getText());
                        if (m.find()) {
                            resources.add(ref(m));
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("an answer to be audited is not JSON", e);
        }
    }
}
