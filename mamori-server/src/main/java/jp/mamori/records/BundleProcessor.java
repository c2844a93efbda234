package jp.mamori.records;

import jp.mamori.access.Caller;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.StringType;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import jp.mamori.kernel.FhirError;
import jp.mamori.kernel.QueryString;

/**
 * Batch and transaction bundles. A transaction is one database transaction: every entry is written, or
 * none is. Entries are processed in the order FHIR prescribes (DELETE, POST, PUT, GET), and references to
 * {@code urn:uuid:} full URLs or conditional references such as {@code Patient?identifier=...} are
 * rewritten to the resolved ids before anything is stored. Each entry passes the same authorization as
 * a single request.
 */
public final class BundleProcessor {
    public static final String REASON_EXTENSION = "http://mamori.jp/fhir/StructureDefinition/change-reason";

    private final RecordService records;

    public BundleProcessor(RecordService records) {
        this.records = records;
    }

    /** The outcome of one entry, in the position of the request entry. */
    public record EntryResult(String status, String location, RecordService.Stored stored,
                              RecordService.SearchPage page, String searchType, FhirError error) {
    }

    public List<EntryResult> process(Caller caller, Bundle bundle, String defaultReason) {
        if (bundle.getType() == Bundle.BundleType.TRANSACTION) {
            return records.inTx(c -> transaction(c, caller, bundle, defaultReason));
        }
        if (bundle.getType() == Bundle.BundleType.BATCH) {
            List<EntryResult> out = new ArrayList<>();
            for (int i = 0; i < bundle.getEntry().size(); i++) {
                Bundle.BundleEntryComponent e = bundle.getEntry().get(i);
                try {
                    out.add(records.inTx(c -> entry(c, caller, e, defaultReason, Map.of())));
                } catch (FhirError err) {
                    out.add(new EntryResult(err.status() + " " + reasonPhrase(err.status()), null, null, null, null,
                            err));
                }
            }
            return out;
        }
        throw FhirError.badRequest("Bundle.type must be transaction or batch to be processed, not "
                + (bundle.hasType() ? bundle.getType().toCode() : "(missing)"));
    }

    private List<EntryResult> transaction(Connection c, Caller caller, Bundle bundle, String defaultReason)
            throws SQLException {
        List<Bundle.BundleEntryComponent> entries = bundle.getEntry();
        Map<String, String> resolved = new HashMap<>();
        // 1. Give every created resource its id first, so that references between entries can be rewritten.
        for (int i = 0; i < entries.size(); i++) {
            Bundle.BundleEntryComponent e = entries.get(i);
            check(e, i);
            Bundle.HTTPVerb verb = e.getRequest().getMethod();
            if (verb == Bundle.HTTPVerb.POST && e.hasResource()) {
                String type = e.getResource().fhirType();
                String id = null;
                if (e.getRequest().hasIfNoneExist()) {
                    Map<String, List<String>> criteria = query(e.getRequest().getIfNoneExist());
                    // held until commit: a concurrent transaction with the same condition waits, then finds ours
                    RecordService.lockCriteria(c, type, criteria);
                    List<String> ids = records.matchIds(c, caller, type, criteria);
                    if (ids.size() > 1) {
                        throw at(i, FhirError.preconditionFailed("ifNoneExist matches more than one " + type));
                    }
                    id = ids.isEmpty() ? null : ids.get(0);
                }
                String newId = id != null ? id : UUID.randomUUID().toString();
                e.setUserData("mamori.id", newId);
                e.setUserData("mamori.exists", id != null);
                if (e.hasFullUrl()) {
                    resolved.put(e.getFullUrl(), type + "/" + newId);
                }
            } else if (verb == Bundle.HTTPVerb.PUT && e.hasFullUrl() && e.hasResource()) {
                String url = e.getRequest().getUrl();
                if (!url.contains("?")) {
                    resolved.put(e.getFullUrl(), stripHistory(url));
                }
            }
        }
        // 2. Rewrite references, resolving conditional ones inside this transaction.
        for (int i = 0; i < entries.size(); i++) {
            Bundle.BundleEntryComponent e = entries.get(i);
            if (!e.hasResource()) {
                continue;
            }
            for (Reference ref : FhirSupport.CTX.newTerser().getAllPopulatedChildElementsOfType(e.getResource(),
                    Reference.class)) {
                String r = ref.getReference();
                if (r == null) {
                    continue;
                }
                if (resolved.containsKey(r)) {
                    ref.setReference(resolved.get(r));
                } else if (r.startsWith("urn:uuid:") || r.startsWith("urn:oid:")) {
                    throw at(i, FhirError.unprocessable("reference '" + r + "' names no entry of this bundle"));
                } else if (r.contains("?")) {
                    String type = r.substring(0, r.indexOf('?'));
                    if (!FhirSupport.isResourceType(type)) {
                        throw at(i, FhirError.badRequest("conditional reference '" + r + "' has no valid type"));
                    }
                    List<String> ids = records.matchIds(c, caller, type, query(r.substring(r.indexOf('?') + 1)));
                    if (ids.size() != 1) {
                        throw at(i, FhirError.preconditionFailed("conditional reference '" + r + "' matches "
                                + (ids.isEmpty() ? "nothing" : "more than one resource")));
                    }
                    ref.setReference(type + "/" + ids.get(0));
                    resolved.put(r, type + "/" + ids.get(0));
                }
            }
        }
        // 3. Process in FHIR's order, keeping each answer in its request's position.
        EntryResult[] out = new EntryResult[entries.size()];
        for (Bundle.HTTPVerb phase : List.of(Bundle.HTTPVerb.DELETE, Bundle.HTTPVerb.POST, Bundle.HTTPVerb.PUT,
                Bundle.HTTPVerb.PATCH, Bundle.HTTPVerb.GET, Bundle.HTTPVerb.HEAD)) {
            for (int i = 0; i < entries.size(); i++) {
                Bundle.BundleEntryComponent e = entries.get(i);
                if (e.getRequest().getMethod() == phase) {
                    try {
                        out[i] = entry(c, caller, e, defaultReason, resolved);
                    } catch (FhirError err) {
                        throw at(i, err);
                    }
                }
            }
        }
        return List.of(out);
    }

