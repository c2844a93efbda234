package jp.mamori.bulk.web;

import jp.mamori.bulk.BulkExport;
import jp.mamori.kernel.FhirError;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.api.FhirOperation;
import jp.mamori.records.api.FhirRequest;
import jp.mamori.web.Reply;
import org.hl7.fhir.r4.model.OperationOutcome;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * The HTTP side of {@link BulkExport} (Bulk Data Access IG 2.0), registered with the FHIR endpoint:
 * {@code GET [base]/$export}, {@code [base]/Patient/$export}, {@code [base]/Group/[id]/$export} (kick-off, 202 and
 * Content-Location), {@code GET|DELETE [base]/$export-poll/JOB} (202 with X-Progress and Retry-After, 429 when polled
 * too fast, 200 with the manifest; DELETE cancels) and {@code GET [base]/$export-file/JOB/N} (the NDJSON file, streamed).
 * Wired with {@code FhirEndpoint.withOperation} by the server. The status and file URLs are system-level operations of their own, so that they pass the FHIR API's authentication
 * and audit like every other request; the file is sent through {@link Reply#streamed}, never read into the heap.
 */
public final class BulkOperations {
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);

    private final BulkExport bulk;

    public BulkOperations(BulkExport bulk) {
        this.bulk = bulk;
    }

    /** {@code $export}: the kick-off, at the system, Patient and Group level. */
    public FhirOperation kickOff() {
        return new FhirOperation() {
            @Override
            public Reply handle(FhirRequest rq, Target target) {
                return kickOff(rq, target);
            }

            @Override
            public String definition() {
                return BulkExport.DEFINITION;
            }
        };
    }

    /** {@code $export-poll/JOB}: the status URL (GET polls, DELETE cancels). */
    public FhirOperation poll() {
        return (rq, target) -> {
            requireSystemLevel(target, BulkExport.POLL);
            return status(rq, target.rest());
        };
    }

    /** {@code $export-file/JOB/N}: one file, streamed. */
    public FhirOperation file() {
        return (rq, target) -> {
            requireSystemLevel(target, BulkExport.FILE);
            return file(rq, target.rest());
        };
    }

    Reply kickOff(FhirRequest rq, FhirOperation.Target target) {
        if (!rq.method().equals("GET")) {
            throw new FhirError(405, OperationOutcome.IssueType.NOTSUPPORTED, "$export の開始は GET で要求してください"
                    + " / kick off $export with GET (POST with Parameters is not supported)");
        }
        BulkExport.Level level;
        if (target.system() && target.rest().isEmpty()) {
            level = BulkExport.Level.SYSTEM;
        } else if ("Patient".equals(target.type()) && !target.instance()) {
            level = BulkExport.Level.PATIENT;
        } else if ("Group".equals(target.type()) && target.instance()) {
            level = BulkExport.Level.GROUP;
        } else {
            throw FhirError.notFound("$export はシステム全体、Patient、Group/[id] でのみ使えます / $export is served at"
                    + " [base]/$export, [base]/Patient/$export and [base]/Group/[id]/$export");
        }
        String prefer = rq.header("Prefer");
        if (prefer == null || !prefer.toLowerCase(Locale.ROOT).contains("respond-async")) {
            throw FhirError.badRequest("Prefer: respond-async ヘッダーが必要です（一括出力は非同期です） / the header"
                    + " Prefer: respond-async is required: a bulk export is asynchronous");
        }
        String accept = rq.header("Accept");
        if (accept != null && !accept.isBlank()) {
            String a = accept.toLowerCase(Locale.ROOT);
            if (!a.contains("application/fhir+json") && !a.contains("application/json") && !a.contains("*/*")) {
                throw FhirError.badRequest("Accept は application/fhir+json にしてください / Accept must be"
                        + " application/fhir+json (the answers are OperationOutcomes and the manifest)");
            }
        }
        String query = rq.rawQuery() == null || rq.rawQuery().isEmpty() ? "" : "?" + rq.rawQuery();
        String request = rq.baseUrl() + "/" + String.join("/", rq.segments()) + query;
        String id;
        try {
            id = bulk.kickOff(rq.caller(), level, target.id(), rq.params(), request);
        } catch (FhirError e) {
            if (e.status() == 429) {
                return outcome(429, OperationOutcome.IssueType.THROTTLED, message(e)).header("Retry-After", "60");
            }
            throw e;
        }
        return outcome(202, OperationOutcome.IssueType.INFORMATIONAL, "一括出力を受け付けました。状態は Content-Location"
                + " で確認してください / export accepted: poll the Content-Location for its status")
                .header("Content-Location", rq.baseUrl() + "/" + BulkExport.POLL + "/" + id);
    }

    Reply status(FhirRequest rq, List<String> rest) {
        String id = rest.size() == 1 ? rest.get(0) : null;
        if (rq.method().equals("DELETE")) {
            bulk.cancel(rq.caller(), id);
            return outcome(202, OperationOutcome.IssueType.INFORMATIONAL, "一括出力を取り消し、ファイルを削除しました /"
                    + " the export was cancelled and its files are deleted");
        }
        if (!rq.method().equals("GET")) {
            throw new FhirError(405, OperationOutcome.IssueType.NOTSUPPORTED, "状態の確認は GET、取消は DELETE です /"
                    + " poll with GET, cancel with DELETE");
        }
        BulkExport.Poll p = bulk.poll(rq.caller(), id, rq.baseUrl());
        String retry = Long.toString(p.retryAfterSeconds());
        if (p.tooSoon()) {
            return outcome(429, OperationOutcome.IssueType.THROTTLED, "確認の間隔が短すぎます。Retry-After の秒数を待って"
                    + "ください / polled too often: wait Retry-After seconds").header("Retry-After", retry);
        }
        if (p.manifest() == null) {
            return Reply.empty(202).header("X-Progress", ascii(p.progress())).header("Retry-After", retry);
        }
        return Reply.of(200, "application/json;charset=UTF-8", p.manifest())
                .header("Expires", HTTP_DATE.format(p.expires()));
    }

    Reply file(FhirRequest rq, List<String> rest) {
        if (!rq.method().equals("GET") && !rq.method().equals("HEAD")) {
            throw new FhirError(405, OperationOutcome.IssueType.NOTSUPPORTED, "ファイルは GET で取得します / download"
                    + " files with GET");
        }
        if (rest.size() != 2) {
            throw FhirError.notFound("その一括出力ファイルはありません / no such export file");
        }
        BulkExport.Download d = bulk.download(rq.caller(), rest.get(0), rest.get(1));
        return Reply.streamed(200, "application/fhir+ndjson", new Reply.Streamed() {
            @Override
            public long length() {
                return d.length();
            }

            @Override
            public void writeTo(OutputStream out) throws IOException {
                try (InputStream in = Files.newInputStream(d.path())) {
                    byte[] buf = new byte[64 * 1024];
                    long left = d.length();
                    int n;
                    while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
                        out.write(buf, 0, n);
                        left -= n;
                    }
                }
            }
        });
    }

    private static void requireSystemLevel(FhirOperation.Target target, String op) {
        if (!target.system()) {
            throw FhirError.notFound(op + " はシステム全体の URL でのみ使えます / " + op + " is served at [base]/" + op
                    + "/... only");
        }
    }

    private static String message(FhirError e) {
        return e.issues().isEmpty() ? "" : e.issues().get(0).diagnostics();
    }

    /** A header value in ASCII: the English half of a bilingual text. */
    static String ascii(String s) {
        int slash = s.indexOf(" / ");
        String t = slash < 0 ? s : s.substring(slash + 3);
        return t.replaceAll("[^\\x20-\\x7e]", "?");
    }

    static Reply outcome(int status, OperationOutcome.IssueType type, String message) {
        OperationOutcome oo = new OperationOutcome();
        oo.addIssue().setSeverity(status >= 400 ? OperationOutcome.IssueSeverity.ERROR
                : OperationOutcome.IssueSeverity.INFORMATION).setCode(type).setDiagnostics(message);
        return Reply.of(status, "application/fhir+json;charset=UTF-8", FhirSupport.canonicalJson(oo));
    }
}
