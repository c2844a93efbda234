package jp.mamori.identity;

import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.SignedJWT;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.QueryString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * {@code POST /oauth/token}: the OAuth 2.0 client credentials grant (RFC 6749 §4.4) for system clients,
 * authenticated by a signed JWT assertion ({@code private_key_jwt}, RFC 7523) or by their pinned TLS client
 * certificate (RFC 8705 §2, with {@code client_id} in the form). The answer is an access token of
 * {@link SystemClients#accessTokenLifetime()} carrying the granted scopes: all of the client's, or the subset
 * asked for in {@code scope}.
 *
 * <p>Answers follow RFC 6749 §5.1 and §5.2: JSON, {@code Cache-Control: no-store} (which the HTTP layer puts
 * on every answer) and the error codes {@code invalid_request}, {@code invalid_client} (401),
 * {@code invalid_scope} and {@code unsupported_grant_type}. RFC 6749 allows only printable ASCII in
 * {@code error_description}, so these descriptions are in English alone.
 *
 * <p>Until a client has proven possession of its key, a failure says only that client authentication failed,
 * so that nobody learns which client ids exist; the exact reason goes to the server log. Once the signature
 * has verified, the description says what is wrong with the claims.
 */
public final class TokenEndpoint {
    private static final Logger log = LoggerFactory.getLogger(TokenEndpoint.class);

    public static final String PATH = "/oauth/token";
    public static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    static final int MAX_FORM_BYTES = 16 * 1024;
    private static final String FAILED = "client authentication failed";

    /** An HTTP answer: status and JSON body. */
    public record Answer(int status, String json) {
    }

    private final SystemClients clients;

    public TokenEndpoint(SystemClients clients) {
        this.clients = clients;
    }

    /**
     * Handles one request.
     *
     * @param contentType  the request's Content-Type header, or null
     * @param body         the request body, opened only for a POST of a form
     * @param peer         the TLS client certificate of the connection, or null
     * @param endpointUrl  this endpoint's URL as clients address it: the required audience of assertions
     * @param address      the caller's network address, for the log
     */
    public Answer handle(String method, String contentType, Supplier<InputStream> body, X509Certificate peer,
                         String endpointUrl, String address) {
        if (!"POST".equals(method)) {
            return error(405, "invalid_request", "use POST with an application/x-www-form-urlencoded body");
        }
        String type = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT).strip();
        if (!type.startsWith("application/x-www-form-urlencoded")) {
            return error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
        }
        Map<String, String> form;
        try {
            form = form(body.get());
        } catch (FhirError e) {
            return error(400, "invalid_request", e.getMessage());
        }
        if (form == null) {
            return error(400, "invalid_request", "the form is malformed, repeats a parameter or is longer than "
                    + MAX_FORM_BYTES + " bytes");
        }
        String grant = form.get("grant_type");
        if (grant == null) {
            return error(400, "invalid_request", "grant_type is required");
        }
        if (!grant.equals("client_credentials")) {
            return error(400, "unsupported_grant_type", "only grant_type=client_credentials is supported");
        }
        Optional<SystemClients.Registered> client;
        try {
            client = authenticateClient(form, peer, endpointUrl);
        } catch (ClientAssertion.Refused e) {
            log.warn("token request from {} refused: {}", address, e.getMessage());
            return error(401, "invalid_client", e.getMessage());
        }
        if (client.isEmpty()) {
            return error(401, "invalid_client", FAILED);
        }
        Set<Scope> held = client.get().scopes();
        Set<Scope> granted = held;
        String asked = form.get("scope");
        if (asked != null) {
            try {
                granted = Scope.parseList(asked);
            } catch (IllegalArgumentException e) {
                return error(400, "invalid_scope", ascii(e.getMessage()));
            }
            for (Scope s : granted) {
                if (!covered(s, held)) {
                    return error(400, "invalid_scope", "scope " + SystemClients.scopeText(Set.of(s))
                            + " is not granted to this client");
                }
            }
        }
        SystemClients.Issued issued = clients.issue(client.get(), granted);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("access_token", issued.token());
        out.put("token_type", "Bearer");
        long millis = Duration.between(Instant.now(), issued.expiresAt()).toMillis();
        out.put("expires_in", Math.max(1, (millis + 999) / 1000)); // whole seconds, rounded up
        out.put("scope", issued.scopes());
        return new Answer(200, JSONObjectUtils.toJSONString(out));
    }

    /**
     * The client the request authenticates as: by client_assertion when one is given, else by the TLS
     * certificate together with client_id. Empty (or Refused, with the reason) when authentication fails.
     */
    private Optional<SystemClients.Registered> authenticateClient(Map<String, String> form, X509Certificate peer,
                                                                  String endpointUrl)
            throws ClientAssertion.Refused {
        String clientId = form.get("client_id");
        String assertionType = form.get("client_assertion_type");
        String assertion = form.get("client_assertion");
        if (assertionType == null && assertion == null) {
            if (peer == null || clientId == null) {
                throw new ClientAssertion.Refused("authenticate with client_assertion (private_key_jwt) or with the"
                        + " registered TLS client certificate and client_id");
            }
            Optional<SystemClients.Registered> c = clients.registeredCertificate(clientId, peer);
            if (c.isEmpty()) {
                log.warn("token request for client {}: the TLS certificate is not its current pinned certificate",
                        clientId);
            }
            return c;
        }
        if (!JWT_BEARER.equals(assertionType)) {
            throw new ClientAssertion.Refused("client_assertion_type must be " + JWT_BEARER);
        }
        SignedJWT jwt = ClientAssertion.parse(assertion);
        String claimed = ClientAssertion.claimedClient(jwt);
        if (clientId != null && !clientId.equals(claimed)) {
            throw new ClientAssertion.Refused("client_id differs from the issuer of the client assertion");
        }
        Optional<SystemClients.Registered> c = clients.registered(claimed, SystemClients.Method.PRIVATE_KEY_JWT);
        if (c.isEmpty()) {
            log.warn("token request for client {}: no active, unexpired private_key_jwt client has that id",
                    ascii(claimed));
            return c;
        }
        try {
            ClientAssertion.verifySignature(jwt, c.get().jwks());
        } catch (ClientAssertion.Refused e) {
            log.warn("token request for client {}: {}", claimed, e.getMessage());
            return Optional.empty();
        }
        // The signature is the client's: from here on the reasons may be told.
        ClientAssertion.Accepted ok = ClientAssertion.checkClaims(jwt, endpointUrl, Instant.now());
        if (!clients.useAssertionId(claimed, ok.jti(), ok.expiresAt().plus(ClientAssertion.SKEW))) {
            throw new ClientAssertion.Refused("this client assertion (jti) has been used before; make a new one"
                    + " for every token request");
        }
        return c;
    }

    /** Whether the scopes a client holds allow everything {@code asked} allows. */
    static boolean covered(Scope asked, Set<Scope> held) {
        for (Scope.Permission p : asked.permissions()) {
            boolean any = false;
            for (Scope h : held) {
                if (h.permissions().contains(p)
                        && (h.resourceType().equals("*") || h.resourceType().equals(asked.resourceType()))) {
                    any = true;
                    break;
                }
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    /** The form's parameters, or null if it is too long or names a parameter twice (RFC 6749 §3.2). */
    private static Map<String, String> form(InputStream in) {
        byte[] bytes;
        try (in) {
            bytes = in.readNBytes(MAX_FORM_BYTES + 1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (bytes.length > MAX_FORM_BYTES) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : QueryString.parse(new String(bytes, StandardCharsets.UTF_8))
                .entrySet()) {
            if (e.getValue().size() != 1) {
                return null;
            }
            out.put(e.getKey(), e.getValue().get(0));
        }
        return out;
    }

    private static Answer error(int status, String code, String description) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("error", code);
        out.put("error_description", ascii(description));
        return new Answer(status, JSONObjectUtils.toJSONString(out));
    }

    /** Printable ASCII without '"' and '\', as RFC 6749 §5.2 allows in error_description. */
    private static String ascii(String s) {
        StringBuilder sb = new StringBuilder(Math.min(s.length(), 300));
        for (int i = 0; i < s.length() && sb.length() < 300; i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c <= 0x7e && c != '"' && c != '\\' ? c : '?');
        }
        return sb.toString();
    }
}
