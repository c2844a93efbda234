package jp.mamori.records.api;

import jp.mamori.access.Caller;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.kernel.QueryString;

import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import jp.mamori.web.MemoryBudget;

/**
 * One FHIR REST request, as the endpoint sees it: authenticated, routed, body not yet read; {@code budget} is the
 * heap it holds ({@link MemoryBudget}).
 */
public record FhirRequest(String method, List<String> segments, String rawQuery, Map<String, List<String>> params,
                          Function<String, String> header, Supplier<InputStream> body, Caller caller,
                          String baseUrl, MemoryBudget.Lease budget) {

    public String header(String name) {
        return header.apply(name);
    }

    public static Map<String, List<String>> parseQuery(String query) {
        return QueryString.parse(query);
    }

    static String decode(String s) {
        return QueryString.decode(s);
    }

    /** The format of the answer: _format wins over Accept; JSON unless XML is asked for. */
    public FhirSupport.Format responseFormat() {
        List<String> f = params.get("_format");
        if (f != null && !f.isEmpty()) {
            String v = f.get(0).toLowerCase(Locale.ROOT).trim();
            return switch (v) {
                case "json", "application/json", "application/fhir+json", "application/json+fhir" ->
                        FhirSupport.Format.JSON;
                case "xml", "application/xml", "application/fhir+xml", "application/xml+fhir", "text/xml" ->
                        FhirSupport.Format.XML;
                default -> throw new FhirError(406, org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                        "_format '" + f.get(0) + "' is not supported; use json or xml");
            };
        }
        String accept = header("Accept");
        if (accept != null) {
            String a = accept.toLowerCase(Locale.ROOT);
            boolean xml = a.contains("xml");
            boolean json = a.contains("json");
            if (xml && !json) {
                return FhirSupport.Format.XML;
            }
        }
        return FhirSupport.Format.JSON;
    }

    /** The format of the request body, from Content-Type; anything else is a 415. */
    public FhirSupport.Format bodyFormat() {
        String ct = header("Content-Type");
        if (ct == null || ct.isBlank()) {
            throw new FhirError(415, org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                    "Content-Type is required: application/fhir+json or application/fhir+xml");
        }
        int semicolon = ct.indexOf(';');
        String mt = (semicolon < 0 ? ct : ct.substring(0, semicolon)).toLowerCase(Locale.ROOT).trim();
        jp.mamori.kernel.RequestText.requireUtf8Charset(ct);
        return switch (mt) {
            case "application/fhir+json", "application/json", "application/json+fhir" -> FhirSupport.Format.JSON;
            case "application/fhir+xml", "application/xml", "application/xml+fhir", "text/xml" ->
                    FhirSupport.Format.XML;
            default -> throw new FhirError(415, org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                    "Content-Type '" + mt + "' is not supported: use application/fhir+json or application/fhir+xml"
                            + " / 未対応の Content-Type です");
        };
    }

    public boolean pretty() {
        List<String> p = params.get("_pretty");
        return p != null && !p.isEmpty() && "true".equals(p.get(0));
    }
}
