package jp.mamori.bulk;

import jp.mamori.access.Caller;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;

/**
 * One bulk export: what was asked (level, types, _since, filters, the Group's patients), by whom, and how far it got.
 * Held in memory by {@link BulkExport}; its files are in its own folder of the data folder.
 */
final class ExportJob {
    enum Level {
        SYSTEM("system"), PATIENT("Patient"), GROUP("Group");

        final String code;

        Level(String code) {
            this.code = code;
        }
    }

    enum State { QUEUED, RUNNING, COMPLETE, FAILED, CANCELLED }

    /** One NDJSON file written: its number in the job, resource type, resources, bytes; an error file has type OperationOutcome. */
    record Part(int n, String type, long count, long bytes, Path path, Path patients, boolean error) {
    }

    final String id;
    final Caller caller;
    /** Who may poll, download and cancel: the caller's principal and, for a person's app, the app. */
    final String owner;
    final String address;
    final String request;
    final Level level;
    final List<String> types;
    final Instant since;
    /** Per type, the one search (as parameters) its resources must match. */
    final Map<String, Map<String, List<String>>> filters;
    /** A Group export's patients (ids); empty otherwise. */
    final List<String> patients;
    final String group;
    final Instant transactionTime;
    final Path dir;

    volatile State state = State.QUEUED;
    volatile String progress = "queued / 待機中";
    volatile Instant finished;
    volatile Instant lastPoll;
    volatile String failure;
    volatile boolean cancelled;
    volatile Future<?> future;
    final List<Part> parts = new CopyOnWriteArrayList<>();
    /** Where the time went (written by the export's one thread; read by the benchmark once it is done). */
    volatile long searchNanos;
    volatile long writeNanos;
    volatile long pages;

    ExportJob(String id, Caller caller, String owner, String address, String request, Level level, List<String> types,
              Instant since, Map<String, Map<String, List<String>>> filters, List<String> patients, String group,
              Instant transactionTime, Path dir) {
        this.id = id;
        this.caller = caller;
        this.owner = owner;
        this.address = address;
        this.request = request;
        this.level = level;
        this.types = List.copyOf(types);
        this.since = since;
        this.filters = Map.copyOf(filters);
        this.patients = List.copyOf(patients);
        this.group = group;
        this.transactionTime = transactionTime;
        this.dir = dir;
    }

    boolean active() {
        return state == State.QUEUED || state == State.RUNNING;
    }

    /** When its files expire: the lifetime after it ended; never while it runs. */
    Instant expires(java.time.Duration lifetime) {
        Instant f = finished;
        return f == null ? null : f.plus(lifetime);
    }

    static String owner(Caller c) {
        return c.principal() + (c.app() == null ? "" : " app:" + c.app().clientId());
    }
}
