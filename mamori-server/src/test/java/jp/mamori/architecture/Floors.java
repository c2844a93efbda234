package jp.mamori.architecture;

import java.util.List;

/**
 * The floors of the server, bottom up (ADR 0009). A package may use the packages of its own floor and of the
 * floors below it, never of a floor above; and no two packages may use each other, directly or around a circle.
 */
final class Floors {
    private Floors() {
    }

    record Floor(String name, List<String> packages) {
    }

    static final List<Floor> ALL = List.of(
            // Shared kernel and libraries: depend on nothing of ours (the ledger is its own module).
            new Floor("kernel", List.of("jp.mamori.kernel..", "jp.mamori.chart..", "jp.mamori.ledger..")),
            new Floor("config", List.of("jp.mamori.config..")),
            // FHIR profile packages (JP Core, issue 23) loaded for the record store's validator: HAPI and the settings.
            new Floor("profiles", List.of("jp.mamori.profiles")),
            new Floor("db", List.of("jp.mamori.db..")),
            // Capabilities, each below the next: who you are, what you may do, the records, the trail.
            new Floor("identity", List.of("jp.mamori.identity")),
            new Floor("access", List.of("jp.mamori.access")),
            new Floor("records", List.of("jp.mamori.records")),
            new Floor("audit", List.of("jp.mamori.audit")),
            // Backups, restores and drills of everything below, recorded in the trail; retention periods and the
            // disposal of records past them (issue 16); signing, time-stamping and validating signatures (issue 17).
            // None uses another.
            // The downtime kit (issue 18): encrypted PDFs of the minimum information for care, written ahead of downtime.
            new Floor("preservation", List.of("jp.mamori.preservation", "jp.mamori.retention",
                    "jp.mamori.signatures", "jp.mamori.continuity")),
            // Vendor maintenance (issue 19): vendors, their staff and routes, work orders approved in advance and
            // reported afterwards, vendor notices; it reads identity, access and the trail below it.
            new Floor("maintenance", List.of("jp.mamori.maintenance")),
            // Directory sync (issue 21): the institution's directory read for leavers, suspended through identity and
            // recorded in the trail; operations and compliance above it read its state.
            new Floor("directory", List.of("jp.mamori.directory")),
            // SMART on FHIR (issue 21): the authorization server for apps acting for a person; its grants are decided on
            // the FHIR API (web floor) by the access model intersected with the scopes.
            new Floor("smart", List.of("jp.mamori.smart")),
            // Interchange (issue 23): SS-MIX2 standardized storage imported through the record service (as a system
            // caller, for migration) and exported back, recorded in the trail; FHIR Bulk Data export and the contract-end
            // hand-over, read and written through the record service.
            new Floor("interchange", List.of("jp.mamori.ssmix2", "jp.mamori.bulk")),
            // The patient's own copy (開示請求, issue 23): a records manager's package of the chart contents chosen (PDF,
            // FHIR Bundle, the access report from the trail), read through the record service as the institution,
            // sealed through signatures, recorded in its own ledger and the trail. Above interchange only so that
            // the two stay apart; it uses nothing of it.
            new Floor("disclosure", List.of("jp.mamori.disclosure")),
            // The national documents (issue 23): JP-CLINS referral letters and discharge summaries built from the chart
            // through the record service as the person writing them, stored there as documents (signed by the document
            // signing below, as every finalized document); above interchange as the other national-format capability.
            new Floor("documents", List.of("jp.mamori.documents")),
            // Sign-in through the institution's OpenID Connect provider (issue 21): links and sessions through identity,
            // its decisions in the trail.
            new Floor("federation", List.of("jp.mamori.federation")),
            // Health, metrics and alerts over everything below (issue 18 §5): reads the database, the audit trail and
            // the backups; the web floor serves what it reports.
            new Floor("operations", List.of("jp.mamori.ops")),
            // The compliance console (issue 20): checklists as data, answered by probes over everything below.
            new Floor("compliance", List.of("jp.mamori.compliance")),
            // The HTTP server, TLS, the router, the console's gate and layout.
            new Floor("web", List.of("jp.mamori.web..")),
            // Each capability's routes and pages.
            new Floor("routes", List.of("jp.mamori.identity.web..", "jp.mamori.access.web..", "jp.mamori.audit.web..",
                    "jp.mamori.records.api..", "jp.mamori.clinical..", "jp.mamori.preservation.web..",
                    "jp.mamori.retention.web..", "jp.mamori.ops.web..", "jp.mamori.continuity.web..",
                    "jp.mamori.compliance.web..", "jp.mamori.maintenance.web..",
                    "jp.mamori.directory.web..", "jp.mamori.smart.web..", "jp.mamori.federation.web..",
                    "jp.mamori.bulk.web..", "jp.mamori.disclosure.web..",
                    "jp.mamori.documents.web..")),
            // What assembles and drives the server: start-up, the command line, benchmarks, demo data.
            new Floor("app", List.of("jp.mamori", "jp.mamori.cli..", "jp.mamori.bench..", "jp.mamori.demo..")));
}
