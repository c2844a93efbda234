package jp.mamori.audit;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
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
    static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
            .withZone(ZoneOffset.UTC);

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
            g.writeStringField("time", time(r.at()));
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

    /**
     * {@code r} as {@link #TIME} writes it (UTC, six fractional digits), without the formatter's generality: it is
     * on every entry's path. Years outside 0–9999 fall back to the formatter.
     */
    static String time(java.time.Instant at) {
        long seconds = at.getEpochSecond();
        java.time.LocalDateTime t = java.time.LocalDateTime.ofEpochSecond(seconds, at.getNano(), ZoneOffset.UTC);
        int year = t.getYear();
        if (year < 0 || year > 9999) {
            return TIME.format(at);
        }
        char[] c = new char[27];
        digits(c, 0, year, 4);
        c[4] = '-';
        digits(c, 5, t.getMonthValue(), 2);
        c[7] = '-';
        digits(c, 8, t.getDayOfMonth(), 2);
        c[10] = 'T';
        digits(c, 11, t.getHour(), 2);
        c[13] = ':';
        digits(c, 14, t.getMinute(), 2);
        c[16] = ':';
        digits(c, 17, t.getSecond(), 2);
        c[19] = '.';
        digits(c, 20, at.getNano() / 1000, 6);
        c[26] = 'Z';
        return new String(c);
    }

    private static void digits(char[] c, int at, int value, int width) {
        for (int i = at + width - 1; i >= at; i--) {
            c[i] = (char) ('0' + value % 10);
            value /= 10;
        }
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
