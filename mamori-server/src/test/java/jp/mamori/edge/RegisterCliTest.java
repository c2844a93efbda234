package jp.mamori.edge;

import jp.mamori.cli.Main;
import jp.mamori.testing.TestServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code mamori registers export|import} (issue 20): one-line refusals, all-or-nothing import, audit with the tool. */
class RegisterCliTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... argv) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(List.of(argv), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static long bcpVersions(TestServer s) throws Exception {
        try (Connection c = s.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM compliance_register_version WHERE register = 'bcp'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void exportsAndImportsAllOrNothingWithTheToolInTheTrail(@TempDir Path tmp) throws Exception {
        Run help = run("registers");
        assertEquals(2, help.code());
        assertTrue(help.err().contains("registers export --data DIR KIND FILE"), help.err());
        TestServer s = TestServer.shared();
        String data = s.dataDir().toString();
        Run unknown = run("registers", "export", "--data", data, "furniture", tmp.resolve("x.csv").toString());
        assertEquals(2, unknown.code());
        assertTrue(unknown.err().contains("devices, vendors, appointments") && !unknown.err().contains("\tat "),
                unknown.err());

        long before = bcpVersions(s);
        Path bad = Files.writeString(tmp.resolve("bcp.csv"), "\uFEFF名称,種別,制定日・実施日\r\n"
                + "サイバー攻撃時のBCP,BCP文書,2026-04-01\r\n" + "机上訓練,訓練,来週\r\n");
        Run refused = run("registers", "import", "--data", data, "bcp", bad.toString());
        assertEquals(2, refused.code(), refused.out());
        assertEquals(1, refused.err().lines().count(), refused.err());
        assertTrue(refused.err().contains("3 行目: 制定日・実施日は 2026-04-01 の形で入力してください"), refused.err());
        assertEquals(before, bcpVersions(s), "nothing written");

        Files.writeString(bad, Files.readString(bad).replace("来週", "2026/10/5"));
        Run imported = run("registers", "import", "--data", data, "bcp", bad.toString());
        assertEquals(0, imported.code(), imported.err());
        assertTrue(imported.out().contains("追加 2 件"), imported.out());
        Path out = tmp.resolve("out.csv");
        Run exported = run("registers", "export", "--data", data, "bcp", out.toString());
        assertEquals(0, exported.code(), exported.err());
        String csv = Files.readString(out);
        assertTrue(csv.startsWith("\uFEFF台帳番号,名称,種別") && csv.contains("机上訓練,訓練,2026-10-05"), csv);
        try (Connection c = s.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM audit_entry WHERE action = 'compliance.register' AND actor = 'system:registers'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertTrue(rs.getLong(1) >= 2, "each version an audit entry by the tool");
        }
        try (Connection c = s.superuserConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM audit_entry WHERE action = 'export' AND actor = 'system:registers' AND"
                        + " convert_from(entry, 'UTF8')::jsonb #>> '{detail,register}' = 'bcp'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertEquals(1L, rs.getLong(1), "the export is data leaving: an entry of its own");
        }
        assertFalse(csv.contains("drill") || csv.contains("plan"), "choices in words: " + csv);
    }
}