    private EntryResult entry(Connection c, Caller caller, Bundle.BundleEntryComponent e, String defaultReason,
                              Map<String, String> resolved) throws SQLException {
        check(e, -1);
        Bundle.BundleEntryRequestComponent req = e.getRequest();
        String url = req.getUrl();
        String reason = reason(req, defaultReason);
        Integer ifMatch = req.hasIfMatch() ? QueryString.etagVersion(req.getIfMatch()) : null;
        switch (req.getMethod()) {
            case POST -> {
                requireResource(e);
                String type = e.getResource().fhirType();
                if (!url.equals(type) && !url.startsWith(type + "?") && !url.equals("/" + type)) {
                    throw FhirError.badRequest("POST url '" + url + "' does not match the resource type " + type);
                }
                Object assigned = e.getUserData("mamori.id");
                if (Boolean.TRUE.equals(e.getUserData("mamori.exists"))) {
                    RecordService.Stored s = records.read(c, caller, type, (String) assigned);
                    return new EntryResult("200 OK", location(s), s, null, null, null);
                }
                RecordService.WriteResult w = records.createIn(c, caller, e.getResource(),
                        req.hasIfNoneExist() && assigned == null ? query(req.getIfNoneExist()) : null, reason,
                        (String) assigned);
                return written(w);
            }
            case PUT -> {
                requireResource(e);
                String path = stripHistory(url);
                int q = path.indexOf('?');
                if (q > 0) {
                    String type = path.substring(0, q);
                    return written(records.conditionalUpdateIn(c, caller, type, query(path.substring(q + 1)),
                            e.getResource(), ifMatch, reason));
                }
                String[] parts = path.split("/");
                if (parts.length != 2) {
                    throw FhirError.badRequest("PUT url must be Type/id or Type?criteria, not '" + url + "'");
                }
                return written(records.updateIn(c, caller, parts[0], parts[1], e.getResource(), ifMatch, reason));
            }
            case DELETE -> {
                String path = stripHistory(url);
                int q = path.indexOf('?');
                if (q > 0) {
                    String type = path.substring(0, q);
                    List<String> ids = records.matchIds(c, caller, type, query(path.substring(q + 1)));
                    if (ids.size() > 1) {
                        throw FhirError.preconditionFailed("the conditional delete matches more than one " + type);
                    }
                    if (ids.isEmpty()) {
                        return new EntryResult("204 No Content", null, null, null, null, null);
                    }
                    path = type + "/" + ids.get(0);
                }
                String[] parts = path.split("/");
                if (parts.length != 2) {
                    throw FhirError.badRequest("DELETE url must be Type/id or Type?criteria, not '" + url + "'");
                }
                RecordService.WriteResult w = records.deleteIn(c, caller, parts[0], parts[1], reason);
                return new EntryResult("200 OK", null, w.stored(), null, null, null);
            }
            case GET, HEAD -> {
                int q = url.indexOf('?');
                String path = q < 0 ? url : url.substring(0, q);
                String[] parts = path.replaceFirst("^/", "").split("/");
                if (parts.length == 1 && q >= 0 || parts.length == 1) {
                    RecordService.SearchPage page = records.searchIn(c, caller, parts[0],
                            query(q < 0 ? "" : url.substring(q + 1)));
                    return new EntryResult("200 OK", null, null, page, parts[0], null);
                }
                if (parts.length == 2) {
                    RecordService.Stored s = records.read(c, caller, parts[0], parts[1]);
                    return new EntryResult("200 OK", location(s), s, null, null, null);
                }
                if (parts.length == 4 && parts[2].equals("_history")) {
                    RecordService.Stored s = records.vread(c, caller, parts[0], parts[1], parts[3]);
                    return new EntryResult("200 OK", location(s), s, null, null, null);
                }
                throw FhirError.badRequest("GET url '" + url + "' is not supported in a bundle");
            }
            default -> throw FhirError.badRequest("method " + req.getMethod().toCode()
                    + " is not supported in a bundle entry");
        }
    }

