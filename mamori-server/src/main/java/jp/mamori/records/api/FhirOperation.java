package jp.mamori.records.api;

import jp.mamori.web.Reply;

import java.util.List;

/**
 * An extended FHIR operation ({@code $name}) served by a capability above the record store, registered with
 * {@link FhirEndpoint#withOperation}. The endpoint has already authenticated the caller and bounded the request; the
 * operation decides everything else (its scopes, its audit, its answer) through {@code RecordService}, never around it.
 */
public interface FhirOperation {

    /**
     * Where the operation was asked for. {@code type} and {@code id} are null at the system level
     * ({@code /$op}); {@code id} is null at the type level ({@code /Patient/$op}). {@code rest} are the segments after
     * a system-level operation's name, for the paths an operation serves below its own name
     * ({@code /$export-poll/ID} has rest {@code [ID]}); empty otherwise.
     */
    record Target(String type, String id, List<String> rest) {
        public Target {
            rest = List.copyOf(rest);
        }

        public boolean system() {
            return type == null;
        }

        public boolean instance() {
            return id != null;
        }
    }

    Reply handle(FhirRequest rq, Target target);

    /** The operation's canonical definition, for the capability statement (e.g. the Bulk Data IG's). */
    default String definition() {
        return null;
    }
}
