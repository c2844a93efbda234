package jp.mamori.records.api;

import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import jp.mamori.identity.Scope.Permission;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.records.SearchIndexer;
import jp.mamori.web.Reply;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code Patient/[id]/$everything} (FHIR R4): the patient, every resource in the patient's compartment, and the
 * practitioners, organizations, medications and locations they refer to, a page at a time.
 * <p>
 * The compartment is R4's CompartmentDefinition for Patient as HAPI carries it (each search parameter that makes a
 * resource a member), and each member type is found by an ordinary search through {@link RecordService} with that
 * parameter naming the patient: the same scopes, the same type gate and row filter of a person, the same byte bound
 * on a page as any search. A resource that more than one of its type's parameters links to the patient (an
 * Observation whose subject and performer are the patient) is given once, under the first. The next link carries a
 * cursor of the type, the parameter and that search's own keyset cursor: stable while records are written, never an
 * offset. Types the caller may not search are left out and named in an OperationOutcome entry on the first page; the
 * patient itself must be readable (else 403, or 404 when it does not exist).
 */
public final class PatientEverything implements FhirOperation {
    public static final String NAME = "$everything";
    /** Types the members refer to that the answer carries too (as {@code include}), when the caller may read them. */
    static final Set<String> REFERENCED = Set.of("Practitioner", "PractitionerRole", "Organization", "Medication",
            "Location");
    /** The member types, Patient first then by name, each with the parameters that make a resource a member. */
    static final Map<String, List<String>> COMPARTMENT = compartment();
    private static final List<String> TYPES = List.copyOf(COMPARTMENT.keySet());
    private static final Pattern REFERENCE = Pattern.compile("\"reference\":\"(Practitioner|PractitionerRole"
            + "|Organization|Medication|Location)/([A-Za-z0-9\\-.]{1,64})\"");
    /** At most this many referenced resources are read for one page. */
    static final int MAX_REFERENCED = 200;

    private final RecordService records;

    public PatientEverything(RecordService records) {
        this.records = records;
    }

    @Override
    public String definition() {
        return "http://hl7.org/fhir/OperationDefinition/Patient-everything";
    }

    private static Map<String, List<String>> compartment() {
        Map<String, List<String>> byType = new TreeMap<>();
        for (String type : FhirSupport.CTX.getResourceTypes()) {
            List<String> params = new ArrayList<>();
            for (RuntimeSearchParam sp : FhirSupport.CTX.getResourceDefinition(type).getSearchParams()) {
                if (sp.getParamType() == RestSearchParameterTypeEnum.REFERENCE
                        && sp.getProvidesMembershipInCompartments() != null
                        && sp.getProvidesMembershipInCompartments().contains("Patient")) {
                    params.add(sp.getName());
                }
            }
            if (!params.isEmpty() || type.equals("Patient")) {
                params.sort(PatientEverything::byPatientFirst);
                byType.put(type, List.copyOf(params));
            }
        }
        Map<String, List<String>> ordered = new LinkedHashMap<>();
        ordered.put("Patient", byType.remove("Patient"));
        ordered.putAll(byType);
        return java.util.Collections.unmodifiableMap(ordered);
    }

    /** patient, then subject, then the rest by name: the parameter that names most members comes first. */
    private static int byPatientFirst(String a, String b) {
        return Integer.compare(rank(a), rank(b)) != 0 ? Integer.compare(rank(a), rank(b)) : a.compareTo(b);
    }

    private static int rank(String p) {
        return p.equals("patient") ? 0 : p.equals("subject") ? 1 : 2;
    }

