package jp.mamori.web;

import jp.mamori.access.Caller;
import org.eclipse.jetty.server.Request;

import java.io.InputStream;
import java.util.function.Supplier;

/**
 * One request as {@link ApiHandler} hands it to an {@link Endpoint}.
 *
 * @param request      the Jetty request (headers, method, query)
 * @param path         the path within the server
 * @param lease        the heap this request may use ({@link MemoryBudget}); the body reader reserves from it
 * @param body         the request body, limited to the configured size and guarded against huge number exponents
 * @param baseUrl      the server's public FHIR base ({@code https://host:port/fhir}); a 503 until it is known
 * @param authenticate the system client the request authenticated as (token or pinned certificate); a 401 if none
 */
public record Exchange(Request request, String path, MemoryBudget.Lease lease, Supplier<InputStream> body,
                       Supplier<String> baseUrl, Supplier<Caller> authenticate) {
}
