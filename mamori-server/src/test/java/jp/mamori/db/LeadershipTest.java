package jp.mamori.db;

import jp.mamori.config.ServerConfig;
import jp.mamori.testing.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jobs that must run once per installation (issue 18 §1, ADR 0013): of two processes on one database exactly one
 * leads each job; when the leader's session ends (its process died) the other takes the job at its next tick, and
 * a leader that loses its connection stops leading at once. Two {@link Leadership}s stand for two processes: each
 * has its own session, as separate processes do.
 */
class LeadershipTest {
    private static Database db;

    @BeforeAll
    static void start() throws Exception {
        Path data = TestData.newDatabaseFolder("leadership");
        db = Database.open(ServerConfig.fromArgs(List.of("--data", data.toString()), Map.of()).database(), data, 2);
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    private static Leadership process(String name) {
        return new Leadership(() -> db.sessionConnection(name), Clock.systemUTC());
    }

    @Test
    void exactlyOneProcessLeadsEachJobAndAnotherTakesOverWhenItsSessionEnds() throws Exception {
        try (Leadership a = process("mamori-test-a"); Leadership b = process("mamori-test-b")) {
            BooleanSupplier aCheckpoints = a.job("test-checkpointer", "チェックポイント / checkpoints");
            BooleanSupplier bCheckpoints = b.job("test-checkpointer", "チェックポイント / checkpoints");
            BooleanSupplier aKit = a.job("test-kit", "資料 / kit");
            BooleanSupplier bKit = b.job("test-kit", "資料 / kit");
            assertFalse(aCheckpoints.getAsBoolean(), "no lead before the first tick");
            a.tick();
            b.tick();
            assertTrue(aCheckpoints.getAsBoolean() && aKit.getAsBoolean(), "the first process leads every job");
            assertFalse(bCheckpoints.getAsBoolean() || bKit.getAsBoolean(), "the second leads none");
            b.tick();
            assertFalse(bCheckpoints.getAsBoolean(), "still none while the first lives");
            assertEquals(2, a.leads().stream().filter(Leadership.Lead::leading).count());

            // the first process's session ends as when its JVM is killed: the server drops it, the lock with it
            try (Connection c = db.dataSource().getConnection();
                 PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         + " WHERE application_name = 'mamori-test-a'")) {
                ps.execute();
            }
            // pg_terminate_backend only signals: the backend (and its locks) may take a moment to go
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            do {
                b.tick();
            } while (!(bCheckpoints.getAsBoolean() && bKit.getAsBoolean()) && System.nanoTime() < deadline
                    && sleep(50));
            assertTrue(bCheckpoints.getAsBoolean() && bKit.getAsBoolean(), "the second takes every job over");
            a.tick();
            assertFalse(aCheckpoints.getAsBoolean() || aKit.getAsBoolean(),
                    "the first, its connection lost, leads nothing and does not take the jobs back");
        }
    }

    @Test
    void aLeaderThatStopsReleasesItsJobsAtOnce() {
        Leadership a = process("mamori-test-c");
        try (Leadership b = process("mamori-test-d")) {
            BooleanSupplier aJob = a.job("test-sweep", "処理 / sweep");
            BooleanSupplier bJob = b.job("test-sweep", "処理 / sweep");
            a.tick();
            b.tick();
            assertTrue(aJob.getAsBoolean());
            assertFalse(bJob.getAsBoolean());
            a.close();
            assertFalse(aJob.getAsBoolean(), "a closed process leads nothing");
            b.tick();
            assertTrue(bJob.getAsBoolean(), "the lock was released with the stop, not left to a pooled session");
        } finally {
            a.close();
        }
    }

    private static boolean sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
        return true;
    }
}
