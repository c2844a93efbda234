package jp.mamori.federation;

import jp.mamori.kernel.CappedBody;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Mamori's calls to the identity provider (discovery, keys, token), bounded: HTTPS only, the provider's certificate
 * checked against the registered CA (or the JDK's), no redirects followed, a connect timeout, a deadline for the whole
 * answer, and at most {@link #MAX_ANSWER} bytes read (a larger answer is refused, never held whole). The protocol
 * itself is Nimbus's; this is the plumbing under it.
 */
final class ProviderClient {
    /** The largest answer read from the provider: discovery documents and key sets are a few kilobytes. */
    static final int MAX_ANSWER = 256 * 1024;
    static final Duration CONNECT = Duration.ofSeconds(5);
    static final Duration DEADLINE = Duration.ofSeconds(10);

    /** The provider could not be asked (network, TLS, timeout, too large): the provider is treated as down. */
    static final class Unreachable extends Exception {
        Unreachable(String message) {
            super(message);
        }
    }

    record Answer(int status, String contentType, String body) {
    }

    private final HttpClient http;

    /** @param caPem the CA that issued the provider's certificate (PEM, one or more), or null for the JDK's */
    ProviderClient(String caPem) {
        this.http = HttpClient.newBuilder().connectTimeout(CONNECT).followRedirects(HttpClient.Redirect.NEVER)
                .sslContext(ssl(caPem)).version(HttpClient.Version.HTTP_1_1).build();
    }

    /** The certificates of {@code pem}; a clear refusal when there are none or they do not parse. */
    static List<Certificate> certificates(String pem) {
        try {
            Collection<? extends Certificate> cs = CertificateFactory.getInstance("X.509").generateCertificates(
                    new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
            if (cs.isEmpty()) {
                throw new FederationRefusal(FederationRefusal.Kind.INVALID, "CA証明書（PEM）が読めません / The CA"
                        + " certificate (PEM) cannot be read");
            }
            return List.copyOf(cs);
        } catch (GeneralSecurityException | RuntimeException e) {
            if (e instanceof FederationRefusal f) {
                throw f;
            }
            throw new FederationRefusal(FederationRefusal.Kind.INVALID, "CA証明書（PEM）が読めません / The CA"
                    + " certificate (PEM) cannot be read");
        }
    }

    private static SSLContext ssl(String caPem) {
        try {
            if (caPem == null) {
                return SSLContext.getDefault();
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int i = 0;
            for (Certificate c : certificates(caPem)) {
                trust.setCertificateEntry("ca" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("TLS is not available: " + e.getMessage(), e);
        }
    }

    Answer get(URI uri) throws Unreachable {
        return send(HttpRequest.newBuilder(https(uri)).GET().header("Accept", "application/json")
                .timeout(DEADLINE).build());
    }

    /** A POST of a form (the token request as Nimbus built it). */
    Answer post(URI uri, Map<String, List<String>> headers, String form) throws Unreachable {
        HttpRequest.Builder b = HttpRequest.newBuilder(https(uri)).timeout(DEADLINE)
                .POST(HttpRequest.BodyPublishers.ofString(form, StandardCharsets.UTF_8));
        headers.forEach((name, values) -> {
            if (!name.equalsIgnoreCase("Content-Length") && !name.equalsIgnoreCase("Host")) {
                values.forEach(v -> b.header(name, v));
            }
        });
        return send(b.build());
    }

    private static URI https(URI uri) throws Unreachable {
        if (uri == null || !"https".equalsIgnoreCase(uri.getScheme())) {
            throw new Unreachable("not an https address: " + uri);
        }
        return uri;
    }

    private Answer send(HttpRequest request) throws Unreachable {
        CompletableFuture<HttpResponse<byte[]>> f = http.sendAsync(request, info -> new CappedBody(MAX_ANSWER));
        try {
            HttpResponse<byte[]> r = f.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
            return new Answer(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""),
                    new String(r.body(), StandardCharsets.UTF_8));
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new Unreachable("no answer within " + DEADLINE.toSeconds() + " s from " + request.uri().getHost());
        } catch (ExecutionException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            throw new Unreachable(c.getClass().getSimpleName() + " from " + request.uri().getHost()
                    + (c.getMessage() == null ? "" : ": " + c.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreachable("interrupted");
        }
    }
}
