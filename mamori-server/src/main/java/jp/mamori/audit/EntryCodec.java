package jp.mamori.audit;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import jp.mamori.db.Timestamps;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * The canonical bytes of an entry: one line of UTF-8 JSON, fields always in this order —
 * {@code seq, prev, time, actor, kind, display, role, department, patient, resource, action, outcome, purpose,
 * address, session, breakGlass, detail} — absent when empty, except seq. {@code prev} is the base64 leaf hash of
 * entry {@code seq - 1} (absent for entry 0), so each line names its predecessor; the offline verifier reads only
 * seq and prev and hashes the whole line. {@code time} is UTC with exactly six fractional digits.
 *
 * <p>The bytes are stored as they were hashed and never re-encoded: changing this format changes new entries
 * only, and old entries stay verifiable.
 */
public final class EntryCodec {
    private static final JsonFactory JSON = new JsonFactory();

    private EntryCodec() {
    }

    public static byte[] encode(long seq, byte[] prevLeaf, AuditRecord r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            g.writeStartObject();
            g.writeNumberField("seq", seq);
            if (prevLeaf != null) {
                g.writeStringField("prev", Base64.getEncoder().encodeToString(prevLeaf));
            }
            g.writeStringField("time", Timestamps.utcMicros(r.at()));
            g.writeStringField("actor", r.actor());
            g.writeStringField("kind", r.actorKind());
            optional(g, "display", r.display());
            array(g, "role", r.roles());
            optional(g, "department", r.department());
            array(g, "patient", r.patients());
            array(g, "resource", r.resources());
            g.writeStringField("action", r.action());
            g.writeStringField("outcome", r.outcome());
            g.writeStringField("purpose", r.purpose());
            optional(g, "address", r.address());
            optional(g, "session", r.session());
            if (r.breakGlass()) {
                g.writeBooleanField("breakGlass", true);
            }
            if (!r.detail().isEmpty()) {
                g.writeObjectFieldStart("detail");
                for (Map.Entry<String, String> e : r.detail().entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue() == null ? "" : e.getValue());
                }
                g.writeEndObject();
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** RFC 6962 leaf hash: SHA-256(0x00 || entry). */
    public static byte[] leafHash(byte[] entry) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update((byte) 0);
            return md.digest(entry);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void optional(JsonGenerator g, String name, String value) throws IOException {
        if (value != null && !value.isEmpty()) {
            g.writeStringField(name, value);
        }
    }

    private static void array(JsonGenerator g, String name, List<String> values) throws IOException {
        if (!values.isEmpty()) {
            g.writeArrayFieldStart(name);
            for (String v : values) {
                g.writeString(v);
            }
            g.writeEndArray();
        }
    }
}
