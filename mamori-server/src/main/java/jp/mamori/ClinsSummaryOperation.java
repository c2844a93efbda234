package jp.mamori;

import jp.mamori.documents.ClinicalDocuments;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.api.FhirOperation;
import jp.mamori.records.api.FhirRequest;
import jp.mamori.web.Reply;
import org.hl7.fhir.r4.model.Bundle;

import java.nio.charset.StandardCharsets;

/**
 * {@code GET /Patient/[id]/$clins-summary} (issue 23): the patient summary (患者サマリー) as the JP-CLINS collection
 * Bundle, read through the record service as the caller (scopes and the access model decide what is in it). The API's
 * audit records the operation with the patients of the answer: every entry keeps its server URL, so they are named.
 * Not IPS {@code $summary}: that answers a document; this answers JP-CLINS's collection.
 *
 * <p>Here, with the server's assembly, because {@link FhirOperation} is in the FHIR API's routes and no capability's
 * routes may use another's (ArchitectureTest): the documents capability answers, this only adapts it to the API.
 */
final class ClinsSummaryOperation implements FhirOperation {
    public static final String NAME = "$clins-summary";
    private final ClinicalDocuments docs;

    ClinsSummaryOperation(ClinicalDocuments docs) {
        this.docs = docs;
    }

    @Override
    public Reply handle(FhirRequest rq, Target target) {
        if (!"GET".equals(rq.method())) {
            throw new FhirError(405, org.hl7.fhir.r4.model.OperationOutcome.IssueType.NOTSUPPORTED,
                    NAME + " は GET で呼び出します / " + NAME + " is called with GET");
        }
        if (!"Patient".equals(target.type()) || !target.instance() || !target.rest().isEmpty()) {
            throw FhirError.badRequest(NAME + " は患者ごとの操作です（Patient/[id]/" + NAME + "） / " + NAME
                    + " is an operation on one patient: Patient/[id]/" + NAME);
        }
        Bundle b = docs.patientSummary(rq.caller(), target.id(), rq.baseUrl());
        byte[] json = FhirSupport.encode(b, rq.responseFormat(), rq.pretty()).getBytes(StandardCharsets.UTF_8);
        return Reply.of(200, rq.responseFormat().mediaType + ";charset=UTF-8", json);
    }
}
