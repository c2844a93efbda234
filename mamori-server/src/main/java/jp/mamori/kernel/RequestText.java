package jp.mamori.kernel;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Text that a client sends, read strictly: UTF-8 only, as declared and as sent, and JSON whose objects name
 * each key once. A body in another charset is refused rather than misread (a Shift_JIS name decoded as UTF-8
 * becomes replacement characters that no search finds), and a duplicate key is refused rather than resolved
 * silently in favour of one of its values.
 */
public final class RequestText {
    private static final Pattern CHARSET = Pattern.compile(";\\s*charset\\s*=\\s*(\"[^\"]*\"|[^;\\s]*)",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern XML_ENCODING = Pattern.compile(
            "^<\\?xml\\s[^>]*?\\bencoding\\s*=\\s*([\"'])([^\"']*)\\1");
    private static final JsonFactory JSON = new JsonFactory();

    private RequestText() {
    }

    /** Refuses (415) a Content-Type whose charset parameter names anything but UTF-8. No charset means UTF-8. */
    public static void requireUtf8Charset(String contentType) {
        if (contentType == null) {
            return;
        }
        Matcher m = CHARSET.matcher(contentType);
        while (m.find()) {
            String name = m.group(1).replace("\"", "").strip();
            if (!isUtf8(name)) {
                throw new FhirError(415, OperationOutcome.IssueType.NOTSUPPORTED, "charset '" + name
                        + "' is not supported: send the body as UTF-8 / UTF-8 以外の文字コードは受け付けません");
            }
        }
    }

    /** Refuses (415) an XML body whose declaration names an encoding other than UTF-8. */
    public static void requireUtf8XmlDeclaration(byte[] body) {
        int from = body.length >= 3 && (body[0] & 0xFF) == 0xEF && (body[1] & 0xFF) == 0xBB
                && (body[2] & 0xFF) == 0xBF ? 3 : 0;
        int end = Math.min(body.length, from + 200);
        // the declaration is ASCII in every encoding this check can read; anything else fails as UTF-8 later
        String head = new String(body, from, end - from, StandardCharsets.ISO_8859_1);
        int close = head.indexOf("?>");
        Matcher m = XML_ENCODING.matcher(close < 0 ? head : head.substring(0, close));
        if (m.find() && !isUtf8(m.group(2).strip())) {
            throw new FhirError(415, OperationOutcome.IssueType.NOTSUPPORTED, "the XML declaration names encoding '"
                    + m.group(2) + "': send the body as UTF-8 / UTF-8 以外の文字コードは受け付けません");
        }
    }

    /** The bytes as UTF-8 text; malformed UTF-8 (a stray byte, an overlong form, a surrogate) is a 400. */
    public static String utf8(byte[] bytes, String what) {
        CharsetDecoder d = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = d.decode(in, out, true);
        if (!r.isError()) {
            r = d.flush(out);
        }
        if (r.isError()) {
            throw FhirError.badRequest(what + " is not valid UTF-8 (byte " + in.position() + ") / "
                    + "UTF-8 として正しくない文字があります（" + in.position() + " バイト目）");
        }
        return out.flip().toString();
    }

    /** Refuses (400) a JSON object that names a key twice, at any depth. Other syntax is the parser's to judge. */
    public static void requireUniqueKeys(String json) {
        try (JsonParser p = JSON.createParser(json)) {
            if (p.nextToken() == JsonToken.START_OBJECT) {
                new KeyWalk(p).object(null);
            }
        } catch (IOException e) {
            // not JSON, or too deep: the FHIR parser reports it
        }
    }

    /** Where a value is: a chain built while walking, spelled out only for a duplicate. */
    private record Step(Step parent, String key, int index) {
        String path(String root) {
            String up = parent == null ? root : parent.path(root);
            return key != null ? (up.isEmpty() ? key : up + "." + key) : up + "[" + index + "]";
        }
    }

    private static final class KeyWalk {
        private final JsonParser p;
        private String root = "";

        KeyWalk(JsonParser p) {
            this.p = p;
        }

        void object(Step at) throws IOException {
            Set<String> names = new HashSet<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String n = p.currentName();
                Step here = new Step(at, n, 0);
                if (!names.add(n)) {
                    String where = here.path(root);
                    throw new FhirError(400, List.of(new FhirError.Issue(OperationOutcome.IssueSeverity.ERROR,
                            OperationOutcome.IssueType.STRUCTURE, "duplicate JSON key '" + n + "' at " + where
                            + " / JSON のキーが重複しています", where)));
                }
                if (p.nextToken() == JsonToken.VALUE_STRING && at == null && n.equals("resourceType")) {
                    root = p.getText();
                }
                value(here);
            }
        }

        void value(Step at) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.START_OBJECT) {
                object(at);
            } else if (t == JsonToken.START_ARRAY) {
                int i = 0;
                while (p.nextToken() != JsonToken.END_ARRAY && p.currentToken() != null) {
                    value(new Step(at, null, i++));
                }
            }
        }
    }

    private static boolean isUtf8(String name) {
        try {
            return Charset.forName(name.toLowerCase(Locale.ROOT)).equals(StandardCharsets.UTF_8);
        } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
            return false;
        }
    }
}
