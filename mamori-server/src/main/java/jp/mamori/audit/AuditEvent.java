package jp.mamori.audit;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One event to record, in typed facts: who ({@link Actor}), what ({@link AuditAction}), how it ended
 * ({@link Outcome}), why ({@link Purpose}), whose ({@link PatientRef}), which ({@link ResourceRef}) and the details.
 * Built with {@link #by}; handed to the {@link AuditRecorder}, which stores it as its {@link AuditRecord}.
 */
public final class AuditEvent {
    private final AuditRecord stored;

    private AuditEvent(AuditRecord stored) {
        this.stored = stored;
    }

    /** An event of {@code actor} doing {@code action}; by default a success for {@link Purpose#SECURITY}. */
    public static Builder by(Actor actor, AuditAction action) {
        return new Builder(actor, action);
    }

    /** A security or maintenance event of the server itself (start, stop, clock check, checkpoint, a tool's run). */
    public static Builder system(String what, AuditAction action, Outcome outcome, Map<String, String> detail) {
        return by(Actor.server(what), action).outcome(outcome).purpose(Purpose.SECURITY).details(detail);
    }

    /** The entry as the trail stores and encodes it ({@link EntryCodec}). */
    public AuditRecord stored() {
        return stored;
    }

    public static final class Builder {
        private final Actor actor;
        private AuditAction action;
        private Outcome outcome = Outcome.SUCCESS;
        private Purpose purpose = Purpose.SECURITY;
        private Instant at;
        private final List<String> patients = new ArrayList<>();
        private final List<String> resources = new ArrayList<>();
        private final Map<String, String> detail = new LinkedHashMap<>();

        private Builder(Actor actor, AuditAction action) {
            if (actor == null || action == null) {
                throw new IllegalArgumentException("an audit event needs an actor and an action");
            }
            this.actor = actor;
            this.action = action;
        }

        public Builder action(AuditAction a) {
            if (a == null) {
                throw new IllegalArgumentException("an audit event needs an action");
            }
            this.action = a;
            return this;
        }

        public Builder outcome(Outcome o) {
            if (o == null) {
                throw new IllegalArgumentException("an audit event needs an outcome");
            }
            this.outcome = o;
            return this;
        }

        /** Why; {@link Purpose#BREAK_GLASS} also marks the entry as under break-glass. */
        public Builder purpose(Purpose p) {
            if (p == null) {
                throw new IllegalArgumentException("an audit event needs a purpose");
            }
            this.purpose = p;
            return this;
        }

        /** When it happened; by default when {@link #build} is called. */
        public Builder at(Instant when) {
            this.at = when;
            return this;
        }

        public Builder patient(PatientRef p) {
            patients.add(p.id());
            return this;
        }

        public Builder patients(Collection<PatientRef> ps) {
            for (PatientRef p : ps) {
                patients.add(p.id());
            }
            return this;
        }

        /** Names a resource; the entry lists each once, in the order first named. */
        public Builder resource(ResourceRef r) {
            resources.add(r.code());
            return this;
        }

        public Builder resources(Collection<ResourceRef> rs) {
            for (ResourceRef r : rs) {
                resources.add(r.code());
            }
            return this;
        }

        public boolean hasResources() {
            return !resources.isEmpty();
        }

        public Builder detail(String key, String value) {
            detail.put(key, value);
            return this;
        }

        public Builder details(Map<String, String> d) {
            detail.putAll(d);
            return this;
        }

        public AuditEvent build() {
            String workOrder = AuditContext.workOrder();
            if (workOrder != null) {
                detail.putIfAbsent("workOrder", workOrder);
                if (purpose == Purpose.TREATMENT) {
                    purpose = Purpose.MAINTENANCE; // a vendor reading an approved patient's chart is not treatment
                }
            }
            return new AuditEvent(new AuditRecord(at == null ? Instant.now() : at, actor.principal(), actor.kind().code,
                    actor.display(), actor.roles(), actor.department(), patients, resources, action.code, outcome.code,
                    purpose.code, actor.address(), actor.session(), purpose == Purpose.BREAK_GLASS, detail));
        }
    }
}
