package jp.mamori.preservation;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measures a base backup's throughput on a database of a few hundred MB, beside the disk's own sequential write
 * speed. Prints the figures; asserts no timing. Off by default (it writes about a gigabyte):
 * {@code -Dtest=BackupThroughputBench} (not in the suite: the name does not end in Test), and
 * {@code -Dmamori.bench.rows=N} for another size.
 */
class BackupThroughputBench {
    private static final double MB = 1024 * 1024;

    @Test
    void backupThroughputBesideTheDisksWriteSpeed() throws Exception {
        long rows = Long.getLong("mamori.bench.rows", 1_000_000);
        try (TestDb db = TestDb.start("bench-"); Connection c = db.superuser()) {
            long g0 = System.nanoTime();
            TestDb.exec(c, "CREATE TABLE scratch AS SELECT g AS id, repeat(md5(g::text), 8) AS pad"
                    + " FROM generate_series(1, " + rows + ") g");
            TestDb.exec(c, "CHECKPOINT");
            double genS = (System.nanoTime() - g0) / 1e9;
            // The generated WAL is archived meanwhile; ship it away so that the backup runs on a quiet spool.
            TestDb.switchAndArchive(c);
            new WalShipper(db.spool(), db.dataDir.resolve("ship-state"),
                    new FolderParts(db.dataDir.resolve("shipped"))).shipOnce();

            FolderParts parts = new FolderParts(TestData.newFolder("bench-parts-"));
            BaseBackup.Result r = BaseBackup.take(c, db.pgData(), db.spool(), parts, "bench");
            double s = r.took().toNanos() / 1e9;
            long partBytes = r.parts().stream().mapToLong(BaseBackup.Part::size).sum();
            double diskMbs = diskWriteSpeed(parts.root().resolve("disk-speed.bin"));
            String dd = ddWriteSpeed(parts.root().resolve("dd.bin"));
            System.out.printf("BENCH base backup: database %.0f MB (%d rows generated in %.1f s), parts %.0f MB,"
                            + " backup %.2f s = %.0f MB/s of database size (%.0f MB/s written)%n",
                    r.databaseBytes() / MB, rows, genS, partBytes / MB, s, r.databaseBytes() / MB / s,
                    partBytes / MB / s);
            System.out.printf("BENCH disk sequential write (Java, 1 MiB writes, forced): %.0f MB/s; dd: %s%n", diskMbs,
                    dd);
            assertTrue(r.databaseBytes() > rows * 100, "the database is as large as generated");
            assertTrue(partBytes > r.databaseBytes() / 2, "the parts hold the data");
        }
    }

    /** Writes 512 MiB in 1 MiB blocks and forces it to disk; MB/s. */
    private static double diskWriteSpeed(Path f) throws Exception {
        ByteBuffer block = ByteBuffer.allocateDirect(1 << 20);
        new java.util.Random(1).ints(1 << 18).forEach(block::putInt);
        long t0 = System.nanoTime();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            for (int i = 0; i < 512; i++) {
                block.rewind();
                while (block.hasRemaining()) {
                    ch.write(block);
                }
            }
            ch.force(true);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        Files.delete(f);
        return 512 / s;
    }

    private static String ddWriteSpeed(Path f) {
        try {
            Process p = new ProcessBuilder("dd", "if=/dev/zero", "of=" + f, "bs=1M", "count=512", "conv=fdatasync")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor();
            Files.deleteIfExists(f);
            return out.lines().reduce((a, b) -> b).orElse("(no output)");
        } catch (Exception e) {
            return "(dd not available: " + e.getMessage() + ")";
        }
    }
}
