package jp.mamori.records.api;

import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.rest.api.SummaryEnum;
import jp.mamori.records.BodyLimits;
import jp.mamori.records.BundleProcessor;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.kernel.QueryString;
import jp.mamori.records.RecordService;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Enumerations;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jp.mamori.web.ErrorMapper;
import jp.mamori.web.Reply;

/**
 * The FHIR R4 REST interactions: routing, content negotiation, Prefer, ETags, and the bundles the server
 * answers with. It holds no rules of its own about records: those live behind {@link RecordService}.
 */
public final class FhirEndpoint {
    public static final String REASON_HEADER = "X-Mamori-Reason";
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final RecordService records;
    private final BundleProcessor bundles;
    private final String softwareVersion;
    /** Extended operations by name ("$export"); registered at start, read by request threads. */
    private final Map<String, FhirOperation> operations = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile byte[] capabilityJson;

    public FhirEndpoint(RecordService records, String softwareVersion) {
        this.records = records;
        this.bundles = new BundleProcessor(records);
        this.softwareVersion = softwareVersion;
        this.capabilityJson = capabilityJson();
    }

    /**
     * Serves {@code name} (with its "$") through {@code op}, at whatever level the operation accepts: the endpoint
     * routes {@code /$name[/...]}, {@code /Type/$name} and {@code /Type/id/$name} to it. Names are unique.
     */
    public FhirEndpoint withOperation(String name, FhirOperation op) {
        if (!name.startsWith("$") || name.length() < 2) {
            throw new IllegalArgumentException("an operation's name starts with $: " + name);
        }
        if (operations.putIfAbsent(name, op) != null) {
            throw new IllegalStateException("operation " + name + " registered twice");
        }
        capabilityJson = capabilityJson();
        return this;
    }

