package jp.mamori.web;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** An HTTP answer, built by an endpoint and written by the handler. */
public record Reply(int status, String contentType, byte[] body, Map<String, String> headers) {
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

    public Reply header(String name, String value) {
        headers.put(name, value);
        return this;
    }
}