    @Override
    public Reply handle(FhirRequest rq, Target target) {
        if (!"Patient".equals(target.type())) {
            throw FhirError.notFound("$everything is served on Patient/[id] only / $everything は Patient/[id] に対して"
                    + "のみ使えます");
        }
        if (!target.instance()) {
            throw FhirError.badRequest("Patient/$everything without a patient is not served: ask for one patient with"
                    + " Patient/[id]/$everything / 患者を一人指定してください（Patient/[id]/$everything）");
        }
        if (!rq.method().equals("GET") && !rq.method().equals("HEAD")) {
            throw new FhirError(405, OperationOutcome.IssueType.NOTSUPPORTED, "use GET for $everything / GET で"
                    + "呼び出してください");
        }
        Map<String, List<String>> p = rq.params();
        for (String k : p.keySet()) {
            if (!Set.of("_since", "_type", "_count", "_cursor", "_format", "_pretty").contains(k)) {
                throw FhirError.badRequest("parameter '" + (k.length() > 40 ? k.substring(0, 40) : k) + "' is not"
                        + " supported by $everything (use _since, _type, _count) / 対応していない引数です");
            }
        }
        Instant since = since(one(p, "_since"));
        Set<String> types = types(one(p, "_type"));
        Integer count = null;
        if (one(p, "_count") != null) {
            try {
                count = Integer.parseInt(one(p, "_count"));
            } catch (NumberFormatException e) {
                throw FhirError.badRequest("_count must be a whole number / _count は整数で指定してください");
            }
            if (count < 1) {
                throw FhirError.badRequest("_count must be at least 1 / _count は1以上です");
            }
        }
        int limit = records.pageLimit(count);
        Cursor at = Cursor.decode(one(p, "_cursor"));
        String pid = target.id();
        // the patient first: a 404 when there is none, a 403 when the caller may not read it (the row decision too)
        RecordService.Stored patient = records.read(rq.caller(), "Patient", pid);
        boolean asStored = rq.responseFormat() == FhirSupport.Format.JSON && !rq.pretty();
        long budget = asStored ? RecordService.PAGE_BYTES : RecordService.PAGE_BYTES_REENCODED;

        List<RecordService.Stored> matches = new ArrayList<>();
        List<String> leftOut = new ArrayList<>();
        long bytes = 0;
        if (at == null) {
            for (String t : TYPES) {
                if (types != null && !types.contains(t)) {
                    continue;
                }
                if (!records.permits(rq.caller(), t, Permission.SEARCH)) {
                    leftOut.add(t);
                }
            }
            if ((types == null || types.contains("Patient")) && (since == null
                    || !patient.lastUpdated().isBefore(since))) {
                matches.add(patient);
                bytes += patient.body().length;
            }
            at = new Cursor(0, 0, null);
        }
        Cursor next = null;
        SearchIndexer indexer = null;
        while (at != null && at.type() < TYPES.size()) {
            String type = TYPES.get(at.type());
            List<String> params = COMPARTMENT.get(type);
            if (at.param() >= params.size() || (types != null && !types.contains(type))
                    || !records.permits(rq.caller(), type, Permission.SEARCH)) {
                at = new Cursor(at.type() + 1, 0, null);
                continue;
            }
            if (matches.size() >= limit || bytes >= budget) {
                next = at;
                break;
            }
            String param = params.get(at.param());
            Map<String, List<String>> q = new LinkedHashMap<>();
            q.put(param, List.of("Patient/" + pid));
            if (since != null) {
                q.put("_lastUpdated", List.of("ge" + since));
            }
            q.put("_count", List.of(Integer.toString(limit - matches.size())));
            if (at.inner() != null) {
                q.put("_cursor", List.of(at.inner()));
            }
            RecordService.SearchPage page = records.search(rq.caller(), type, q, Math.max(1, budget - bytes));
            for (RecordService.Stored st : page.matches()) {
                if (st.deleted()) {
                    continue;
                }
                if (at.param() > 0) {
                    if (indexer == null) {
                        indexer = new SearchIndexer();
                    }
                    if (linkedEarlier(indexer, st, params.subList(0, at.param()), pid)) {
                        continue; // given under an earlier parameter of its type
                    }
                }
                if (type.equals("Patient") && st.id().equals(pid)) {
                    continue; // a Patient that links to itself: already given
                }
                matches.add(st);
                bytes += st.body().length;
            }
            at = page.nextCursor() != null ? new Cursor(at.type(), at.param(), page.nextCursor())
                    : new Cursor(at.type(), at.param() + 1, null);
        }
        List<RecordService.Stored> included = referenced(rq, matches, types);
        return reply(rq, pid, matches, included, leftOut, next, asStored);
    }

