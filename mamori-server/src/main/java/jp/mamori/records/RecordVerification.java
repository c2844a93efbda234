package jp.mamori.records;

import jp.mamori.db.Tx;
import jp.mamori.records.RecordService.Mismatch;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.function.Consumer;

/**
 * verify-records: every stored version checked against its hashes, its head and its index rows. It reads every
 * record and is run by the operator's command, not by a caller of the API, so nothing here is authorized.
 */
final class RecordVerification {
    private final DataSource ds;
    private final RecordStore store;
    private final SearchIndexer indexer;

    RecordVerification(DataSource ds, RecordStore store, SearchIndexer indexer) {
        this.ds = ds;
        this.store = store;
        this.indexer = indexer;
    }

    /**
     * Recomputes every version's content hash and hash chain, checks that each head points at its resource's newest
     * version, and that the head's other columns and the search index rows are what that version gives
     * ({@link DerivedCheck}); returns the count of versions checked. All of it reads one snapshot (repeatable read),
     * so that a server writing meanwhile causes no false report.
     */
    long verifyAll(Consumer<Mismatch> report) {
        long[] n = {0};
        Tx.snapshot(ds, c -> {
            verifyIn(c, report, n);
            return null;
        });
        return n[0];
    }

    private void verifyIn(Connection c, Consumer<Mismatch> report, long[] n) throws SQLException {
        long[] pk = {-1};
        byte[][] chain = {VersionHash.GENESIS};
        int[] expectVersion = {1};
        RecordStore.Version[] newest = {null};
        DerivedCheck derived = new DerivedCheck(indexer, report);
        store.forEachVersion(c, v -> {
            n[0]++;
            if (v.pk() != pk[0]) {
                if (newest[0] != null) {
                    derived.add(c, newest[0]);
                }
                pk[0] = v.pk();
                chain[0] = VersionHash.GENESIS;
                expectVersion[0] = 1;
            }
            newest[0] = v;
            if (v.version() != expectVersion[0]) {
                report.accept(new Mismatch(v.type(), v.id(), v.version(), "version sequence broken",
                        Integer.toString(expectVersion[0]), Integer.toString(v.version())));
            }
            expectVersion[0] = v.version() + 1;
            byte[] content = VersionHash.content(v.body());
            if (!java.util.Arrays.equals(content, v.contentSha256())) {
                report.accept(new Mismatch(v.type(), v.id(), v.version(), "content hash mismatch",
                        VersionHash.hex(v.contentSha256()), VersionHash.hex(content)));
            }
            byte[] expected = VersionHash.chain(chain[0], v.type(), v.id(), v.version(), v.recordedAt(),
                    v.author(), v.reason(), v.operation(), v.lifecycle(), v.contentSha256());
            if (!java.util.Arrays.equals(expected, v.chainSha256())) {
                report.accept(new Mismatch(v.type(), v.id(), v.version(), "chain hash mismatch",
                        VersionHash.hex(v.chainSha256()), VersionHash.hex(expected)));
            }
            chain[0] = v.chainSha256();
        });
        if (newest[0] != null) {
            derived.add(c, newest[0]);
        }
        derived.flush(c);
        try (PreparedStatement ps = c.prepareStatement("SELECT r.res_type, r.res_id, r.version,"
                + " (SELECT max(v.version) FROM resource_version v WHERE v.res_pk = r.res_pk) FROM resource r"
                + " WHERE r.version IS DISTINCT FROM (SELECT max(v.version) FROM resource_version v"
                + " WHERE v.res_pk = r.res_pk)");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                report.accept(new Mismatch(rs.getString(1), rs.getString(2), rs.getInt(3),
                        "head points at a version that is not the latest stored",
                        rs.getString(4), Integer.toString(rs.getInt(3))));
            }
        }
    }
}
