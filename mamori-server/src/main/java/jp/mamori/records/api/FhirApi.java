package jp.mamori.records.api;

import jp.mamori.access.Caller;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.web.Endpoint;
import jp.mamori.web.ErrorMapper;
import jp.mamori.web.Exchange;
import jp.mamori.web.Reply;
import org.eclipse.jetty.server.Request;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The FHIR REST API under {@code /fhir}: authenticates the system client, wraps every interaction in its audit
 * ({@link ApiAudit}) and answers through {@link FhirEndpoint}. Errors are OperationOutcomes in the format the
 * request asked for (JSON when that cannot be told).
 */
public final class FhirApi implements Endpoint {
    private final FhirEndpoint fhir;
    private final ApiAudit audit;

    public FhirApi(FhirEndpoint fhir, ApiAudit audit) {
        this.fhir = fhir;
        this.audit = audit;
    }

    @Override
    public Reply handle(Exchange ex) {
        FhirSupport.Format errorFormat = FhirSupport.Format.JSON;
        try {
            Request request = ex.request();
            String method = request.getMethod();
            String query = request.getHttpURI().getQuery();
            List<String> segments = new ArrayList<>();
            for (String s : ex.path().substring(5).split("/")) {
                if (!s.isEmpty()) {
                    segments.add(FhirRequest.decode(s));
                }
            }
            Map<String, List<String>> params = FhirRequest.parseQuery(query);
            String base = ex.baseUrl().get();
            boolean metadata = segments.size() == 1 && segments.get(0).equals("metadata")
                    && (method.equals("GET") || method.equals("HEAD"));
            ApiAudit.Request audited = new ApiAudit.Request(method, segments, Request.getRemoteAddr(request),
                    credential(request));
            Caller caller = metadata ? null : audit.authenticate(audited, ex.authenticate());
            FhirRequest rq = new FhirRequest(method, segments, query, params,
                    name -> request.getHeaders().get(name), ex.body(), caller, base, ex.lease());
            errorFormat = safeFormat(rq);
            return metadata ? fhir.metadata(rq) : audit.around(caller, audited, () -> fhir.handle(rq),
                    r -> new ApiAudit.Answer(r.status(), r.body(), r.contentType(),
                            r.headers().get("Location"), r.headers().get("ETag")));
        } catch (Throwable t) {
            return ErrorMapper.reply(t, errorFormat);
        }
    }

    /** What the request authenticated with (token or certificate), for the audit's session hash only. */
    private static String credential(Request request) {
        String auth = request.getHeaders().get(org.eclipse.jetty.http.HttpHeader.AUTHORIZATION);
        if (auth != null) {
            return auth;
        }
        java.security.cert.X509Certificate cert = jp.mamori.web.Tls.clientCertificate(request);
        try {
            return cert == null ? null : java.util.Base64.getEncoder().encodeToString(cert.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            return null;
        }
    }

    private static FhirSupport.Format safeFormat(FhirRequest rq) {
        try {
            return rq.responseFormat();
        } catch (FhirError e) {
            return FhirSupport.Format.JSON;
        }
    }
}
