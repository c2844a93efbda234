package jp.mamori.records;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;

/**
 * How much the record store holds, for what a backup's manifest promises and a drill compares (ADR 0010): the
 * versions written (their count and the newest version's sequence number) and the resources per type. Records owns
 * these tables; others ask here, on their own connection (a backup's snapshot, a restored database).
 *
 * @param versions      every version ever written (history is never deleted)
 * @param newestVersion the sequence number of the newest version, 0 when there is none
 * @param resources     resources per type, deleted ones included (their history is kept)
 */
public record RecordCensus(long versions, long newestVersion, Map<String, Long> resources) {
    public RecordCensus {
        resources = java.util.Collections.unmodifiableMap(new TreeMap<>(resources));
    }

    /** Counts on {@code c}, in its transaction (one statement per figure). */
    public static RecordCensus of(Connection c) throws SQLException {
        long versions;
        long newest;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*), coalesce(max(seq), 0) FROM resource_version");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            versions = rs.getLong(1);
            newest = rs.getLong(2);
        }
        Map<String, Long> types = new TreeMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT res_type, count(*) FROM resource GROUP BY res_type");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                types.put(rs.getString(1), rs.getLong(2));
            }
        }
        return new RecordCensus(versions, newest, types);
    }
}
