package jp.mamori.ssmix2;

import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SS-MIX2 import rate (issue 23, docs/performance.md): the histories of {@code mamori.bench.ssmix2.patients}
 * patients (1,000 unless said; seven messages each: ADT-00, ADT-61, two OMP-01, one OMP-02, two OML-11), written by
 * {@link TestTree}, imported by {@code mamori ssmix2 import} into a running server. A benchmark, not a timed test:
 * it runs only with {@code -Dmamori.bench.ssmix2=true} and asserts the counts, never the time.
 *
 * <pre>
 * ./mvnw -B -ntp -q -o -pl mamori-server -am test -Dtest=Ssmix2ImportBench -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dmamori.bench.ssmix2=true
 * </pre>
 */
class Ssmix2ImportBench {
    @Test
    void importRateOfAThousandPatientsHistories(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("mamori.bench.ssmix2"), "a benchmark: -Dmamori.bench.ssmix2=true");
        int patients = Integer.getInteger("mamori.bench.ssmix2.patients", 1000);
        TestTree tree = new TestTree(tmp.resolve("ssmix2"));
        String[][] names = {{"山田", "太郎", "ヤマダ", "タロウ"}, {"佐藤", "花子", "サトウ", "ハナコ"},
                {"鈴木", "一郎", "スズキ", "イチロウ"}, {"田中", "美咲", "タナカ", "ミサキ"}};
        long w0 = System.nanoTime();
        for (int i = 0; i < patients; i++) {
            String[] n = names[i % names.length];
            tree.history(String.format("25%08d", i), n[0], n[1], n[2], n[3], i);
        }
        long written = (System.nanoTime() - w0) / 1_000_000;
        try (TestServer s = TestServer.start(List.of())) {
            Runtime rt = Runtime.getRuntime();
            System.gc();
            long heapBefore = rt.totalMemory() - rt.freeMemory();
            long t0 = System.nanoTime();
            Ssmix2ImportTest.Run r = Ssmix2ImportTest.run("ssmix2", "import", tree.root().toString(), "--data",
                    s.dataDir().toString(), "--quiet");
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.gc();
            long heapAfter = rt.totalMemory() - rt.freeMemory();
            assertEquals(0, r.code(), r.out() + r.err());
            long messages = 7L * patients;
            assertTrue(Ssmix2ImportTest.summary(r).contains(messages + " files: " + messages + " imported"), r.out());
            System.out.printf("SS-MIX2 import: %d patients, %d messages, %d resources in %.1f s: %.1f patients/s,"
                            + " %.1f messages/s (tree written in %d ms; heap after GC %d MB before, %d MB after)%n",
                    patients, messages, 14L * patients, seconds, patients / seconds, messages / seconds, written,
                    heapBefore >> 20, heapAfter >> 20);
            System.out.println(Ssmix2ImportTest.summary(r));
        }
    }
}