    private byte[] capabilityJson() {
        CapabilityStatement cs = capabilities(softwareVersion);
        var rest = cs.getRestFirstRep();
        operations.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> rest.addOperation()
                .setName(e.getKey().substring(1)).setDefinition(e.getValue().definition() == null
                        ? "urn:mamori:operation:" + e.getKey().substring(1) : e.getValue().definition()));
        return FhirSupport.canonicalJson(cs).getBytes(StandardCharsets.UTF_8);
    }

    /** {@code /$op[/rest...]}, {@code /Type/$op} or {@code /Type/id/$op}, to the registered operation. */
    private Reply operation(FhirRequest rq, List<String> s) {
        boolean systemLevel = s.get(0).startsWith("$");
        String op = systemLevel ? s.get(0) : s.get(s.size() - 1);
        if (op.equals("$expunge") || op.equals("$purge")) {
            throw new FhirError(405, OperationOutcome.IssueType.NOTSUPPORTED, op + " is refused: Mamori never"
                    + " removes stored versions; delete creates a new version instead / 記録の物理削除はできません");
        }
        FhirOperation handler = operations.get(op);
        if (handler == null || (!systemLevel && s.size() > 3)) {
            throw new FhirError(404, OperationOutcome.IssueType.NOTSUPPORTED, "operation " + op + " is not supported"
                    + " / この操作には対応していません");
        }
        if (systemLevel) {
            return handler.handle(rq, new FhirOperation.Target(null, null, s.subList(1, s.size())));
        }
        if (!FhirSupport.isResourceType(s.get(0))) {
            throw FhirError.notFound("'" + s.get(0) + "' is not an R4 resource type / 不明なリソース種別です");
        }
        return handler.handle(rq, new FhirOperation.Target(s.get(0), s.size() == 3 ? s.get(1) : null, List.of()));
    }

    /** The capability statement is the one FHIR document that needs no authentication. */
    public Reply metadata(FhirRequest rq) {
        return resourceReply(200, capabilityJson, rq, null);
    }

    /** Whether writes are refused now (degraded read-only mode, issue 18 §2); never by default. */
    private volatile java.util.function.BooleanSupplier degraded = () -> false;

    /** Refuses every write while {@code degraded} says so (the process's {@code Availability}). */
    public FhirEndpoint refuseWritesWhile(java.util.function.BooleanSupplier degraded) {
        this.degraded = degraded;
        return this;
    }

    /**
     * The answer to a write while degraded (DEGRADED-1, DEGRADED-3): 503 with Retry-After and a transient
     * OperationOutcome that says why and what to do, before anything is read or attempted.
     */
    static FhirError readOnlyMode() {
        return new FhirError(503, OperationOutcome.IssueType.TRANSIENT, "縮退運用中のため書き込みできません。"
                + "主データベースの復旧後に再送してください / Read-only (degraded) mode: the primary database is not"
                + " available, so writes are refused; send it again after it returns");
    }

    /** Whether an interaction writes: POST (but a search or a bundle, which is judged by its entries), PUT, PATCH, DELETE. */
    static boolean writes(String method, List<String> s) {
        return switch (method) {
            case "GET", "HEAD", "OPTIONS" -> false;
            case "POST" -> !s.isEmpty() && !s.get(s.size() - 1).equals("_search");
            default -> true;
        };
    }

    public Reply handle(FhirRequest rq) {
        List<String> s = rq.segments();
        String m = rq.method();
        if (degraded.getAsBoolean() && writes(m, s)) {
            throw readOnlyMode();
        }
        if (s.isEmpty()) {
            if (m.equals("POST")) {
                return bundle(rq);
            }
            throw methodNotAllowed(m, "the base URL accepts POST of a batch or transaction Bundle");
        }
        String first = s.get(0);
        if (first.startsWith("$") || (s.size() > 1 && s.get(s.size() - 1).startsWith("$"))) {
            return operation(rq, s);
        }
        if (first.equals("_history")) {
            requireMethod(m, "GET", s);
            return history(rq, null, null);
        }
        if (first.equals("metadata")) {
            requireMethod(m, "GET", s);
            return metadata(rq);
        }
        if (!FhirSupport.isResourceType(first)) {
            throw FhirError.notFound("'" + first + "' is not an R4 resource type / 不明なリソース種別です");
        }
        String type = first;
        switch (s.size()) {
            case 1 -> {
                return switch (m) {
                    case "GET" -> search(rq, type, rq.params());
                    case "POST" -> create(rq, type);
                    case "PUT" -> conditionalUpdate(rq, type);
                    case "DELETE" -> written(rq, records.conditionalDelete(rq.caller(), type, criteria(rq), reason(rq)));
                    default -> throw methodNotAllowed(m, "use GET, POST, PUT or DELETE on " + type);
                };
            }
            case 2 -> {
                String second = s.get(1);
                if (second.equals("_search")) {
                    requireMethod(m, "POST", s);
                    return search(rq, type, searchForm(rq));
                }
                if (second.equals("_history")) {
                    requireMethod(m, "GET", s);
                    return history(rq, type, null);
                }
                return switch (m) {
                    case "GET", "HEAD" -> read(rq, records.read(rq.caller(), type, second));
                    case "PUT" -> update(rq, type, second);
                    case "DELETE" -> written(rq, records.delete(rq.caller(), type, second, reason(rq)));
                    default -> throw methodNotAllowed(m, "use GET, PUT or DELETE on " + type + "/" + second);
                };
            }
            case 3 -> {
                if (!s.get(2).equals("_history")) {
                    break;
                }
                requireMethod(m, "GET", s);
                return history(rq, type, s.get(1));
            }
            case 4 -> {
                if (!s.get(2).equals("_history")) {
                    break;
                }
                requireMethod(m, "GET", s);
                return read(rq, records.vread(rq.caller(), type, s.get(1), s.get(3)));
            }
            default -> {
            }
        }
        throw FhirError.notFound("no FHIR interaction at /" + String.join("/", s));
    }

    // ---------------------------------------------------------------- interactions

    private Reply read(FhirRequest rq, RecordService.Stored st) {
        String inm = rq.header("If-None-Match");
        if (inm != null && inm.replace("W/", "").replace("\"", "").trim().equals(Integer.toString(st.version()))) {
            return withVersionHeaders(Reply.empty(304), st);
        }
        return withVersionHeaders(resourceReply(200, st.body(), rq, st), st);
    }

    private Reply create(FhirRequest rq, String type) {
        IBaseResource res = parseBody(rq, type);
        String ine = rq.header("If-None-Exist");
        Map<String, List<String>> cond = ine == null ? null
                : FhirRequest.parseQuery(ine.contains("?") ? ine.substring(ine.indexOf('?') + 1) : ine);
        RecordService.WriteResult w = records.create(rq.caller(), res, cond, reason(rq));
        return written(rq, w);
    }

    private Reply update(FhirRequest rq, String type, String id) {
        IBaseResource res = parseBody(rq, type);
        return written(rq, records.update(rq.caller(), type, id, res, ifMatch(rq), reason(rq)));
    }

    private Reply conditionalUpdate(FhirRequest rq, String type) {
        IBaseResource res = parseBody(rq, type);
        return written(rq, records.conditionalUpdate(rq.caller(), type, criteria(rq), res, ifMatch(rq), reason(rq)));
    }

    private Reply written(FhirRequest rq, RecordService.WriteResult w) {
        RecordService.Stored st = w.stored();
        int status = w.created() ? 201 : 200;
        if (st.deleted()) {
            return withVersionHeaders(outcomeReply(200, OperationOutcome.IssueSeverity.INFORMATION,
                    OperationOutcome.IssueType.INFORMATIONAL, st.type() + "/" + st.id() + " deleted as version "
                            + st.version() + "; earlier versions remain readable / 削除を記録しました", rq), st);
        }
        String prefer = preferReturn(rq);
        Reply r;
        if (prefer.equals("minimal")) {
            r = Reply.empty(status);
        } else if (prefer.equals("OperationOutcome")) {
            r = outcomeReply(status, OperationOutcome.IssueSeverity.INFORMATION,
                    OperationOutcome.IssueType.INFORMATIONAL, (w.created() ? "created " : w.unchanged()
                            ? "already exists: " : "updated ") + st.type() + "/" + st.id() + " version " + st.version(),
                    rq);
        } else {
            r = resourceReply(status, st.body(), rq, st);
        }
        r.header("Location", rq.baseUrl() + "/" + st.type() + "/" + st.id() + "/_history/" + st.version());
        return withVersionHeaders(r, st);
    }

    private Reply search(FhirRequest rq, String type, Map<String, List<String>> params) {
        RecordService.SearchPage page = records.search(rq.caller(), type, params, pageBytes(rq, params));
        return bundleReply(searchBundleJson(rq, type, params, page), rq);
    }

    private Reply history(FhirRequest rq, String type, String id) {
        Map<String, List<String>> p = rq.params();
        Instant since = null;
        if (p.containsKey("_since")) {
            try {
                since = new org.hl7.fhir.r4.model.InstantType(p.get("_since").get(0)).getValue().toInstant();
            } catch (RuntimeException e) {
                throw FhirError.badRequest("_since must be an instant such as 2026-11-23T09:00:00+09:00");
            }
        }
        Integer count = p.containsKey("_count") ? parseCount(p.get("_count").get(0)) : null;
        String cursor = p.containsKey("_cursor") ? p.get("_cursor").get(0) : null;
        RecordService.HistoryPage page = records.history(rq.caller(), type, id, since, count, cursor,
                pageBytes(rq, p));
        Utf8Builder sb = new Utf8Builder(4096);
        sb.append("{\"resourceType\":\"Bundle\",\"type\":\"history\"");
        if (page.total() != null) {
            sb.append(",\"total\":").append(page.total());
        }
        sb.append(",\"link\":[");
        String self = rq.baseUrl() + "/" + String.join("/", rq.segments()) + (rq.rawQuery() == null ? ""
                : "?" + rq.rawQuery());
        link(sb, "self", self);
        if (page.nextCursor() != null) {
            Map<String, List<String>> next = new LinkedHashMap<>(p);
            next.put("_cursor", List.of(page.nextCursor()));
            sb.append(',');
            link(sb, "next", rq.baseUrl() + "/" + String.join("/", rq.segments()) + "?" + encodeQuery(next));
        }
        sb.append("],\"entry\":[");
        boolean firstEntry = true;
        for (RecordService.Stored st : page.versions()) {
            if (!firstEntry) {
                sb.append(',');
            }
            firstEntry = false;
            sb.append("{\"fullUrl\":");
            Json.str(sb, rq.baseUrl() + "/" + st.type() + "/" + st.id());
            if (!st.deleted()) {
                sb.append(",\"resource\":").append(st.body());
            }
            String method = st.deleted() ? "DELETE" : st.version() == 1 ? "POST" : "PUT";
            sb.append(",\"request\":{\"method\":\"").append(method).append("\",\"url\":");
            Json.str(sb, st.version() == 1 && !st.deleted() ? st.type() : st.type() + "/" + st.id());
            sb.append("},\"response\":{\"status\":\"").append(st.deleted() ? "204" : st.version() == 1 ? "201" : "200")
                    .append("\",\"etag\":\"W/\\\"").append(st.version()).append("\\\"\",\"lastModified\":\"")
                    .append(st.lastUpdated()).append("\"}}");
        }
        sb.append("]}");
        return bundleReply(sb.toBytes(), rq);
    }

    private Reply bundle(FhirRequest rq) {
        IBaseResource parsed = parseBody(rq, "Bundle", false);
        Bundle b = (Bundle) parsed;
        if (degraded.getAsBoolean() && b.getEntry().stream().anyMatch(e -> !e.hasRequest() || !e.getRequest().hasMethod()
                || (e.getRequest().getMethod() != Bundle.HTTPVerb.GET && e.getRequest().getMethod() != Bundle.HTTPVerb.HEAD))) {
            throw readOnlyMode(); // a batch or transaction that would write: nothing of it is attempted
        }
        List<BundleProcessor.EntryResult> results = bundles.process(rq.caller(), b, reason(rq));
        boolean tx = b.getType() == Bundle.BundleType.TRANSACTION;
        Utf8Builder sb = new Utf8Builder(8192);
        sb.append("{\"resourceType\":\"Bundle\",\"type\":\"").append(tx ? "transaction-response" : "batch-response")
                .append("\",\"entry\":[");
        String prefer = preferReturn(rq);
        for (int i = 0; i < results.size(); i++) {
            BundleProcessor.EntryResult r = results.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append('{');
            boolean hasField = false;
            if (r.stored() != null && !r.stored().deleted()) {
                sb.append("\"fullUrl\":");
                Json.str(sb, rq.baseUrl() + "/" + r.stored().type() + "/" + r.stored().id());
                hasField = true;
                if (prefer.equals("representation")) {
                    sb.append(",\"resource\":").append(r.stored().body());
                }
            } else if (r.page() != null) {
                sb.append("\"resource\":").append(searchBundleJson(rq, r.searchType(), Map.of(), r.page()));
                hasField = true;
            }
            if (hasField) {
                sb.append(',');
            }
            sb.append("\"response\":{\"status\":");
            Json.str(sb, r.status());
            if (r.location() != null) {
                sb.append(",\"location\":");
                Json.str(sb, r.location());
            }
            if (r.stored() != null) {
                sb.append(",\"etag\":\"W/\\\"").append(r.stored().version()).append("\\\"\",\"lastModified\":\"")
                        .append(r.stored().lastUpdated()).append('"');
            }
            if (r.error() != null) {
                sb.append(",\"outcome\":").append(FhirSupport.canonicalJson(ErrorMapper.outcome(r.error())));
            }
            sb.append("}}");
        }
        sb.append("]}");
        return bundleReply(sb.toBytes(), rq);
    }

    // ---------------------------------------------------------------- bundles and bodies

    private byte[] searchBundleJson(FhirRequest rq, String type, Map<String, List<String>> params,
                                    RecordService.SearchPage page) {
        Utf8Builder sb = new Utf8Builder(8192);
        sb.append("{\"resourceType\":\"Bundle\",\"type\":\"searchset\"");
        if (page.total() != null) {
            sb.append(",\"total\":").append(page.total());
        }
        sb.append(",\"link\":[");
        Map<String, List<String>> selfParams = new LinkedHashMap<>(params);
        link(sb, "self", rq.baseUrl() + "/" + type + (selfParams.isEmpty() ? "" : "?" + encodeQuery(selfParams)));
        if (page.nextCursor() != null) {
            Map<String, List<String>> next = new LinkedHashMap<>(params);
            next.put("_cursor", List.of(page.nextCursor()));
            sb.append(',');
            link(sb, "next", rq.baseUrl() + "/" + type + "?" + encodeQuery(next));
        }
        sb.append("],\"entry\":[");
        SummaryEnum summary = summary(params);
        Set<String> elements = elements(params);
        boolean first = true;
        for (RecordService.Stored st : page.matches()) {
            first = entry(sb, rq, st, "match", first, summary, elements);
        }
        for (RecordService.Stored st : page.includes()) {
            first = entry(sb, rq, st, "include", first, null, null);
        }
        sb.append("]}");
        return sb.toBytes();
    }

    private boolean entry(Utf8Builder sb, FhirRequest rq, RecordService.Stored st, String mode, boolean first,
                          SummaryEnum summary, Set<String> elements) {
        if (!first) {
            sb.append(',');
        }
        sb.append("{\"fullUrl\":");
        Json.str(sb, rq.baseUrl() + "/" + st.type() + "/" + st.id());
        sb.append(",\"resource\":").append(shaped(st.body(), summary, elements))
                .append(",\"search\":{\"mode\":\"").append(mode).append("\"}}");
        return false;
    }

    private static byte[] shaped(byte[] body, SummaryEnum summary, Set<String> elements) {
        if ((summary == null || summary == SummaryEnum.FALSE) && elements == null) {
            return body;
        }
        IBaseResource r = FhirSupport.parseStored(new String(body, StandardCharsets.UTF_8));
        IParser p = FhirSupport.CTX.newJsonParser();
        if (elements != null) {
            p.setEncodeElements(elements);
        } else if (summary == SummaryEnum.TRUE) {
            p.setSummaryMode(true);
        } else if (summary == SummaryEnum.TEXT) {
            p.setEncodeElements(Set.of("*.text", "*.id", "*.meta"));
        } else if (summary == SummaryEnum.DATA) {
            p.setSuppressNarratives(true);
        }
        return p.encodeResourceToString(r).getBytes(StandardCharsets.UTF_8);
    }

    private static SummaryEnum summary(Map<String, List<String>> params) {
        List<String> s = params.get("_summary");
        if (s == null || s.isEmpty()) {
            return null;
        }
        SummaryEnum e = SummaryEnum.fromCode(s.get(0));
        if (e == null) {
            throw FhirError.badRequest("_summary must be true, text, data, count or false");
        }
        return e;
    }

    private static Set<String> elements(Map<String, List<String>> params) {
        List<String> s = params.get("_elements");
        if (s == null || s.isEmpty()) {
            return null;
        }
        Set<String> out = new HashSet<>();
        for (String v : s) {
            out.addAll(Arrays.asList(v.split(",")));
        }
        out.removeIf(String::isBlank);
        for (String e : out) {
            // HAPI splits each name on '.' and reads the parts by index: an empty part would be a 500 there
            if (e.startsWith(".") || e.endsWith(".") || e.contains("..")) {
                throw FhirError.badRequest("_elements の要素名が正しくありません / _elements takes element names such as"
                        + " name or Patient.name, not '" + e + "'");
            }
        }
        return out;
    }

    private static void link(Utf8Builder sb, String rel, String url) {
        sb.append("{\"relation\":\"").append(rel).append("\",\"url\":");
        Json.str(sb, url);
        sb.append('}');
    }

    static String encodeQuery(Map<String, List<String>> params) {
        List<String> parts = new ArrayList<>();
        params.forEach((k, vs) -> {
            for (String v : vs) {
                // '|' stays percent-encoded: it is not a legal URI character (RFC 3986) and clients refuse it
                parts.add(java.net.URLEncoder.encode(k, StandardCharsets.UTF_8).replace("%3A", ":") + "="
                        + java.net.URLEncoder.encode(v, StandardCharsets.UTF_8).replace("%2C", ","));
            }
        });
        return String.join("&", parts);
    }

    /**
     * The byte budget of a page's stored bodies: smaller when the page is turned into HAPI's model to be answered,
     * which takes many times its bytes of heap.
     */
    private static long pageBytes(FhirRequest rq, Map<String, List<String>> params) {
        boolean asStored = rq.responseFormat() == FhirSupport.Format.JSON && !rq.pretty() && summary(params) == null
                && elements(params) == null;
        return asStored ? RecordService.PAGE_BYTES : RecordService.PAGE_BYTES_REENCODED;
    }

    /**
     * Claims the heap that turning {@code json} into HAPI's model and back takes (see {@link BodyLimits}), at most
     * the whole budget: a large stored record is then answered when nothing else large is in progress.
     */
    private static void claimForEncoding(FhirRequest rq, byte[] json) {
        if (rq.budget() != null) {
            rq.budget().reserve((long) json.length * REENCODE_HEAP_PER_BYTE, true);
        }
    }

    /** Heap taken to parse and encode again each byte of stored JSON: HAPI's model of dense content is that large. */
    private static final int REENCODE_HEAP_PER_BYTE = 50;

    private IBaseResource parseBody(FhirRequest rq, String expectedType) {
        return parseBody(rq, expectedType, true);
    }

    /** The body's resource; {@code stored} is false for a batch or transaction, whose bundle is not stored. */
    private IBaseResource parseBody(FhirRequest rq, String expectedType, boolean stored) {
        FhirSupport.Format f = rq.bodyFormat();
        byte[] bytes;
        try (InputStream in = rq.body().get()) {
            // read fully first: a body over the limit is a 413 here, not a parse error
            bytes = in.readAllBytes();
        } catch (java.io.IOException e) {
            throw FhirError.badRequest("the request body could not be read");
        }
        BodyLimits.Scan scan = BodyLimits.check(f, bytes, stored);
        if (rq.budget() != null) {
            rq.budget().reserve(scan.heapEstimate(), false);
        }
        IBaseResource res = FhirSupport.parse(f, bytes);
        String t = FhirSupport.CTX.getResourceType(res);
        if (!t.equals(expectedType)) {
            throw FhirError.badRequest("expected a " + expectedType + " in the body, found a " + t);
        }
        return res;
    }

    private static Map<String, List<String>> searchForm(FhirRequest rq) {
        Map<String, List<String>> merged = new LinkedHashMap<>(rq.params());
        String ct = rq.header("Content-Type");
        if (ct != null && !ct.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
            throw new FhirError(415, OperationOutcome.IssueType.NOTSUPPORTED,
                    "POST _search takes application/x-www-form-urlencoded");
        }
        jp.mamori.kernel.RequestText.requireUtf8Charset(ct);
        try (InputStream in = rq.body().get()) {
            String form = jp.mamori.kernel.RequestText.utf8(in.readAllBytes(), "the form");
            FhirRequest.parseQuery(form).forEach((k, v) -> merged.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
        } catch (java.io.IOException e) {
            throw FhirError.badRequest("the request body could not be read");
        }
        return merged;
    }

    private static Map<String, List<String>> criteria(FhirRequest rq) {
        Map<String, List<String>> c = new LinkedHashMap<>(rq.params());
        c.keySet().removeIf(k -> k.equals("_format") || k.equals("_pretty"));
        if (c.isEmpty()) {
            throw FhirError.badRequest("a conditional operation needs search criteria in the URL");
        }
        return c;
    }

    private static String reason(FhirRequest rq) {
        String r = rq.header(REASON_HEADER);
        if (r == null || r.isBlank()) {
            return null;
        }
        String decoded = FhirRequest.decode(r.replace("+", "%2B")).strip();
        if (decoded.length() > 2000) {
            throw FhirError.badRequest(REASON_HEADER + " is limited to 2000 characters");
        }
        return decoded.isEmpty() ? null : decoded;
    }

    private static Integer ifMatch(FhirRequest rq) {
        String h = rq.header("If-Match");
        return h == null ? null : QueryString.etagVersion(h);
    }

    private static int parseCount(String s) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw FhirError.badRequest("_count must be a whole number");
        }
    }

    private static String preferReturn(FhirRequest rq) {
        String p = rq.header("Prefer");
        if (p != null) {
            for (String part : p.split("[,;]")) {
                String t = part.trim();
                if (t.startsWith("return=")) {
                    String v = t.substring(7).replace("\"", "");
                    if (v.equals("minimal") || v.equals("representation") || v.equals("OperationOutcome")) {
                        return v;
                    }
                }
            }
        }
        return "representation";
    }

    private static void requireMethod(String m, String allowed, List<String> s) {
        if (!m.equals(allowed) && !(allowed.equals("GET") && m.equals("HEAD"))) {
            throw methodNotAllowed(m, "use " + allowed + " on /" + String.join("/", s));
        }
    }

    private static FhirError methodNotAllowed(String m, String hint) {
        return new FhirError(405, OperationOutcome.IssueType.NOTSUPPORTED, "method " + m + " is not allowed here; "
                + hint);
    }

    // ---------------------------------------------------------------- replies

    private Reply resourceReply(int status, byte[] json, FhirRequest rq, RecordService.Stored st) {
        FhirSupport.Format f = rq.responseFormat();
        if (f == FhirSupport.Format.JSON && !rq.pretty() && summary(rq.params()) == null
                && elements(rq.params()) == null) {
            return Reply.of(status, f.mediaType + ";charset=UTF-8", json); // the stored bytes as they are
        }
        claimForEncoding(rq, json);
        byte[] shaped = shaped(json, summary(rq.params()), elements(rq.params()));
        IBaseResource r = FhirSupport.parseStored(new String(shaped, StandardCharsets.UTF_8));
        return Reply.of(status, f.mediaType + ";charset=UTF-8", FhirSupport.encode(r, f, rq.pretty()));
    }

    private static Reply bundleReply(byte[] json, FhirRequest rq) {
        FhirSupport.Format f = rq.responseFormat();
        if (f == FhirSupport.Format.JSON && !rq.pretty()) {
            return Reply.of(200, f.mediaType + ";charset=UTF-8", json);
        }
        claimForEncoding(rq, json);
        IBaseResource r = FhirSupport.parseStored(new String(json, StandardCharsets.UTF_8));
        return Reply.of(200, f.mediaType + ";charset=UTF-8", FhirSupport.encode(r, f, rq.pretty()));
    }

    private static Reply outcomeReply(int status, OperationOutcome.IssueSeverity sev, OperationOutcome.IssueType type,
                                      String message, FhirRequest rq) {
        OperationOutcome oo = new OperationOutcome();
        oo.addIssue().setSeverity(sev).setCode(type).setDiagnostics(message);
        FhirSupport.Format f = rq.responseFormat();
        return Reply.of(status, f.mediaType + ";charset=UTF-8", FhirSupport.encode(oo, f, rq.pretty()));
    }

    private static Reply withVersionHeaders(Reply r, RecordService.Stored st) {
        r.header("ETag", "W/\"" + st.version() + "\"");
        r.header("Last-Modified", HTTP_DATE.format(st.lastUpdated()));
        return r;
    }

    // ---------------------------------------------------------------- capabilities

    private static CapabilityStatement capabilities(String version) {
        CapabilityStatement cs = new CapabilityStatement();
        cs.setStatus(Enumerations.PublicationStatus.ACTIVE);
        cs.setDate(new Date());
        cs.setKind(CapabilityStatement.CapabilityStatementKind.INSTANCE);
        cs.setFhirVersion(Enumerations.FHIRVersion._4_0_1);
        cs.addFormat("application/fhir+json");
        cs.addFormat("application/fhir+xml");
        cs.getSoftware().setName("Mamori").setVersion(version);
        cs.setPublisher("Mamori project");
        var rest = cs.addRest().setMode(CapabilityStatement.RestfulCapabilityMode.SERVER);
        rest.getSecurity().setCors(false).setDescription("Every interaction except this capability statement"
                + " needs a bearer token with SMART system scopes (system/Type.read|write|cruds). Reading one resource"
                + " or its history needs r; searching, type history and _revinclude of a type need s; server history"
                + " (/_history) needs s on every type. TLS 1.2/1.3 only.")
                .addService(new CodeableConcept().addCoding(new org.hl7.fhir.r4.model.Coding(
                        "http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR",
                        "SMART-on-FHIR")));
        rest.addInteraction().setCode(CapabilityStatement.SystemRestfulInteraction.TRANSACTION);
        rest.addInteraction().setCode(CapabilityStatement.SystemRestfulInteraction.BATCH);
        rest.addInteraction().setCode(CapabilityStatement.SystemRestfulInteraction.HISTORYSYSTEM);
        for (String type : FhirSupport.CTX.getResourceTypes().stream().sorted().toList()) {
            RuntimeResourceDefinition def = FhirSupport.CTX.getResourceDefinition(type);
            var r = rest.addResource().setType(type);
            for (CapabilityStatement.TypeRestfulInteraction i : List.of(
                    CapabilityStatement.TypeRestfulInteraction.READ, CapabilityStatement.TypeRestfulInteraction.VREAD,
                    CapabilityStatement.TypeRestfulInteraction.UPDATE, CapabilityStatement.TypeRestfulInteraction.DELETE,
                    CapabilityStatement.TypeRestfulInteraction.HISTORYINSTANCE,
                    CapabilityStatement.TypeRestfulInteraction.HISTORYTYPE,
                    CapabilityStatement.TypeRestfulInteraction.CREATE,
                    CapabilityStatement.TypeRestfulInteraction.SEARCHTYPE)) {
                r.addInteraction().setCode(i);
            }
            r.setVersioning(CapabilityStatement.ResourceVersionPolicy.VERSIONEDUPDATE);
            r.setReadHistory(true).setUpdateCreate(true).setConditionalCreate(true)
                    .setConditionalUpdate(true).setConditionalDelete(CapabilityStatement.ConditionalDeleteStatus.SINGLE);
            r.addSearchParam().setName("_id").setType(Enumerations.SearchParamType.TOKEN);
            r.addSearchParam().setName("_lastUpdated").setType(Enumerations.SearchParamType.DATE);
            for (RuntimeSearchParam sp : def.getSearchParams()) {
                if (sp.getName().startsWith("_id") || sp.getName().equals("_lastUpdated") || sp.getPath() == null
                        || sp.getPath().isBlank()) {
                    continue;
                }
                switch (sp.getParamType()) {
                    case STRING, TOKEN, DATE, REFERENCE, QUANTITY, NUMBER, URI -> r.addSearchParam()
                            .setName(sp.getName())
                            .setType(Enumerations.SearchParamType.fromCode(sp.getParamType().getCode()))
                            .setDocumentation(sp.getDescription());
                    default -> {
                    }
                }
            }
            if (type.equals("Encounter")) {
                r.addSearchParam().setName("place").setType(Enumerations.SearchParamType.STRING)
                        .setDocumentation("Mamori: encounters in one of these departments or wards (comma-separated),"
                                + " by the names of the service type, the service provider and the locations,"
                                + " NFKC-normalised and matched exactly");
            }
            r.addSearchInclude("*");
            r.addSearchRevInclude("*");
        }
        return cs;
    }
}
