package jp.mamori.preservation;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small S3 peer for tests only: OUR OWN implementation of the S3 REST protocol as the AWS SDK speaks it, on
 * 127.0.0.1, enforcing Object Lock the way AWS documents it for COMPLIANCE mode. No S3 implementation that runs here
 * (Maven Central, Debian, npm; no containers) was found to enforce Object Lock, so this peer stands in: it shows that
 * the client sends what a real store needs and reacts to what a real store answers, NOT that any real store enforces
 * the lock (ADR 0010 "Object Lock copies": the gap).
 *
 * <p>What it does: every request must carry a valid AWS Signature Version 4 (header form, access key and region
 * checked, the canonical request rebuilt and the HMAC compared; a signed payload hash is checked against the body,
 * and aws-chunked bodies have each chunk's signature checked). Buckets have versioning and Object Lock as created.
 * PutObject with lock headers needs Content-MD5 or an x-amz-checksum-* header, which must match the body; each put to
 * a versioned bucket adds a version. DeleteObject with a versionId of a version locked (retain-until after the peer's
 * clock) is refused (AccessDenied); without a versionId it adds a delete marker. PutObjectRetention may only extend a
 * COMPLIANCE retention. S3 XML error bodies throughout.
 */
final class S3Peer implements AutoCloseable {
    static final String ACCESS_KEY = "MAMORITESTACCESSKEY1";
    static final String SECRET_KEY = "mAmOrItEsT/sEcReT+kEy/0123456789abcdefgh";
    static final String REGION = "ap-northeast-1";
    private static final String NS = "http://s3.amazonaws.com/doc/2006-03-01/";
    private static final int MAX_BODY = 64 << 20;
    private static final Pattern AUTH = Pattern.compile("AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/s3/"
            + "aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})");
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    /** One object version (or delete marker). */
    static final class Version {
        final String id;
        final byte[] data;
        final boolean deleteMarker;
        final String sha256;
        volatile String mode;
        volatile Instant until;

        Version(String id, byte[] data, boolean deleteMarker, String sha256, String mode, Instant until) {
            this.id = id;
            this.data = data;
            this.deleteMarker = deleteMarker;
            this.sha256 = sha256;
            this.mode = mode;
            this.until = until;
        }
    }

    /** A bucket: whether versioning and Object Lock are on, and a default retention mode (or null). */
    static final class Bucket {
        final boolean versioning;
        final boolean lock;
        final String defaultMode;
        final TreeMap<String, List<Version>> objects = new TreeMap<>();

        Bucket(boolean versioning, boolean lock, String defaultMode) {
            this.versioning = versioning;
            this.lock = lock;
            this.defaultMode = defaultMode;
        }
    }

    private final HttpServer server;
    private final AtomicReference<Instant> clock;
    private final Map<String, Bucket> buckets = new TreeMap<>();
    private final AtomicLong versions = new AtomicLong();
    /** Every refused request: "STATUS CODE METHOD PATH", for the tests to see what the peer refused. */
    final List<String> refused = new CopyOnWriteArrayList<>();
    /** Every request's Authorization and other headers as received, for the tests to check nothing leaks. */
    final List<String> requests = new CopyOnWriteArrayList<>();
    volatile int pageSize = 1000;

    /** A peer on 127.0.0.1 whose clock (for retention) is {@code clock}. */
    S3Peer(AtomicReference<Instant> clock) throws IOException {
        this.clock = clock;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/", this::handle);
        server.start();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    synchronized void createBucket(String name, boolean versioning, boolean lock, String defaultMode) {
        buckets.put(name, new Bucket(versioning, lock, defaultMode));
    }

    /** The versions of {@code key}, oldest first (a copy). */
    synchronized List<Version> versions(String bucket, String key) {
        return List.copyOf(buckets.get(bucket).objects.getOrDefault(key, List.of()));
    }

    synchronized List<String> keys(String bucket) {
        return List.copyOf(buckets.get(bucket).objects.keySet());
    }

    @Override
    public void close() {
        server.stop(0);
    }

    // ------------------------------------------------------------------ requests

    private record Failure(int status, String code, String message) {
    }

    private static final class Refused extends Exception {
        final Failure f;

        Refused(int status, String code, String message) {
            super(code, null, false, false);
            f = new Failure(status, code, message);
        }
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            StringBuilder seen = new StringBuilder(x.getRequestMethod() + " " + x.getRequestURI());
            x.getRequestHeaders().forEach((k, v) -> seen.append('\n').append(k).append(": ").append(v));
            requests.add(seen.toString());
            try {
                byte[] body = readBody(x);
                body = authenticate(x, body);
                synchronized (this) {
                    route(x, body);
                }
            } catch (Refused r) {
                refused.add(r.f.status() + " " + r.f.code() + " " + x.getRequestMethod() + " "
                        + x.getRequestURI().getRawPath());
                byte[] xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + r.f.code() + "</Code><Message>"
                        + esc(r.f.message()) + "</Message><RequestId>peer</RequestId></Error>")
                        .getBytes(StandardCharsets.UTF_8);
                x.getResponseHeaders().set("Content-Type", "application/xml");
                if (x.getRequestMethod().equals("HEAD")) {
                    x.sendResponseHeaders(r.f.status(), -1);
                } else {
                    x.sendResponseHeaders(r.f.status(), xml.length);
                    x.getResponseBody().write(xml);
                }
            }
        } catch (RuntimeException e) {
            e.printStackTrace();
            throw e;
        }
    }

    private static byte[] readBody(HttpExchange x) throws IOException, Refused {
        InputStream in = x.getRequestBody();
        byte[] b = in.readNBytes(MAX_BODY + 1);
        if (b.length > MAX_BODY) {
            throw new Refused(400, "EntityTooLarge", "the test peer takes at most " + MAX_BODY + " bytes");
        }
        return b;
    }

    // ------------------------------------------------------------------ Signature Version 4

    /** Checks the request's SigV4 signature; returns the body (aws-chunked decoded, chunk signatures checked). */
    private byte[] authenticate(HttpExchange x, byte[] body) throws Refused {
        String auth = x.getRequestHeaders().getFirst("Authorization");
        if (auth == null) {
            throw new Refused(403, "AccessDenied", "anonymous requests are refused");
        }
        Matcher m = AUTH.matcher(auth);
        if (!m.matches()) {
            throw new Refused(400, "AuthorizationHeaderMalformed", "not an AWS4-HMAC-SHA256 authorization");
        }
        if (!m.group(1).equals(ACCESS_KEY)) {
            throw new Refused(403, "InvalidAccessKeyId", "unknown access key");
        }
        if (!m.group(3).equals(REGION)) {
            throw new Refused(400, "AuthorizationHeaderMalformed", "the region is wrong; expecting " + REGION);
        }
        String amzDate = x.getRequestHeaders().getFirst("X-amz-date");
        String payloadHash = x.getRequestHeaders().getFirst("X-amz-content-sha256");
        if (amzDate == null || payloadHash == null || !amzDate.startsWith(m.group(2))) {
            throw new Refused(400, "InvalidRequest", "x-amz-date and x-amz-content-sha256 are required");
        }
        StringBuilder canonical = new StringBuilder();
        canonical.append(x.getRequestMethod()).append('\n');
        canonical.append(x.getRequestURI().getRawPath()).append('\n');
        canonical.append(canonicalQuery(x.getRequestURI().getRawQuery())).append('\n');
        String[] signed = m.group(4).split(";");
        for (String h : signed) {
            List<String> v = x.getRequestHeaders().get(h);
            if (v == null) {
                throw new Refused(403, "SignatureDoesNotMatch", "a signed header is missing: " + h);
            }
            canonical.append(h).append(':').append(String.join(",", v.stream()
                    .map(s -> s.strip().replaceAll(" +", " ")).toList())).append('\n');
        }
        canonical.append('\n').append(m.group(4)).append('\n').append(payloadHash);
        String scope = m.group(2) + "/" + REGION + "/s3/aws4_request";
        byte[] key = signingKey(m.group(2));
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex(sha256(canonical.toString()
                .getBytes(StandardCharsets.UTF_8)));
        String signature = hex(hmac(key, toSign));
        if (!MessageDigest.isEqual(signature.getBytes(StandardCharsets.US_ASCII),
                m.group(5).getBytes(StandardCharsets.US_ASCII))) {
            throw new Refused(403, "SignatureDoesNotMatch", "the request signature we calculated does not match");
        }
        if (payloadHash.matches("[0-9a-f]{64}")) {
            if (!payloadHash.equals(hex(sha256(body)))) {
                throw new Refused(400, "XAmzContentSHA256Mismatch", "the body does not match x-amz-content-sha256");
            }
            return body;
        }
        if (payloadHash.equals("UNSIGNED-PAYLOAD")) {
            return body;
        }
        if (payloadHash.startsWith("STREAMING-")) {
            boolean signedChunks = payloadHash.startsWith("STREAMING-AWS4-HMAC-SHA256-PAYLOAD");
            return unchunk(body, signedChunks, key, amzDate, scope, m.group(5));
        }
        throw new Refused(400, "InvalidArgument", "unknown x-amz-content-sha256 " + payloadHash);
    }

    /** Decodes an aws-chunked body; with {@code signedChunks} each chunk's signature chains from the seed. */
    private static byte[] unchunk(byte[] b, boolean signedChunks, byte[] key, String amzDate, String scope,
                                  String seed) throws Refused {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        String previous = seed;
        while (true) {
            int eol = indexOfCrlf(b, i);
            if (eol < 0) {
                throw new Refused(400, "IncompleteBody", "an aws-chunked header is cut off");
            }
            String header = new String(b, i, eol - i, StandardCharsets.US_ASCII);
            String[] h = header.split(";", 2);
            int size;
            try {
                size = Integer.parseInt(h[0], 16);
            } catch (NumberFormatException e) {
                throw new Refused(400, "InvalidRequest", "a chunk size is not hexadecimal");
            }
            int start = eol + 2;
            if (size < 0 || start + size > b.length) {
                throw new Refused(400, "IncompleteBody", "a chunk is cut off");
            }
            if (signedChunks) {
                if (h.length != 2 || !h[1].startsWith("chunk-signature=")) {
                    throw new Refused(403, "SignatureDoesNotMatch", "a chunk has no signature");
                }
                byte[] data = java.util.Arrays.copyOfRange(b, start, start + size);
                String toSign = "AWS4-HMAC-SHA256-PAYLOAD\n" + amzDate + "\n" + scope + "\n" + previous + "\n"
                        + hex(sha256(new byte[0])) + "\n" + hex(sha256(data));
                String sig = hex(hmac(key, toSign));
                if (!sig.equals(h[1].substring("chunk-signature=".length()))) {
                    throw new Refused(403, "SignatureDoesNotMatch", "a chunk's signature does not match");
                }
                previous = sig;
            }
            out.write(b, start, size);
            i = start + size;
            if (size == 0) {
                return out.toByteArray(); // trailers (if any) follow; their checksum is not needed here
            }
            if (i + 2 > b.length || b[i] != '\r' || b[i + 1] != '\n') {
                throw new Refused(400, "IncompleteBody", "a chunk does not end in CRLF");
            }
            i += 2;
        }
    }

    private static int indexOfCrlf(byte[] b, int from) {
        for (int i = from; i + 1 < b.length; i++) {
            if (b[i] == '\r' && b[i + 1] == '\n') {
                return i;
            }
        }
        return -1;
    }

    private static String canonicalQuery(String raw) {
        if (raw == null || raw.isEmpty()) {
            return "";
        }
        List<String> pairs = new ArrayList<>();
        for (String p : raw.split("&")) {
            pairs.add(p.contains("=") ? p : p + "=");
        }
        pairs.sort(null);
        return String.join("&", pairs);
    }

    private static byte[] signingKey(String date) {
        byte[] k = hmac(("AWS4" + SECRET_KEY).getBytes(StandardCharsets.UTF_8), date);
        k = hmac(k, REGION);
        k = hmac(k, "s3");
        return hmac(k, "aws4_request");
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    // ------------------------------------------------------------------ operations

    private void route(HttpExchange x, byte[] body) throws IOException, Refused {
        String path = x.getRequestURI().getRawPath();
        Map<String, String> q = query(x.getRequestURI().getRawQuery());
        String[] p = path.substring(1).split("/", 2);
        Bucket b = buckets.get(p[0]);
        if (b == null) {
            throw new Refused(404, "NoSuchBucket", "the bucket does not exist");
        }
        String method = x.getRequestMethod();
        if (p.length == 1 || p[1].isEmpty()) {
            if (method.equals("GET") && q.containsKey("versioning")) {
                xml(x, 200, "<VersioningConfiguration xmlns=\"" + NS + "\">" + (b.versioning ? "<Status>Enabled</Status>"
                        : "") + "</VersioningConfiguration>");
            } else if (method.equals("GET") && q.containsKey("object-lock")) {
                if (!b.lock) {
                    throw new Refused(404, "ObjectLockConfigurationNotFoundError",
                            "Object Lock configuration does not exist for this bucket");
                }
                xml(x, 200, "<ObjectLockConfiguration xmlns=\"" + NS + "\"><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
                        + (b.defaultMode == null ? "" : "<Rule><DefaultRetention><Mode>" + b.defaultMode
                        + "</Mode><Days>1</Days></DefaultRetention></Rule>") + "</ObjectLockConfiguration>");
            } else if (method.equals("GET") && "2".equals(q.get("list-type"))) {
                list(x, b, p[0], q);
            } else {
                throw new Refused(501, "NotImplemented", "the test peer does not implement this bucket operation");
            }
            return;
        }
        String key = URLDecoder.decode(p[1].replace("+", "%2B"), StandardCharsets.UTF_8);
        switch (method) {
            case "PUT" -> {
                if (q.containsKey("retention")) {
                    putRetention(x, b, key, q.get("versionId"), body);
                } else if (q.isEmpty()) {
                    put(x, b, key, body);
                } else {
                    throw new Refused(501, "NotImplemented", "the test peer does not implement this object operation");
                }
            }
            case "GET", "HEAD" -> {
                if (q.containsKey("retention")) {
                    Version v = version(b, key, q.get("versionId"));
                    if (v.mode == null) {
                        throw new Refused(404, "NoSuchObjectLockConfiguration", "the object has no retention");
                    }
                    xml(x, 200, "<Retention xmlns=\"" + NS + "\"><Mode>" + v.mode + "</Mode><RetainUntilDate>"
                            + ISO.format(v.until) + "</RetainUntilDate></Retention>");
                } else {
                    get(x, b, key, q.get("versionId"), method.equals("HEAD"));
                }
            }
            case "DELETE" -> delete(x, b, key, q.get("versionId"));
            default -> throw new Refused(405, "MethodNotAllowed", "the method is not allowed");
        }
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new TreeMap<>();
        if (raw != null && !raw.isEmpty()) {
            for (String p : raw.split("&")) {
                String[] kv = p.split("=", 2);
                q.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8), kv.length == 2
                        ? URLDecoder.decode(kv[1].replace("+", "%2B"), StandardCharsets.UTF_8) : "");
            }
        }
        return q;
    }

    private void put(HttpExchange x, Bucket b, String key, byte[] body) throws IOException, Refused {
        var h = x.getRequestHeaders();
        String mode = h.getFirst("X-amz-object-lock-mode");
        String untilText = h.getFirst("X-amz-object-lock-retain-until-date");
        if ((mode == null) != (untilText == null)) {
            throw new Refused(400, "InvalidArgument", "x-amz-object-lock-mode and -retain-until-date go together");
        }
        if (mode != null && !b.lock) {
            throw new Refused(400, "InvalidRequest", "Bucket is missing Object Lock Configuration");
        }
        String md5 = h.getFirst("Content-MD5");
        String sha = h.getFirst("X-amz-checksum-sha256");
        boolean anyChecksum = md5 != null || h.keySet().stream().anyMatch(k -> k.toLowerCase()
                .startsWith("x-amz-checksum-") && !k.equalsIgnoreCase("x-amz-checksum-mode"))
                || h.getFirst("X-amz-trailer") != null;
        if ((mode != null || b.defaultMode != null) && !anyChecksum) {
            throw new Refused(400, "InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put"
                    + " Object requests with Object Lock parameters");
        }
        if (md5 != null && !md5.equals(Base64.getEncoder().encodeToString(digest("MD5", body)))) {
            throw new Refused(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
        }
        String actual = Base64.getEncoder().encodeToString(sha256(body));
        if (sha != null && !sha.equals(actual)) {
            throw new Refused(400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.");
        }
        Instant until = null;
        if (untilText != null) {
            try {
                until = Instant.parse(untilText);
            } catch (RuntimeException e) {
                throw new Refused(400, "InvalidArgument", "the retain-until date is not a date");
            }
            if (!until.isAfter(clock.get())) {
                throw new Refused(400, "InvalidArgument", "The retain until date must be in the future!");
            }
            if (!mode.equals("COMPLIANCE") && !mode.equals("GOVERNANCE")) {
                throw new Refused(400, "InvalidArgument", "Unknown wormMode directive.");
            }
        } else if (b.defaultMode != null) {
            mode = b.defaultMode;
            until = clock.get().plus(1, ChronoUnit.DAYS);
        }
        String id = b.versioning ? "v" + versions.incrementAndGet() : "null";
        List<Version> vs = b.objects.computeIfAbsent(key, k -> new ArrayList<>());
        if (!b.versioning) {
            for (Version old : vs) {
                if (locked(old)) {
                    throw new Refused(403, "AccessDenied", "the object is locked");
                }
            }
            vs.clear();
        }
        vs.add(new Version(id, body, false, actual, mode, until));
        x.getResponseHeaders().set("ETag", "\"" + hex(digest("MD5", body)) + "\"");
        if (b.versioning) {
            x.getResponseHeaders().set("x-amz-version-id", id);
        }
        x.getResponseHeaders().set("x-amz-checksum-sha256", actual);
        x.sendResponseHeaders(200, -1);
    }

    private boolean locked(Version v) {
        return v.mode != null && v.until != null && v.until.isAfter(clock.get());
    }

    private Version version(Bucket b, String key, String versionId) throws Refused {
        List<Version> vs = b.objects.get(key);
        if (vs == null || vs.isEmpty()) {
            throw new Refused(404, "NoSuchKey", "The specified key does not exist.");
        }
        if (versionId == null) {
            Version v = vs.get(vs.size() - 1);
            if (v.deleteMarker) {
                throw new Refused(404, "NoSuchKey", "The specified key does not exist.");
            }
            return v;
        }
        for (Version v : vs) {
            if (v.id.equals(versionId)) {
                if (v.deleteMarker) {
                    throw new Refused(405, "MethodNotAllowed", "the version is a delete marker");
                }
                return v;
            }
        }
        throw new Refused(404, "NoSuchVersion", "The specified version does not exist.");
    }

    private void get(HttpExchange x, Bucket b, String key, String versionId, boolean head)
            throws IOException, Refused {
        Version v = version(b, key, versionId);
        var r = x.getResponseHeaders();
        r.set("ETag", "\"" + hex(digest("MD5", v.data)) + "\"");
        r.set("Last-Modified", DateTimeFormatter.RFC_1123_DATE_TIME.format(clock.get().atOffset(ZoneOffset.UTC)));
        r.set("Content-Type", "binary/octet-stream");
        if (b.versioning) {
            r.set("x-amz-version-id", v.id);
        }
        if (v.mode != null) {
            r.set("x-amz-object-lock-mode", v.mode);
            r.set("x-amz-object-lock-retain-until-date", ISO.format(v.until));
        }
        if ("ENABLED".equals(x.getRequestHeaders().getFirst("X-amz-checksum-mode"))) {
            r.set("x-amz-checksum-sha256", v.sha256);
        }
        if (head) {
            r.set("Content-Length", Integer.toString(v.data.length));
            x.sendResponseHeaders(200, -1);
        } else {
            x.sendResponseHeaders(200, v.data.length == 0 ? -1 : v.data.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(v.data);
            }
        }
    }

    private void delete(HttpExchange x, Bucket b, String key, String versionId) throws IOException, Refused {
        List<Version> vs = b.objects.get(key);
        if (versionId == null) {
            if (b.versioning) {
                String id = "v" + versions.incrementAndGet();
                b.objects.computeIfAbsent(key, k -> new ArrayList<>()).add(new Version(id, new byte[0], true, null,
                        null, null));
                x.getResponseHeaders().set("x-amz-delete-marker", "true");
                x.getResponseHeaders().set("x-amz-version-id", id);
            } else if (vs != null) {
                for (Version v : vs) {
                    if (locked(v)) {
                        throw new Refused(403, "AccessDenied", "Access Denied because object protected by object lock.");
                    }
                }
                b.objects.remove(key);
            }
            x.sendResponseHeaders(204, -1);
            return;
        }
        if (vs != null) {
            for (Version v : vs) {
                if (v.id.equals(versionId)) {
                    if (locked(v)) {
                        // COMPLIANCE: nobody may; GOVERNANCE: only with a bypass this peer does not grant either
                        throw new Refused(403, "AccessDenied", "Access Denied because object protected by object lock.");
                    }
                    vs.remove(v);
                    if (vs.isEmpty()) {
                        b.objects.remove(key);
                    }
                    break;
                }
            }
        }
        x.getResponseHeaders().set("x-amz-version-id", versionId);
        x.sendResponseHeaders(204, -1);
    }

    private static final Pattern RETENTION = Pattern.compile("(?s).*<Mode>(COMPLIANCE|GOVERNANCE)</Mode>\\s*"
            + "<RetainUntilDate>([^<]+)</RetainUntilDate>.*");

    private void putRetention(HttpExchange x, Bucket b, String key, String versionId, byte[] body)
            throws IOException, Refused {
        Version v = version(b, key, versionId);
        Matcher m = RETENTION.matcher(new String(body, StandardCharsets.UTF_8));
        if (!m.matches()) {
            throw new Refused(400, "MalformedXML", "The XML you provided was not well-formed");
        }
        Instant until;
        try {
            until = Instant.parse(m.group(2));
        } catch (RuntimeException e) {
            throw new Refused(400, "InvalidArgument", "the retain-until date is not a date");
        }
        if (locked(v) && v.mode.equals("COMPLIANCE") && (!m.group(1).equals("COMPLIANCE") || until.isBefore(v.until))) {
            throw new Refused(403, "AccessDenied", "Access Denied because object protected by object lock.");
        }
        if (locked(v) && v.mode.equals("GOVERNANCE") && until.isBefore(v.until)) {
            throw new Refused(403, "AccessDenied", "Access Denied because object protected by object lock.");
        }
        v.mode = m.group(1);
        v.until = until;
        x.sendResponseHeaders(200, -1);
    }

    private void list(HttpExchange x, Bucket b, String name, Map<String, String> q) throws IOException {
        String prefix = q.getOrDefault("prefix", "");
        String after = q.containsKey("continuation-token") ? new String(Base64.getUrlDecoder()
                .decode(q.get("continuation-token")), StandardCharsets.UTF_8) : q.get("start-after");
        int max = Math.min(pageSize, Integer.parseInt(q.getOrDefault("max-keys", "1000")));
        StringBuilder out = new StringBuilder("<ListBucketResult xmlns=\"" + NS + "\"><Name>" + esc(name) + "</Name>"
                + "<Prefix>" + esc(prefix) + "</Prefix><MaxKeys>" + max + "</MaxKeys>");
        int n = 0;
        String last = null;
        boolean truncated = false;
        for (var e : (after == null ? b.objects : b.objects.tailMap(after, false)).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                continue;
            }
            Version v = e.getValue().get(e.getValue().size() - 1);
            if (v.deleteMarker) {
                continue;
            }
            if (n == max) {
                truncated = true;
                break;
            }
            out.append("<Contents><Key>").append(esc(e.getKey())).append("</Key><LastModified>")
                    .append(ISO.format(clock.get())).append("</LastModified><ETag>&quot;")
                    .append(hex(digest("MD5", v.data))).append("&quot;</ETag><Size>").append(v.data.length)
                    .append("</Size><StorageClass>STANDARD</StorageClass></Contents>");
            n++;
            last = e.getKey();
        }
        out.append("<KeyCount>").append(n).append("</KeyCount><IsTruncated>").append(truncated)
                .append("</IsTruncated>");
        if (truncated) {
            out.append("<NextContinuationToken>").append(Base64.getUrlEncoder().encodeToString(last
                    .getBytes(StandardCharsets.UTF_8))).append("</NextContinuationToken>");
        }
        xml(x, 200, out.append("</ListBucketResult>").toString());
    }

    private static void xml(HttpExchange x, int status, String body) throws IOException {
        byte[] b = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + body).getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/xml");
        x.sendResponseHeaders(status, b.length);
        x.getResponseBody().write(b);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static byte[] sha256(byte[] b) {
        return digest("SHA-256", b);
    }

    private static byte[] digest(String alg, byte[] b) {
        try {
            return MessageDigest.getInstance(alg).digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }
}