    /** Whether one of {@code earlier} parameters of the resource's type links it to the patient already. */
    private static boolean linkedEarlier(SearchIndexer indexer, RecordService.Stored st, List<String> earlier,
                                         String pid) {
        IBaseResource r = FhirSupport.parseStored(st.bodyText());
        for (var ref : indexer.extract(r).references()) {
            if (earlier.contains(ref.param()) && "Patient".equals(ref.targetType()) && pid.equals(ref.targetId())) {
                return true;
            }
        }
        return false;
    }

    /** The practitioners, organizations, medications and locations the page's resources refer to, when readable. */
    private List<RecordService.Stored> referenced(FhirRequest rq, List<RecordService.Stored> matches,
                                                  Set<String> types) {
        Set<String> refs = new LinkedHashSet<>();
        Set<String> onPage = new java.util.HashSet<>();
        for (RecordService.Stored st : matches) {
            onPage.add(st.type() + "/" + st.id());
        }
        for (RecordService.Stored st : matches) {
            Matcher m = REFERENCE.matcher(st.bodyText());
            while (m.find() && refs.size() < MAX_REFERENCED) {
                String ref = m.group(1) + "/" + m.group(2);
                if ((types == null || types.contains(m.group(1))) && !onPage.contains(ref)) {
                    refs.add(ref);
                }
            }
        }
        List<RecordService.Stored> out = new ArrayList<>();
        for (String ref : refs) {
            String type = ref.substring(0, ref.indexOf('/'));
            if (!records.permits(rq.caller(), type, Permission.READ)) {
                continue;
            }
            try {
                out.add(records.read(rq.caller(), type, ref.substring(ref.indexOf('/') + 1)));
            } catch (FhirError e) {
                // not stored here (an outside reference), deleted, or not readable by this person: not carried
            }
        }
        return out;
    }

