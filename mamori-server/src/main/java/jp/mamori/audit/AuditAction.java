package jp.mamori.audit;

import java.util.HashMap;
import java.util.Map;

/**
 * What was done, with the exact code the entry stores. This is the closed set of actions the server records itself;
 * the events other capabilities write into {@code audit_outbox} from database triggers (logins, account and access
 * changes, break-glass; V10) name their own actions and do not pass through here.
 */
public enum AuditAction {
    // ---- FHIR interactions (the API, from method and path) and the console's reads
    READ("read"),
    VREAD("vread"),
    SEARCH("search"),
    HISTORY("history"),
    /** A bundle (transaction or batch): its entry lists each operation in {@code detail.operations}. */
    TRANSACTION("transaction"),
    /** A FHIR operation ({@code $name}) other than a bulk export. */
    OPERATION("operation"),
    /** Data taken out of the hospital's hands: a bulk export asked for, an audit report exported. */
    EXPORT("export"),
    /** A request the API could not name (an unknown method). */
    UNKNOWN("unknown"),

    // ---- writes: the operation a version was stored with, and finalize (an update that locked a draft)
    CREATE("create"),
    UPDATE("update"),
    DELETE("delete"),
    FINALIZE("finalize"),
    AMEND("amend"),
    ENTERED_IN_ERROR("entered-in-error"),

    // ---- the console
    /** A printout of documents. */
    PRINT("print"),
    /** A write refused because someone else changed the record first. */
    CONFLICT("conflict"),

    // ---- authentication (a refused API credential)
    AUTHENTICATE("authenticate"),

    // ---- the audit trail looked at
    AUDIT_VIEW("audit.view"),
    AUDIT_REPORT("audit.report"),
    AUDIT_REVIEW("audit.review"),

    // ---- the server and its tools
    SERVER_START("server.start"),
    SERVER_STOP("server.stop"),
    CLOCK_CHECK("clock.check"),
    AUDIT_TIMESTAMP("audit.timestamp"),
    AUDIT_ANCHOR("audit.anchor"),
    AUDIT_INTEGRITY("audit.integrity"),
    /** A degraded-mode journal merged into the main trail (issue 18 §2): its file, length and head hash. */
    JOURNAL_MERGED("journal.merged"),
    AUDIT_EXPORT("audit.export"),
    AUDIT_PROOF("audit.proof"),
    VERIFY_AUDIT("verify.audit"),
    VERIFY_RECORDS("verify.records"),
    /**
     * The versions stored before every write's entry named its versions' hashes (issue 17), named with theirs once,
     * at the first start after the upgrade, so that every stored version is under the signed trail.
     */
    RECORDS_ANCHOR("records.anchor"),

    // ---- preservation (issue 16): copies of everything, their checks, restores and drills
    /** A base backup taken (or failed), with its manifest's id, size and hash. */
    BACKUP_RUN("backup.run"),
    /** A destination's copies checked against their signed manifests. */
    BACKUP_VERIFY("backup.verify"),
    /** A backup restored into a new data folder. */
    BACKUP_RESTORE("backup.restore"),
    /** A restore drill with its measured restore time, data age and findings. */
    BACKUP_DRILL("backup.drill"),
    /** The recovery key replaced: backups from now on are sealed for the new one (the new sheet's key id). */
    BACKUP_KEY_ROTATE("backup.key-rotate"),
    /** A copy past its generation deleted. */
    BACKUP_DELETE("backup.delete"),
    /** A compliance probe's status changed (issue 20): the probe, the old and new status, its summary. */
    COMPLIANCE_PROBE("compliance.probe"),

    // ---- retention and disposal (issue 16; ADR 0011)
    /** The retention pages looked at: the patients they showed (candidates, a batch, a certificate). */
    RETENTION_VIEW("retention.view"),
    /** A retention period changed (kind, years before and after). */
    RETENTION_RULE("retention.rule"),
    /** A legal hold set or released for a patient. */
    RETENTION_HOLD("retention.hold"),
    /** A disposal batch proposed: the frozen list of resources. */
    DISPOSAL_PROPOSE("disposal.propose"),
    /** A disposal batch approved by one administrator. */
    DISPOSAL_APPROVE("disposal.approve"),
    /** A disposal batch rejected (or refused as stale when executed). */
    DISPOSAL_REJECT("disposal.reject"),
    /** Records physically removed: what, whose, which versions and their hashes, who proposed and approved. */
    DISPOSAL_EXECUTE("disposal.execute"),
    /** Tombstones and disposal entries checked against each other ({@code mamori retention verify}). */
    VERIFY_RETENTION("verify.retention"),

