package jp.mamori.signatures;

import jp.mamori.kernel.CappedBody;
import eu.europa.esig.dss.spi.client.http.DataLoader;
import eu.europa.esig.dss.spi.exception.DSSExternalResourceException;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * DSS's way out to TSAs, OCSP responders, CRL and certificate servers, bounded: http and https only (a certificate's
 * "file:" or "ldap:" distribution point is never followed), no redirects, one deadline for the whole call and a
 * ceiling on the answer's size, checked while it arrives (an answer from the network is hostile input).
 */
final class BoundedHttp implements DataLoader {
    private static final long serialVersionUID = 1L;
    private static final HttpClient CLIENT = HttpClient.newBuilder()
            .followRedirects(HttpClient.Redirect.NEVER)
            .connectTimeout(Duration.ofSeconds(10))
            .build();

    private final Duration timeout;
    private final int maxBytes;
    private volatile String contentType;

    BoundedHttp(Duration timeout, int maxBytes, String contentType) {
        this.timeout = timeout;
        this.maxBytes = maxBytes;
        this.contentType = contentType;
    }

    @Override
    public byte[] get(String url) {
        return call(url, null);
    }

    @Override
    public DataAndUrl get(List<String> urlStrings) {
        DSSExternalResourceException last = null;
        for (String url : urlStrings) {
            try {
                return new DataAndUrl(url, call(url, null));
            } catch (DSSExternalResourceException e) {
                last = e;
            }
        }
        throw last != null ? last : new DSSExternalResourceException("no URL to fetch");
    }

    @Override
    public byte[] post(String url, byte[] content) {
        return call(url, content);
    }

    @Override
    public void setContentType(String contentType) {
        this.contentType = contentType;
    }

    private byte[] call(String url, byte[] body) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new DSSExternalResourceException("not a URL: " + url);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
            throw new DSSExternalResourceException("only http(s) is fetched: " + url);
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout);
        if (body == null) {
            request.GET();
        } else {
            request.POST(HttpRequest.BodyPublishers.ofByteArray(body));
            if (contentType != null) {
                request.header("Content-Type", contentType);
            }
        }
        CompletableFuture<HttpResponse<byte[]>> future = CLIENT.sendAsync(request.build(),
                info -> new CappedBody(maxBytes));
        try {
            HttpResponse<byte[]> response = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (response.statusCode() != 200) {
                throw new DSSExternalResourceException("HTTP " + response.statusCode() + " from " + url);
            }
            return response.body();
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new DSSExternalResourceException("no complete answer within " + timeout.toMillis() + " ms from " + url);
        } catch (ExecutionException e) {
            throw new DSSExternalResourceException("cannot fetch " + url + ": " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            throw new DSSExternalResourceException("interrupted while fetching " + url);
        }
    }
}
