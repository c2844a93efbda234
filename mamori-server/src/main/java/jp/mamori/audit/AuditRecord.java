package jp.mamori.audit;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.LinkedHashSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The stored form of an entry, before the trail gives it a sequence number (what {@link EntryCodec} encodes and the
 * outbox holds). The server builds it only through the {@link AuditRecorder}, from an {@link AuditEvent}'s typed
 * facts; the trail also builds it from the events that database triggers write into {@code audit_outbox}. What it says: who (actor, kind, display, roles,
 * department), when, whose (patients), what (resources with versions, action), the outcome, the purpose, from
 * where (address) and in which session (a hash, never the session secret).
 *
 * @param at        when it happened, server clock, kept to the microsecond
 * @param actorKind person, client, system or anonymous
 * @param outcome   success, refused, invalid or error
 * @param detail    extra facts, written with sorted keys so that the same record always encodes the same way
 */
public record AuditRecord(Instant at, String actor, String actorKind, String display, List<String> roles,
                          String department, List<String> patients, List<String> resources, String action,
                          String outcome, String purpose, String address, String session, boolean breakGlass,
                          Map<String, String> detail) {
    public static final Set<String> KINDS = Set.of("person", "client", "system", "anonymous");
    public static final Set<String> OUTCOMES = Set.of("success", "refused", "invalid", "error");

    public AuditRecord {
        if (at == null || actor == null || actor.isBlank() || action == null || action.isBlank()
                || purpose == null || purpose.isBlank()) {
            throw new IllegalArgumentException("an audit record needs a time, an actor, an action and a purpose");
        }
        if (!KINDS.contains(actorKind) || !OUTCOMES.contains(outcome)) {
            throw new IllegalArgumentException("unknown actor kind or outcome: " + actorKind + "/" + outcome);
        }
        at = at.truncatedTo(ChronoUnit.MICROS);
        // plain collections rather than streams: every API request builds one of these
        roles = roles == null ? List.of() : List.copyOf(roles);
        patients = patients == null || patients.isEmpty() ? List.of() : List.copyOf(new TreeSet<>(patients));
        resources = resources == null || resources.isEmpty() ? List.of() : List.copyOf(new LinkedHashSet<>(resources));
        detail = detail == null || detail.isEmpty() ? Map.of()
                : java.util.Collections.unmodifiableMap(new TreeMap<>(detail));
    }
}
