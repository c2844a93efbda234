package jp.mamori.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;

/**
 * A tiny in-memory stand-in for a FHIR server, on 127.0.0.1 and a free port: 201 to POST Patient,
 * a transaction-response to POST of a bundle, and 200 with a Patient (or a search Bundle) to GET.
 * It records what it received so tests can check the requests.
 */
final class FakeFhirServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor = Executors.newCachedThreadPool();
    private final boolean transactions;
    private final int getStatus;
    private final AtomicInteger nextId = new AtomicInteger(1);

    /** Request counts by kind, e.g. "POST Patient", "GET Patient/id", "GET Patient?", "POST bundle". */
    final Map<String, LongAdder> counts = new ConcurrentHashMap<>();
    /** Distinct Authorization headers seen ("" when absent). */
    final Set<String> authorizations = ConcurrentHashMap.newKeySet();
    /** Distinct Prefer headers seen on POST Patient ("" when absent). */
    final Set<String> prefers = ConcurrentHashMap.newKeySet();
    /** Decoded family search terms. */
    final Set<String> families = ConcurrentHashMap.newKeySet();
    /** Ids asked for by reads. */
    final Set<String> readIds = ConcurrentHashMap.newKeySet();
    /** Content types of POST requests. */
    final Set<String> contentTypes = ConcurrentHashMap.newKeySet();

    /**
     * @param tls          null for plain HTTP, or the server's TLS context
     * @param transactions whether POST of a transaction bundle succeeds (else 400)
     * @param getStatus    the status answered to GET requests of Patient (metadata is always 200)
     */
    FakeFhirServer(SSLContext tls, boolean transactions, int getStatus) throws IOException {
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        if (tls == null) {
            server = HttpServer.create(address, 0);
        } else {
            HttpsServer https = HttpsServer.create(address, 0);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            server = https;
        }
        this.transactions = transactions;
        this.getStatus = getStatus;
        server.setExecutor(executor);
        server.createContext("/fhir", this::handle);
        server.start();
    }

    static FakeFhirServer http() throws IOException {
        return new FakeFhirServer(null, true, 200);
    }

    String base() {
        String scheme = server instanceof HttpsServer ? "https" : "http";
        return scheme + "://127.0.0.1:" + server.getAddress().getPort() + "/fhir";
    }

    long count(String kind) {
        LongAdder adder = counts.get(kind);
        return adder == null ? 0 : adder.sum();
    }

    /** Ids handed out so far (they are 1..n). */
    int idsIssued() {
        return nextId.get() - 1;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body;
            try (InputStream in = exchange.getRequestBody()) {
                body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getPath().substring("/fhir".length());
            String query = exchange.getRequestURI().getRawQuery();
            authorizations.add(headerOrEmpty(exchange, "Authorization"));
            if (method.equals("POST")) {
                contentTypes.add(headerOrEmpty(exchange, "Content-Type"));
            }

            if (method.equals("GET") && path.equals("/metadata")) {
                count("GET metadata", 1);
                send(exchange, 200, "{\"resourceType\":\"CapabilityStatement\",\"status\":\"active\","
                        + "\"kind\":\"instance\",\"fhirVersion\":\"4.0.1\",\"format\":[\"json\"]}");
            } else if (method.equals("POST") && path.equals("/Patient")) {
                count("POST Patient", 1);
                prefers.add(headerOrEmpty(exchange, "Prefer"));
                int id = nextId.getAndIncrement();
                exchange.getResponseHeaders().add("Location", base() + "/Patient/" + id + "/_history/1");
                exchange.sendResponseHeaders(201, -1);
            } else if (method.equals("POST") && (path.isEmpty() || path.equals("/"))) {
                count("POST bundle", 1);
                if (!transactions) {
                    send(exchange, 400, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\","
                            + "\"code\":\"not-supported\",\"diagnostics\":\"transactions are not supported\"}]}");
                    return;
                }
                int entries = body.split("\"fullUrl\"", -1).length - 1;
                StringBuilder json = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\",\"entry\":[");
                for (int i = 0; i < entries; i++) {
                    int id = nextId.getAndIncrement();
                    json.append(i == 0 ? "" : ",").append("{\"response\":{\"status\":\"201 Created\",")
                            .append("\"location\": \"Patient/").append(id).append("/_history/1\"}}");
                }
                send(exchange, 200, json.append("]}").toString());
            } else if (method.equals("GET") && path.startsWith("/Patient/")) {
                count("GET Patient/id", 1);
                String id = path.substring("/Patient/".length());
                readIds.add(id);
                send(exchange, getStatus, getStatus == 200
                        ? "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"山田\"}]}"
                        : "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"exception\","
                        + "\"diagnostics\":\"database is on fire\"}]}");
            } else if (method.equals("GET") && path.equals("/Patient") && query != null) {
                count("GET Patient?", 1);
                for (String pair : query.split("&")) {
                    if (pair.startsWith("family=")) {
                        families.add(URLDecoder.decode(pair.substring(7), StandardCharsets.UTF_8));
                    }
                }
                send(exchange, getStatus, "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0}");
            } else {
                count("other", 1);
                send(exchange, 404, "{\"resourceType\":\"OperationOutcome\"}");
            }
        }
    }

    private void count(String kind, int n) {
        counts.computeIfAbsent(kind, k -> new LongAdder()).add(n);
    }

    private static String headerOrEmpty(HttpExchange exchange, String name) {
        List<String> values = exchange.getRequestHeaders().get(name);
        return values == null || values.isEmpty() ? "" : values.get(0);
    }

    private static void send(HttpExchange exchange, int status, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/fhir+json;charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
