package jp.mamori.records;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jp.mamori.access.Caller;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.RecordService.Stored;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * Someone else's draft as a person is given it (issue 22): the access model decides
 * ({@link jp.mamori.access.AccessPolicy#draftContentVisible}); when the content is not theirs to see, every read,
 * version read, history and search of the record service returns the version with only what says that a draft
 * exists — its type, status, subject, encounter, date, author and title — marked {@code SUBSETTED} in
 * {@code meta.tag} (the FHIR way of saying "not the whole resource"), and a change of it is refused. The version's
 * number, time and content hash stay those of the stored version.
 */
final class DraftContent {
    /** The FHIR tag of a resource returned with elements left out. */
    static final String SUBSETTED_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";
    static final String SUBSETTED = "SUBSETTED";
    /** What a withheld draft keeps: that it exists, what kind, whose, when and by whom; nothing of its content. */
    private static final Set<String> KEPT = Set.of("resourceType", "id", "meta", "status", "type", "category",
            "subject", "patient", "encounter", "date", "author", "title", "identifier");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RecordAuthorization auth;

    DraftContent(RecordAuthorization auth) {
        this.auth = auth;
    }

    /** {@code s} as {@code caller} may see it: whole, or with a draft's content withheld. */
    Stored shown(Caller caller, Stored s) {
        if (s == null || s.deleted() || auth.draftContentVisible(caller, s.lifecycle(), s.author(), s.type(), s.id(), s.body())) {
            return s;
        }
        return new Stored(s.type(), s.id(), s.version(), s.lastUpdated(), withheld(s.body()), s.author(), s.reason(),
                s.operation(), s.lifecycle(), s.contentSha256());
    }

    List<Stored> shown(Caller caller, List<Stored> list) {
        if (!caller.isPerson()) {
            return list;
        }
        return list.stream().map(s -> shown(caller, s)).toList();
    }

    /** A 403 unless {@code caller} may change a record whose current version is {@code current} (null: none). */
    void requireChange(Caller caller, RecordStore.Version current) {
        if (current != null && !current.deleted()
                && !auth.draftContentVisible(caller, current.lifecycle(), current.author(), current.type(),
                current.id(), current.body())) {
            throw FhirError.forbidden(current.type() + "/" + current.id() + ": 下書きは確定されるまで記載者本人のものです"
                    + " / A draft is its author's until it is finalized");
        }
    }

    static byte[] withheld(byte[] body) {
        try {
            JsonNode whole = JSON.readTree(body);
            ObjectNode out = JSON.createObjectNode();
            whole.fieldNames().forEachRemaining(f -> {
                if (KEPT.contains(f)) {
                    out.set(f, whole.get(f));
                }
            });
            ObjectNode meta = out.has("meta") && out.get("meta").isObject() ? (ObjectNode) out.get("meta")
                    : out.putObject("meta");
            ArrayNode tags = meta.has("tag") && meta.get("tag").isArray() ? (ArrayNode) meta.get("tag")
                    : meta.putArray("tag");
            tags.addObject().put("system", SUBSETTED_SYSTEM).put("code", SUBSETTED)
                    .put("display", "下書き: 内容は記載者のみ / draft: content withheld");
            return JSON.writeValueAsString(out).getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