    private Reply reply(FhirRequest rq, String pid, List<RecordService.Stored> matches,
                        List<RecordService.Stored> included, List<String> leftOut, Cursor next, boolean asStored) {
        Utf8Builder sb = new Utf8Builder(8192);
        sb.append("{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"link\":[");
        String path = rq.baseUrl() + "/Patient/" + pid + "/$everything";
        link(sb, "self", path + (rq.rawQuery() == null || rq.rawQuery().isEmpty() ? "" : "?" + rq.rawQuery()));
        if (next != null) {
            Map<String, List<String>> params = new LinkedHashMap<>(rq.params());
            params.put("_cursor", List.of(next.encode()));
            sb.append(',');
            link(sb, "next", path + "?" + FhirEndpoint.encodeQuery(params));
        }
        sb.append("],\"entry\":[");
        boolean first = true;
        for (RecordService.Stored st : matches) {
            first = entry(sb, rq, st, "match", first);
        }
        for (RecordService.Stored st : included) {
            first = entry(sb, rq, st, "include", first);
        }
        if (!leftOut.isEmpty()) {
            OperationOutcome oo = new OperationOutcome();
            oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.INFORMATION)
                    .setCode(OperationOutcome.IssueType.SUPPRESSED)
                    .setDiagnostics("not included, the caller may not search these types: " + String.join(", ", leftOut)
                            + " / 検索権限のない種別は含まれていません");
            if (!first) {
                sb.append(',');
            }
            sb.append("{\"resource\":").append(FhirSupport.canonicalJson(oo)).append(",\"search\":{\"mode\":"
                    + "\"outcome\"}}");
        }
        sb.append("]}");
        byte[] json = sb.toBytes();
        FhirSupport.Format f = rq.responseFormat();
        if (asStored) {
            return Reply.of(200, f.mediaType + ";charset=UTF-8", json);
        }
        if (rq.budget() != null) {
            rq.budget().reserve((long) json.length * 50, true);
        }
        IBaseResource r = FhirSupport.parseStored(new String(json, StandardCharsets.UTF_8));
        return Reply.of(200, f.mediaType + ";charset=UTF-8", FhirSupport.encode(r, f, rq.pretty()));
    }

    private static boolean entry(Utf8Builder sb, FhirRequest rq, RecordService.Stored st, String mode,
                                 boolean first) {
        if (!first) {
            sb.append(',');
        }
        sb.append("{\"fullUrl\":");
        Json.str(sb, rq.baseUrl() + "/" + st.type() + "/" + st.id());
        sb.append(",\"resource\":").append(st.body()).append(",\"search\":{\"mode\":\"").append(mode).append("\"}}");
        return false;
    }

    private static void link(Utf8Builder sb, String rel, String url) {
        sb.append("{\"relation\":\"").append(rel).append("\",\"url\":");
        Json.str(sb, url);
        sb.append('}');
    }

    private static String one(Map<String, List<String>> p, String k) {
        List<String> v = p.get(k);
        if (v == null || v.isEmpty()) {
            return null;
        }
        if (v.size() > 1) {
            throw FhirError.badRequest(k + " may be given once / " + k + " は一度だけ指定してください");
        }
        return v.get(0);
    }

    static Instant since(String s) {
        if (s == null) {
            return null;
        }
        try {
            org.hl7.fhir.r4.model.InstantType t = new org.hl7.fhir.r4.model.InstantType(s);
            if (t.getValue() == null) {
                throw new IllegalArgumentException(s);
            }
            return t.getValue().toInstant();
        } catch (RuntimeException e) {
            throw FhirError.badRequest("_since must be an instant such as 2026-11-23T09:00:00+09:00 / _since は"
                    + "日時（タイムゾーン付き）で指定してください");
        }
    }

    /** The types asked for, or null for all; a type that is neither a member nor referenced is a 400. */
    static Set<String> types(String s) {
        if (s == null) {
            return null;
        }
        Set<String> out = new LinkedHashSet<>();
        for (String t : s.split(",", 100)) {
            String x = t.strip();
            if (x.isEmpty()) {
                continue;
            }
            if (!COMPARTMENT.containsKey(x) && !REFERENCED.contains(x)) {
                throw FhirError.badRequest("_type '" + (x.length() > 40 ? x.substring(0, 40) : x) + "' is not in the"
                        + " Patient compartment nor a type it refers to / 患者の記録に含まれない種別です");
            }
            out.add(x);
        }
        if (out.isEmpty()) {
            throw FhirError.badRequest("_type is empty / _type が空です");
        }
        return out;
    }

    /**
     * Where the next page starts: the index of the member type (in {@link #TYPES}), of its parameter, and that
     * search's own cursor (null: from its start).
     */
    record Cursor(int type, int param, String inner) {
        String encode() {
            String s = "e1." + type + "." + param + "." + (inner == null ? "" : inner);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String cursor) {
            if (cursor == null) {
                return null;
            }
            try {
                String s = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
                String[] parts = s.split("\\.", 4);
                if (parts.length != 4 || !parts[0].equals("e1") || !parts[1].matches("[0-9]{1,4}")
                        || !parts[2].matches("[0-9]{1,2}") || parts[3].length() > 2000) {
                    throw new IllegalArgumentException();
                }
                return new Cursor(Integer.parseInt(parts[1]), Integer.parseInt(parts[2]),
                        parts[3].isEmpty() ? null : parts[3]);
            } catch (IllegalArgumentException e) {
                throw FhirError.badRequest("the paging link is not valid; start $everything again / ページの指定が"
                        + "正しくありません。最初からやり直してください");
            }
        }
    }
}
