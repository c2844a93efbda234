package jp.mamori.store;

import jp.mamori.testing.TestServer;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Patients with several versions written through the API, and their rows as stored, for the tamper tests. */
final class StoredVersions {
    private StoredVersions() {
    }

    /** A row of resource_version, as stored. */
    record Row(long pk, String id, int version, Instant recordedAt, String author, String reason, String operation,
               String lifecycle, String body, byte[] content, byte[] chain) {
    }

    /** A new Patient with {@code n} versions, written through the API; family names やまだ1, やまだ2, .... */
    static String patientWithVersions(TestServer server, int n) {
        String ident = Patients.uniqueValue();
        HttpResponse<String> created = server.post("/Patient", Patients.json(ident, "やまだ1"));
        assertEquals(201, created.statusCode(), created.body());
        String id = Patients.idFromLocation(created.headers().firstValue("Location").orElseThrow());
        for (int v = 2; v <= n; v++) {
            HttpResponse<String> updated = server.put("/Patient/" + id, Patients.jsonWithId(id, ident, "やまだ" + v));
            assertEquals(200, updated.statusCode(), updated.body());
        }
        return id;
    }

    static Row row(TestServer server, String id, int version) throws SQLException {
        try (Connection c = server.superuserConnection();
             PreparedStatement ps = c.prepareStatement("SELECT res_pk, recorded_at, author, reason, operation,"
                     + " lifecycle, body, content_sha256, chain_sha256 FROM resource_version"
                     + " WHERE res_type = 'Patient' AND res_id = ? AND version = ?")) {
            ps.setString(1, id);
            ps.setInt(2, version);
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next(), "no version " + version + " of " + id);
                return new Row(rs.getLong(1), id, version, rs.getTimestamp(2).toInstant(), rs.getString(3),
                        rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getBytes(8),
                        rs.getBytes(9));
            }
        }
    }
}
