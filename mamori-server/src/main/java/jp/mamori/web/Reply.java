package jp.mamori.web;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An HTTP answer, built by an endpoint and written by the handler: its body in memory, or, for a large file (a bulk
 * export's NDJSON), a {@link Streamed} body that the handler copies to the client in small chunks, so that the
 * answer's size never becomes heap.
 */
public record Reply(int status, String contentType, byte[] body, Map<String, String> headers, Streamed stream) {
    /**
     * A body written straight to the client: {@code length} bytes, exactly, by {@link #writeTo} through a small
     * buffer of its own. {@code body()} of such a reply is empty.
     */
    public interface Streamed {
        long length();

        void writeTo(OutputStream out) throws IOException;
    }

    public Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
        this(status, contentType, body, headers, null);
    }

    public static Reply of(int status, String contentType, String body) {
        return new Reply(status, contentType, body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8),
                new LinkedHashMap<>());
    }

    public static Reply of(int status, String contentType, byte[] body) {
        return new Reply(status, contentType, body, new LinkedHashMap<>());
    }

    public static Reply empty(int status) {
        return new Reply(status, null, new byte[0], new LinkedHashMap<>());
    }

    /** A 200 (or {@code status}) whose body {@code stream} writes as the client reads it. */
    public static Reply streamed(int status, String contentType, Streamed stream) {
        if (stream == null) {
            throw new IllegalArgumentException("a streamed reply needs its stream");
        }
        return new Reply(status, contentType, new byte[0], new LinkedHashMap<>(), stream);
    }

    public Reply header(String name, String value) {
        headers.put(name, value);
        return this;
    }
}
