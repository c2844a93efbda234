package jp.mamori.records;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import jp.mamori.kernel.FhirError;

/**
 * What one resource may hold, checked in one streaming pass over the request body before HAPI builds its model
 * of it: HAPI needs about 400 bytes of heap for every JSON value and several times the body's bytes, so a 100 MB
 * Patient with 2.6 million identifiers exhausted a 1 GB heap, and one 100 MB string was stored and then took the
 * heap of every search that read it. The pass itself keeps no values.
 *
 * <ul>
 *   <li>a string value holds at most {@value #MAX_STRING_CHARS} characters, except base64 binary data
 *       ({@code data} of an Attachment, Binary or Signature, {@code valueBase64Binary}), the legitimately large
 *       values, which are bounded by the size of their resource;</li>
 *   <li>one resource (with its contained resources) is at most {@value #MAX_RESOURCE_BYTES} bytes of JSON
 *       (characters of XML) and holds at most {@value #MAX_VALUES} values (objects, array items and primitives
 *       alike): the number of values, not the bytes, is what the heap needed grows with;</li>
 *   <li>each entry of a batch or transaction is a resource of its own; the bundle around them is bounded by the
 *       request body limit ({@code --max-body}) and by the heap the server admits at once.</li>
 * </ul>
 *
 * A string that is too long is a 422, a resource that is too large a 413, each naming the limit and the element.
 */
public final class BodyLimits {
    /** Characters in one string value (other than base64 binary data). */
    public static final int MAX_STRING_CHARS = 1024 * 1024;
    /** Bytes of one resource as sent, its contained resources and binary data included. */
    public static final int MAX_RESOURCE_BYTES = 16 * 1024 * 1024;
    /** Values in one resource: each object, array item and primitive counts one. */
    public static final int MAX_VALUES = 100_000;
    /** Heap a request is taken to need for each byte of its body while it is parsed, stored and answered. */
    public static final int HEAP_PER_BYTE = 8;
    /** Heap a request is taken to need for each value of its body (HAPI's model of it and its JSON tree). */
    public static final int HEAP_PER_VALUE = 400;

    private BodyLimits() {
    }

    /** What the pass found: the body's bytes and values, from which the heap it needs is estimated. */
    public record Scan(long bytes, long values) {
        public long heapEstimate() {
            return bytes * HEAP_PER_BYTE + values * HEAP_PER_VALUE;
        }
    }

    /**
     * Checks a request body. {@code rootIsStored} is false for a batch or transaction posted to the base URL, whose
     * bundle is not a resource that is stored: then only its entries' resources are bounded here. A body that is not
     * well-formed is left to the parser to report, with what was counted until then.
     */
    public static Scan check(FhirSupport.Format format, byte[] body, boolean rootIsStored) {
        return format == FhirSupport.Format.JSON ? new JsonPass(body, rootIsStored).run()
                : new XmlPass(body, rootIsStored).run();
    }

    /** Whether a value of this element is base64 binary data, bounded only by its resource's size. */
    static boolean isBinary(String element) {
        return element != null && (element.equals("data") || element.equals("valueBase64Binary"));
    }

