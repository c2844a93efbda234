package jp.mamori.audit;

import jp.mamori.kernel.Hashes;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TSPException;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;

import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Duration;

/**
 * An RFC 3161 time-stamp client: asks the configured TSA to time-stamp the SHA-256 of a checkpoint's signed note
 * and returns the token (DER). The request asks for the TSA's certificate and carries a random nonce; the answer
 * is checked for status, nonce and message imprint (Bouncy Castle's {@code TimeStampResponse.validate}). HTTP by
 * the JDK client, with a timeout: a slow TSA delays only the checkpointer, never a request.
 */
final class TimeStamper {
    private static final SecureRandom RANDOM = new SecureRandom();
    private final URI url;
    private final HttpClient http;
    private final Duration timeout;

    public TimeStamper(URI url, Duration timeout) {
        this.url = url;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    public URI url() {
        return url;
    }

    /** The time-stamp token over SHA-256({@code data}). */
    public byte[] stamp(byte[] data) throws IOException {
        byte[] digest = Hashes.sha256(data);
        TimeStampRequestGenerator g = new TimeStampRequestGenerator();
        g.setCertReq(true);
        TimeStampRequest req = g.generate(TSPAlgorithms.SHA256, digest, new BigInteger(64, RANDOM));
        HttpResponse<byte[]> res;
        try {
            res = http.send(HttpRequest.newBuilder(url).timeout(timeout)
                    .header("Content-Type", "application/timestamp-query")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(req.getEncoded())).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        if (res.statusCode() != 200) {
            throw new IOException("the TSA answered HTTP " + res.statusCode());
        }
        try {
            TimeStampResponse tr = new TimeStampResponse(res.body());
            tr.validate(req);
            TimeStampToken token = tr.getTimeStampToken();
            if (token == null) {
                throw new IOException("the TSA refused: status " + tr.getStatus() + " " + tr.getStatusString());
            }
            return token.getEncoded();
        } catch (TSPException e) {
            throw new IOException("the TSA's answer is not a valid time-stamp for this checkpoint: " + e.getMessage(), e);
        }
    }
}