    private static EntryResult written(RecordService.WriteResult w) {
        String status = w.created() ? "201 Created" : "200 OK";
        return new EntryResult(status, location(w.stored()), w.stored(), null, null, null);
    }

    static String location(RecordService.Stored s) {
        return s.type() + "/" + s.id() + "/_history/" + s.version();
    }

    private static void check(Bundle.BundleEntryComponent e, int index) {
        if (!e.hasRequest() || !e.getRequest().hasMethod() || !e.getRequest().hasUrl()) {
            FhirError err = FhirError.badRequest("every entry needs request.method and request.url");
            throw index >= 0 ? at(index, err) : err;
        }
    }

    private static void requireResource(Bundle.BundleEntryComponent e) {
        if (!e.hasResource()) {
            throw FhirError.badRequest(e.getRequest().getMethod().toCode() + " entry has no resource");
        }
    }

    private static String reason(Bundle.BundleEntryRequestComponent req, String fallback) {
        Extension ext = req.getExtensionByUrl(REASON_EXTENSION);
        if (ext != null && ext.getValue() instanceof StringType s && s.getValue() != null && !s.getValue().isBlank()) {
            return s.getValue().strip();
        }
        return fallback;
    }

    private static String stripHistory(String url) {
        String u = url.startsWith("/") ? url.substring(1) : url;
        int h = u.indexOf("/_history");
        return h > 0 ? u.substring(0, h) : u;
    }

    private static Map<String, List<String>> query(String q) {
        return QueryString.parse(q.startsWith("?") ? q.substring(1) : q);
    }

    /** Tells which entry failed, keeping the original status. */
    private static FhirError at(int index, FhirError err) {
        List<FhirError.Issue> issues = new ArrayList<>();
        for (FhirError.Issue i : err.issues()) {
            issues.add(new FhirError.Issue(i.severity(), i.type(), "Bundle.entry[" + index + "]: " + i.diagnostics()
                    + (err.status() >= 400 ? " — the transaction was not applied; nothing was written"
                    + " / トランザクション全体を取り消しました" : ""),
                    inEntry(index, i.expression())));
        }
        return new FhirError(err.status(), issues);
    }

    /**
     * A path in an entry's resource ({@code Patient.gender}) as a path in the bundle
     * ({@code Bundle.entry[2].resource.gender}).
     */
    private static String inEntry(int index, String expression) {
        String entry = "Bundle.entry[" + index + "]";
        if (expression == null) {
            return entry;
        }
        int dot = expression.indexOf('.');
        String head = dot < 0 ? expression : expression.substring(0, dot);
        if (!FhirSupport.isResourceType(head)) {
            return entry + ".resource." + expression;
        }
        return entry + ".resource" + (dot < 0 ? "" : expression.substring(dot));
    }

    static String reasonPhrase(int status) {
        return switch (status) {
            case 400 -> "Bad Request";
            case 403 -> "Forbidden";
            case 404 -> "Not Found";
            case 409 -> "Conflict";
            case 410 -> "Gone";
            case 412 -> "Precondition Failed";
            case 422 -> "Unprocessable Entity";
            default -> "Error";
        };
    }
}