    // ---- signatures (issue 17; ADR 0012)
    /** A person's signing key registered, refused or retired (which account, kind, certificate subject and role). */
    SIGNATURE_KEY("signature.key"),
    /** Signed versions validated ({@code mamori verify-signatures}): how many valid and not. */
    VERIFY_SIGNATURES("verify.signatures"),

    // ---- compliance (issue 20)
    /** A checklist item answered (framework, version, item, answer, dates; the answer before). */
    COMPLIANCE_ANSWER("compliance.answer"),
    /** A register row (台帳) added, changed or retired: register, entry, version, which fields changed, source. */
    COMPLIANCE_REGISTER("compliance.register"),
    /** A document uploaded (kind, title, SHA-256, size, detected type, reviewer, dates, requirements, item). */
    COMPLIANCE_DOCUMENT_UPLOAD("compliance.document.upload"),
    /** A new version of a document: a replacing file, or its review or expiry changed (and the version before). */
    COMPLIANCE_DOCUMENT_CHANGE("compliance.document.change"),
    /** A document withdrawn, with the reason. */
    COMPLIANCE_DOCUMENT_WITHDRAW("compliance.document.withdraw"),
    /** A document's file downloaded (document, version, SHA-256). */
    COMPLIANCE_DOCUMENT_DOWNLOAD("compliance.document.download"),
    /** The inspection pack downloaded (framework, version, format: pdf, csv or oscal; for a PDF whether sealed). */
    COMPLIANCE_PACK("compliance.pack"),
    /** The executive dashboard marked as reviewed (見直しを記録; the note's length, the review mark's id). */
    COMPLIANCE_REVIEW("compliance.review"),

    // ---- the vendor's deliverables (issue 20)
    /** Vulnerability advisories imported from a file ({@code mamori advisories import}): file, SHA-256, kind, count, OS user. */
    ADVISORY_IMPORT("advisory.import"),

    // ---- vendor maintenance (issue 19; ADR 0015)
    /** A vendor, one of its staff, a maintenance route or a component's responsibility added, changed or retired. */
    MAINTENANCE_VENDOR("maintenance.vendor"),
    /** A work request (作業申請) filed, or refused as filed (outside the contract or routes, overlapping, past). */
    MAINTENANCE_REQUEST("maintenance.request"),
    /** A work request approved by one of the institution's responsible persons (or that approval refused). */
    MAINTENANCE_APPROVE("maintenance.approve"),
    /** A work request refused, with the reason. */
    MAINTENANCE_REFUSE("maintenance.refuse"),
    /** A job ended at once by a responsible person (MAINT-3): the work order, the reason's length, sessions ended. */
    MAINTENANCE_END("maintenance.end"),
    /** A work report's results submitted by the vendor's staff member (a new version), or that submission refused. */
    MAINTENANCE_REPORT("maintenance.report"),
    /** A work report approved by the institution's responsible person (MAINT-5), or that approval refused. */
    MAINTENANCE_REPORT_APPROVE("maintenance.report.approve"),
    /** A work report sent back to the vendor with a reason (差戻し). */
    MAINTENANCE_REPORT_RETURN("maintenance.report.return"),
    /** A vendor notice posted (VULN-3): its number, kind, severity, vendor, whether a vendor account posted it. */
    MAINTENANCE_NOTICE_POST("maintenance.notice.post"),
    /** A vendor notice acknowledged by the institution (VULN-2). */
    MAINTENANCE_NOTICE_ACKNOWLEDGE("maintenance.notice.acknowledge"),
    /** A plan recorded for a vendor notice (in progress): its length, never its text. */
    MAINTENANCE_NOTICE_PLAN("maintenance.notice.plan"),
    /** A vendor notice closed: how (patched, workaround in place, not affected) and the date. */
    MAINTENANCE_NOTICE_CLOSE("maintenance.notice.close"),
    /**
     * A vendor's console session and its work order: admitted into the approved window (from the approved address),
     * a maintenance page refused outside it, or the session ended (the window over, ended early, the clock changed,
     * another address).
     */
    MAINTENANCE_SESSION("maintenance.session"),
    /** A server-side command run under a work order ({@code ./mamori … --work-order N}), or refused. */
    MAINTENANCE_COMMAND("maintenance.command"),
    /**
     * A directory sync run (issue 21; ACCT-2): its trigger, counts, and for a failed run the reason (unreachable,
     * TLS, bind, a partial answer, the mass-suspension guard); outcome error when it failed.
     */
    DIRECTORY_SYNC("directory.sync"),
    /** A person suspended by the directory sync: the account's login id, why (gone, disabled) and the entry's DN. */
    DIRECTORY_SUSPEND("directory.suspend"),
    /** A directory proposal (a department) accepted or dismissed by an administrator. */
    DIRECTORY_PROPOSAL("directory.proposal"),