    /** A string value over the limit; {@code length} is negative when only known to be over a resource's size. */
    static FhirError stringTooLong(String path, long length) {
        String ja = length < 0 ? MAX_RESOURCE_BYTES + " 文字超" : length + " 文字";
        String en = length < 0 ? "more than " + MAX_RESOURCE_BYTES : Long.toString(length);
        return new FhirError(422, List.of(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR,
                OperationOutcome.IssueType.TOOLONG, "文字列が長すぎます: " + ja + "、上限は " + MAX_STRING_CHARS
                + " 文字です / a string of " + en + " characters exceeds the limit of " + MAX_STRING_CHARS
                + " characters per value (base64 binary data excepted)", path)));
    }

    /** A resource over the size limit; {@code bytes} is negative when only known to be over it. */
    static FhirError resourceTooLarge(String path, long bytes) {
        String ja = bytes < 0 ? MAX_RESOURCE_BYTES + " バイト超" : bytes + " バイト";
        String en = bytes < 0 ? "more than " + MAX_RESOURCE_BYTES : Long.toString(bytes);
        return new FhirError(413, List.of(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR,
                OperationOutcome.IssueType.TOOCOSTLY, "リソースが大きすぎます: " + ja + "、上限は 1 件 "
                + MAX_RESOURCE_BYTES + " バイトです / the resource is " + en + " bytes, over the limit of "
                + MAX_RESOURCE_BYTES + " bytes per resource", path)));
    }

    static FhirError tooManyValues(String path, long values) {
        return new FhirError(413, List.of(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR,
                OperationOutcome.IssueType.TOOCOSTLY, "リソースの要素が多すぎます: " + values + " 個、上限は 1 件 "
                + MAX_VALUES + " 個です / the resource holds " + values + " values (objects, array items and"
                + " primitives), over the limit of " + MAX_VALUES + " per resource", path)));
    }

    /** A resource being read: where it started, what it holds so far, and where it is. */
    private static final class Open {
        final long start;
        String path;
        long values;

        Open(long start, String path) {
            this.start = start;
            this.path = path;
        }
    }

    /** The resources open around the current value, innermost first; the unstored root is not one of them. */
    private abstract static class Pass {
        final Deque<Open> open = new ArrayDeque<>();
        final boolean rootIsStored;
        long values;

        Pass(boolean rootIsStored) {
            this.rootIsStored = rootIsStored;
        }

        void value() {
            values++;
            Open r = open.peek();
            if (r != null && ++r.values > MAX_VALUES) {
                throw tooManyValues(r.path, r.values);
            }
        }

        void close(long end) {
            Open r = open.pop();
            long bytes = end - r.start;
            if (bytes > MAX_RESOURCE_BYTES) {
                throw resourceTooLarge(r.path, bytes);
            }
            Open outer = open.peek();
            if (outer != null) {
                outer.values += r.values; // contained and nested resources are stored within the outer one
                if (outer.values > MAX_VALUES) {
                    throw tooManyValues(outer.path, outer.values);
                }
            }
        }
    }

    private static final class JsonPass extends Pass {
        private static final JsonFactory FACTORY = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(MAX_RESOURCE_BYTES).build())
                .build();
        private final byte[] body;
        /** The path to the current value: names and [index] parts. */
        private final List<String> path = new ArrayList<>();
        /** The name of the member being read. */
        private String lastName;

        JsonPass(byte[] body, boolean rootIsStored) {
            super(rootIsStored);
            this.body = body;
        }

        Scan run() {
            try (JsonParser p = FACTORY.createParser(body)) {
                if (p.nextToken() == JsonToken.START_OBJECT) {
                    object(p, rootIsStored, true);
                }
            } catch (StreamConstraintsException e) {
                if (String.valueOf(e.getMessage()).contains("String value length")) {
                    // longer than a whole resource may be: binary data makes its resource too large
                    Open r = open.peek();
                    throw isBinary(lastName) ? resourceTooLarge(r == null || r.path == null ? path() : r.path, -1)
                            : stringTooLong(path(), -1);
                }
                throw FhirError.badRequest("本文が構文上の制限を超えています / the body exceeds a limit of the JSON"
                        + " reader (nesting depth or length of a number or name)");
            } catch (IOException | RuntimeException e) {
                if (e instanceof FhirError f) {
                    throw f;
                }
                // not well-formed: the parser says so
            }
            return new Scan(body.length, values);
        }

        private String path() {
            StringBuilder sb = new StringBuilder();
            for (String part : path) {
                if (!part.startsWith("[") && !sb.isEmpty()) {
                    sb.append('.');
                }
                sb.append(part);
            }
            return sb.isEmpty() ? null : sb.toString();
        }

        /** An object whose START_OBJECT was just read; a resource when {@code resource}. */
        private void object(JsonParser p, boolean resource, boolean root) throws IOException {
            if (resource) {
                open.push(new Open(p.currentTokenLocation().getByteOffset(), null));
            }
            int mark = path.size();
            boolean typed = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                lastName = name;
                JsonToken t = p.nextToken();
                if ((resource || root) && name.equals("resourceType") && t == JsonToken.VALUE_STRING && !typed) {
                    typed = true;
                    if (root) {
                        path.add(0, p.getText());
                        mark++;
                    }
                    if (resource) {
                        open.peek().path = path();
                    }
                    value();
                    continue;
                }
                path.add(name.startsWith("_") ? name.substring(1) : name);
                boolean inner = name.equals("resource") && t == JsonToken.START_OBJECT;
                member(p, t, name, inner, name.equals("contained"));
                path.remove(path.size() - 1);
            }
            while (path.size() > mark) {
                path.remove(path.size() - 1);
            }
            if (resource) {
                if (open.peek().path == null) {
                    open.peek().path = root ? "Resource" : path();
                }
                close(p.currentLocation().getByteOffset());
            }
            if (root && typed) {
                path.remove(0);
            }
        }

        private void member(JsonParser p, JsonToken t, String name, boolean resource, boolean contained)
                throws IOException {
            if (t == JsonToken.START_ARRAY) {
                int i = 0;
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    path.add("[" + i++ + "]");
                    member(p, e, name, contained && e == JsonToken.START_OBJECT, false);
                    path.remove(path.size() - 1);
                }
                value();
                return;
            }
            value();
            if (t == JsonToken.START_OBJECT) {
                object(p, resource, false);
            } else if (t == JsonToken.VALUE_STRING) {
                int length = p.getTextLength();
                if (length > MAX_STRING_CHARS && !isBinary(name)) {
                    throw stringTooLong(path(), length);
                }
            }
        }
    }

    private static final class XmlPass extends Pass {
        private final byte[] body;

        XmlPass(byte[] body, boolean rootIsStored) {
            super(rootIsStored);
            this.body = body;
        }

        Scan run() {
            javax.xml.stream.XMLInputFactory f = javax.xml.stream.XMLInputFactory.newFactory();
            f.setProperty(javax.xml.stream.XMLInputFactory.SUPPORT_DTD, false);
            f.setProperty(javax.xml.stream.XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
            f.setProperty(javax.xml.stream.XMLInputFactory.IS_COALESCING, false);
            for (String limit : List.of("com.ctc.wstx.maxTextLength", "com.ctc.wstx.maxAttributeSize")) {
                if (f.isPropertySupported(limit)) {
                    f.setProperty(limit, MAX_RESOURCE_BYTES); // Woodstox: never buffer more than one resource
                }
            }
            Deque<String> names = new ArrayDeque<>();
            Deque<Boolean> resources = new ArrayDeque<>();
            long text = 0;
            try {
                javax.xml.stream.XMLStreamReader x = f.createXMLStreamReader(new ByteArrayInputStream(body));
                try {
                    while (x.hasNext()) {
                        int ev = x.next();
                        if (ev == javax.xml.stream.XMLStreamConstants.START_ELEMENT) {
                            text = 0;
                            String n = x.getLocalName();
                            String parent = names.peek();
                            boolean resource = Character.isUpperCase(n.charAt(0))
                                    && (parent == null ? rootIsStored : parent.equals("resource")
                                    || parent.equals("contained"));
                            names.push(n);
                            resources.push(resource);
                            if (resource) {
                                open.push(new Open(x.getLocation().getCharacterOffset(), path(names)));
                            }
                            value();
                            for (int i = 0; i < x.getAttributeCount(); i++) {
                                value();
                                int length = x.getAttributeValue(i).length();
                                if (length > MAX_STRING_CHARS && !isBinary(n)) {
                                    throw stringTooLong(path(names), length);
                                }
                            }
                        } else if (ev == javax.xml.stream.XMLStreamConstants.CHARACTERS
                                || ev == javax.xml.stream.XMLStreamConstants.CDATA) {
                            text += x.getTextLength();
                            if (text > MAX_STRING_CHARS) {
                                throw stringTooLong(path(names), text);
                            }
                        } else if (ev == javax.xml.stream.XMLStreamConstants.END_ELEMENT) {
                            text = 0;
                            names.pop();
                            if (resources.pop()) {
                                close(x.getLocation().getCharacterOffset());
                            }
                        }
                    }
                } finally {
                    x.close();
                }
            } catch (javax.xml.stream.XMLStreamException | RuntimeException e) {
                if (e instanceof FhirError fe) {
                    throw fe;
                }
                if (String.valueOf(e.getMessage()).contains("length") && String.valueOf(e.getMessage())
                        .contains("limit")) {
                    throw stringTooLong(path(names), -1); // Woodstox's own bound
                }
                // not well-formed: the parser says so
            }
            return new Scan(body.length, values);
        }

        private static String path(Deque<String> names) {
            List<String> parts = new ArrayList<>(names);
            java.util.Collections.reverse(parts);
            return parts.isEmpty() ? null : String.join(".", parts);
        }
    }
}
