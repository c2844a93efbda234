package jp.mamori.bulk;

import jp.mamori.access.Caller;
import jp.mamori.records.FhirSupport;
import jp.mamori.records.RecordService;
import jp.mamori.testing.TestServer;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The bulk export rate (issue 23, docs/performance.md): a store of {@code mamori.bench.bulk.sizes} resources (50,000
 * and 200,000 unless said; a Patient and nine Observations each, Japanese text) exported whole at the system level
 * ({@code $export} without {@code _type}) to NDJSON on disk; download excluded. Reports resources/s and the heap: after
 * a full GC before and after, and the highest heap used while the export ran (sampled every 20 ms). A benchmark, not a
 * timed test: it runs only with {@code -Dmamori.bench.bulk=true} and asserts the counts, never the time.
 *
 * <pre>
 * ./mvnw -B -ntp -q -o -pl mamori-server -am test -Dtest=BulkExportBench -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dmamori.bench.bulk=true [-Dmamori.bench.bulk.sizes=50000,200000]
 * </pre>
 */
class BulkExportBench {
    private static final Caller WRITER = Caller.system("bench-writer");
    private static final Caller EXPORTER = Caller.system("bench-export");

    @Test
    void wholeStoreExportRateAndHeap() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("mamori.bench.bulk"), "a benchmark: -Dmamori.bench.bulk=true");
        String[] sizes = System.getProperty("mamori.bench.bulk.sizes", "50000,200000").split(",");
        try (TestServer s = TestServer.start(List.of())) {
            RecordService records = s.server().records();
            BulkExport bulk = s.server().bulk();
            bulk.settings(bulk.settings().with(Duration.ofHours(1), Duration.ZERO));
            long stored = 0;
            int patient = 0;
            for (String size : sizes) {
                long target = Long.parseLong(size.trim());
                long w0 = System.nanoTime();
                while (stored < target) {
                    List<Resource> batch = new ArrayList<>(500);
                    for (int i = 0; i < 50; i++, patient++) {
                        String pid = String.format("b%07d", patient);
                        batch.add((Resource) FhirSupport.parse(FhirSupport.Format.JSON, ("{\"resourceType\":\"Patient\","
                                + "\"id\":\"" + pid + "\",\"name\":[{\"family\":\"山田\",\"given\":[\"太郎" + patient
                                + "\"]}],\"gender\":\"male\",\"birthDate\":\"1960-01-02\",\"address\":[{\"text\":"
                                + "\"東京都千代田区霞が関1-2-2\"}]}").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                        for (int o = 0; o < 9; o++) {
                            batch.add((Resource) FhirSupport.parse(FhirSupport.Format.JSON, ("{\"resourceType\":"
                                    + "\"Observation\",\"id\":\"" + pid + "-o" + o + "\",\"status\":\"final\",\"code\":"
                                    + "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"4548-4\"}],\"text\":"
                                    + "\"HbA1c（NGSP）\"},\"subject\":{\"reference\":\"Patient/" + pid + "\"},"
                                    + "\"effectiveDateTime\":\"2026-11-" + (10 + o) + "T09:00:00+09:00\","
                                    + "\"valueQuantity\":{\"value\":" + (5.5 + o / 10.0) + ",\"unit\":\"%\"}}")
                                    .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                        }
                    }
                    records.writeWith((c, writer) -> {
                        for (Resource r : batch) {
                            writer.update(WRITER, r.fhirType(), r.getIdElement().getIdPart(), r, null, "bench");
                        }
                        return null;
                    });
                    stored += batch.size();
                }
                double writeSeconds = (System.nanoTime() - w0) / 1e9;

                MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
                System.gc();
                long before = mem.getHeapMemoryUsage().getUsed();
                AtomicLong peak = new AtomicLong();
                Thread sampler = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        peak.accumulateAndGet(mem.getHeapMemoryUsage().getUsed(), Math::max);
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                });
                sampler.setDaemon(true);
                sampler.start();
                long t0 = System.nanoTime();
                String id = bulk.kickOff(EXPORTER, BulkExport.Level.SYSTEM, null, Map.of(), s.base() + "/$export");
                BulkExport.Poll p;
                do {
                    Thread.sleep(20);
                    p = bulk.poll(EXPORTER, id, s.base());
                } while (p.manifest() == null);
                double seconds = (System.nanoTime() - t0) / 1e9;
                sampler.interrupt();
                sampler.join();
                System.gc();
                long after = mem.getHeapMemoryUsage().getUsed();
                ExportJob job = bulk.job(id);
                assertNotNull(job);
                long exported = job.parts.stream().filter(x -> !x.error()).mapToLong(ExportJob.Part::count).sum();
                assertEquals(stored, exported, "the whole store");
                long bytes = 0;
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(job.dir, "*.ndjson")) {
                    for (Path f : ds) {
                        bytes += Files.size(f);
                    }
                }
                System.out.printf("bulk export: %d resources (%d MB NDJSON, %d files) in %.2f s: %.0f resources/s;"
                                + " heap after GC %d MB before, %d MB after, highest while exporting %d MB (max %d MB);"
                                + " store written at %.0f resources/s%n", exported, bytes >> 20, job.parts.size(),
                        seconds, exported / seconds, before >> 20, after >> 20, peak.get() >> 20,
                        mem.getHeapMemoryUsage().getMax() >> 20, (stored) / writeSeconds);
                System.out.printf("  of which: %d pages, reading the store (search) %.2f s, writing NDJSON (with the"
                                + " patients' scan) %.2f s%n", job.pages, job.searchNanos / 1e9, job.writeNanos / 1e9);
                bulk.cancel(EXPORTER, id);
            }
        }
    }
}