    // ---- SMART on FHIR (issue 21): apps acting for a person
    /** An app registered or its registration changed (name, redirect URIs, scopes, enabled, a new secret). */
    SMART_APP("smart.app"),
    /** A person's decision on an app's request (allowed with the scopes granted, or denied), or a refused request. */
    SMART_CONSENT("smart.consent"),
    /** A token issued to an app (authorization code, refresh) or refused, with why. */
    SMART_TOKEN("smart.token"),
    /** An app's revocation of its tokens. */
    SMART_REVOKE("smart.revoke"),
    /** An EHR launch of an app from the clinician console, for the open patient. */
    SMART_LAUNCH("smart.launch"),
    /**
     * An SS-MIX2 storage tree imported (issue 23; STORE-2): the run, the root, the counts of files imported, already
     * imported, skipped and refused; outcome error when any was refused. Each message's resources are in the trail as
     * writes of {@code system:ssmix2-import} with the reason naming the file.
     */
    SSMIX2_IMPORT("ssmix2.import"),
    /** Records written out as an SS-MIX2 storage tree (STORE-2, DISPOSAL-7): the folder, the counts, the patients. */
    SSMIX2_EXPORT("ssmix2.export"),
    // ---- the patient's own copy (開示請求, issue 23): the request, the package produced for it, its hand-over
    /** A disclosure request recorded: who asked, when it was received, what was asked; names the patient. */
    DISCLOSURE_REQUEST("disclosure.request"),
    /**
     * A disclosure package produced: what was given (types, range, withheld parts), the hashes of its files; names the
     * patient. Its download by its producer is {@code disclosure.download}.
     */
    DISCLOSURE_PACKAGE("disclosure.package"),
    DISCLOSURE_DOWNLOAD("disclosure.download"),
    /** A package handed over to the requester: by whom, when, how. */
    DISCLOSURE_HANDOVER("disclosure.handover"),
    /**
     * A FHIR Bulk Data export kicked off (issue 23; AUDIT-1, STORE-2): the job, its level (system, Patient, Group), the
     * types, _since and _typeFilter asked for; a Group export names the Group's patients.
     */
    BULK_EXPORT("bulk.export"),
    /** A bulk export finished (or failed): the counts per type, the files, the patients it covers. */
    BULK_COMPLETE("bulk.complete"),
    /** One file of a bulk export downloaded: which file, its type and count, and the patients in it. */
    BULK_DOWNLOAD("bulk.download"),
    /** A bulk export cancelled by its client (DELETE on its status URL); its files are deleted. */
    BULK_CANCEL("bulk.cancel"),
    /**
     * The whole store written out as the contract-end hand-over (DISPOSAL-7): the folder, the counts per type, the
     * SHA-256 of the signed manifest and the signing key's fingerprint.
     */
    HANDOVER_EXPORT("handover.export"),
    /** A hand-over folder imported into this Mamori (after its signature and hashes were verified): the counts. */
    HANDOVER_IMPORT("handover.import"),
    /**
     * A JP-CLINS document (診療情報提供書, 退院時サマリー) composed from a patient's chart and shown for review (issue 23):
     * the patient, the document type, the number of entries. Storing it is a write in the trail like any other.
     */
    CLINS_COMPOSE("clins.compose"),
    /** A stored JP-CLINS document downloaded as a FHIR Document Bundle: the patient and the DocumentReference. */
    CLINS_EXPORT("clins.export"),
    /**
     * The institution's OpenID Connect provider registered, changed or turned off (issue 21; AUTH-1, AUTH-2): the
     * version, issuer, client id, client authentication and the second-factor rule; never the secret.
     */
    FEDERATION_PROVIDER("federation.provider"),
    /** An account linked to the provider's subject by its own person (after a local sign-in with two factors). */
    FEDERATION_LINK("federation.link"),
    /** A link removed by an administrator or by the person. */
    FEDERATION_UNLINK("federation.unlink"),
    /**
     * A linking round trip refused (the subject linked to another account, a wrong state, an invalid ID token): the
     * account and why; outcome failure. Sign-in attempts are authentication events ({@code login.oidc}).
     */
    FEDERATION_REFUSED("federation.refused");

    private static final Map<String, AuditAction> BY_CODE = new HashMap<>();

    static {
        for (AuditAction a : values()) {
            BY_CODE.put(a.code, a);
        }
    }

    /** As stored in the entry's {@code action}. */
    public final String code;

    AuditAction(String code) {
        this.code = code;
    }

    /**
     * The action stored as {@code code} (e.g. a version's operation, or a console page's action).
     *
     * @throws IllegalArgumentException when no action has that code
     */
    public static AuditAction of(String code) {
        AuditAction a = BY_CODE.get(code);
        if (a == null) {
            throw new IllegalArgumentException("no audit action is stored as '" + code + "'");
        }
        return a;
    }
}
