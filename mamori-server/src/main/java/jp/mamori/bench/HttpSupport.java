package jp.mamori.bench;

import java.net.ConnectException;
import java.net.Socket;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/** TLS for the load client and one-line descriptions of requests and failures. */
final class HttpSupport {

    /** How much of an error response body is shown. */
    static final int SNIPPET_CHARS = 200;

    private HttpSupport() {
    }

    /**
     * A TLS context that accepts every certificate. It uses an {@link X509ExtendedTrustManager}
     * because the JDK performs host name verification inside the trust manager for extended ones;
     * a plain X509TrustManager would be wrapped and the host name would still be checked.
     */
    static SSLContext trustAllContext() {
        TrustManager trustAll = new X509ExtendedTrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {trustAll}, null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** "POST /fhir/Patient" style description of a request (path and decoded query). */
    static String target(LoadClient.Request request) {
        return request.describe();
    }

    /** The first {@link #SNIPPET_CHARS} characters of a response body on one line. */
    static String snippet(byte[] body) {
        String text = new String(body, 0, Math.min(body.length, SNIPPET_CHARS * 4), StandardCharsets.UTF_8)
                .replaceAll("\\s+", " ").strip();
        if (text.length() > SNIPPET_CHARS) {
            int cut = Character.isHighSurrogate(text.charAt(SNIPPET_CHARS - 1)) ? SNIPPET_CHARS - 1 : SNIPPET_CHARS;
            text = text.substring(0, cut);
        }
        return text.isEmpty() ? "(empty body)" : text;
    }

    /** One line for an HTTP error response. */
    static String httpError(LoadClient.Request request, int status, byte[] body) {
        return "HTTP " + status + " from " + target(request) + ": " + snippet(body);
    }

    /** One human-readable line for a failure to talk to the server (no stack trace). */
    static String describe(Throwable failure) {
        Throwable deepest = failure;
        boolean tls = false;
        boolean unresolved = false;
        boolean refused = false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            tls |= t instanceof SSLException;
            unresolved |= t instanceof UnresolvedAddressException || t instanceof UnknownHostException;
            refused |= t instanceof ConnectException && !(t instanceof HttpConnectTimeoutException);
            if (t.getMessage() != null && !t.getMessage().isBlank()) {
                deepest = t;
            }
        }
        String message = deepest.getMessage() == null ? deepest.getClass().getSimpleName() : deepest.getMessage();
        message = message.replaceAll("\\s+", " ").strip();
        if (tls) {
            return "TLS handshake failed (" + message + "); use --insecure to trust a self-signed certificate";
        }
        if (unresolved) {
            return "unknown host";
        }
        if (failure instanceof HttpConnectTimeoutException) {
            return "connect timed out";
        }
        if (failure instanceof HttpTimeoutException) {
            return "no answer within " + FhirRequests.TIMEOUT.toSeconds() + "s";
        }
        if (refused && deepest.getMessage() == null) {
            return "connection refused";
        }
        return message;
    }

    /** Whether a status code is a success (2xx). */
    static boolean isSuccess(int status) {
        return status >= 200 && status < 300;
    }
}
