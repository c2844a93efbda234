package jp.mamori.compliance;

import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registers' CSV (issue 20): RFC 4180 quoting, a BOM for Excel, line breaks inside cells, formulas neutralised on
 * export and restored on import, a wrong encoding or an open quote refused with the line; and each kind's validation.
 */
class RegisterCsvTest {
    @Test
    void writesExcelsUtf8WithBomAndQuotesAndReadsItBack() {
        List<List<String>> records = List.of(List.of("台帳番号", "名称", "備考"),
                List.of("1", "電子カルテ \"本体\", 3F", "一行目\n二行目"),
                List.of("2", "=HYPERLINK(\"http://x\")", "+81-3-0000-0000"),
                List.of("3", "@SUM(A1)", "-1"));
        byte[] csv = RegisterCsv.write(records);
        assertArrayEquals(new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, java.util.Arrays.copyOf(csv, 3));
        String text = new String(csv, 3, csv.length - 3, StandardCharsets.UTF_8);
        assertTrue(text.contains("\"電子カルテ \"\"本体\"\", 3F\""), text);
        assertTrue(text.contains("\"一行目\n二行目\""), text);
        assertTrue(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\"") && text.contains(",'+81-3-0000-0000\r\n")
                && text.contains("'@SUM(A1)") && text.contains(",'-1\r\n"), "formulas neutralised: " + text);
        List<RegisterCsv.Record> back = RegisterCsv.read(csv);
        assertEquals(records, back.stream().map(RegisterCsv.Record::cells).toList(), "the export reads back unchanged");
        assertEquals(List.of(1, 2, 4, 5), back.stream().map(RegisterCsv.Record::line).toList(),
                "each record's line, a line break inside a cell counted");
    }

    @Test
    void refusesShiftJisAndAnOpenQuoteWithTheLine() {
        byte[] sjis = "名称\n電子カルテ\n".getBytes(Charset.forName("Shift_JIS"));
        ComplianceException e = assertThrows(ComplianceException.class, () -> RegisterCsv.read(sjis));
        assertTrue(e.getMessage().contains("UTF-8 ではありません"), e.getMessage());
        e = assertThrows(ComplianceException.class, () -> RegisterCsv.read(
                "a,b\n1,\"open\n2,3\n".getBytes(StandardCharsets.UTF_8)));
        assertTrue(e.getMessage().startsWith("2 行目: 引用符（\"）が閉じていません"), e.getMessage());
    }

    @Test
    void eachKindValidatesTypesChoicesAndItsRule() {
        Map<String, String> device = Map.of("name", "サーバ1", "category", "サーバ", "location", "3階サーバ室",
                "state", "使用中", "remote", "はい", "vendor", "A社", "end_of_support", "2027/3/31");
        Map<String, String> ok = Registers.validate(RegisterKind.DEVICES, device);
        assertEquals("server", ok.get("category"));
        assertEquals("yes", ok.get("remote"));
        assertEquals("2027-03-31", ok.get("end_of_support"));
        java.util.HashMap<String, String> noVendor = new java.util.HashMap<>(device);
        noVendor.remove("vendor");
        ComplianceException e = assertThrows(ComplianceException.class,
                () -> Registers.validate(RegisterKind.DEVICES, noVendor));
        assertEquals("リモート保守の機器は保守事業者を入力してください / a device under remote maintenance names its vendor",
                e.getMessage());
        noVendor.put("vendor", "A社");
        noVendor.put("category", "冷蔵庫");
        e = assertThrows(ComplianceException.class, () -> Registers.validate(RegisterKind.DEVICES, noVendor));
        assertTrue(e.getMessage().startsWith("種別は次のどれかです: サーバ・端末PC"), e.getMessage());
        noVendor.put("category", "server");
        noVendor.put("location", " ");
        e = assertThrows(ComplianceException.class, () -> Registers.validate(RegisterKind.DEVICES, noVendor));
        assertEquals("設置場所を入力してください / enter Location", e.getMessage());
        noVendor.put("location", "x".repeat(201));
        e = assertThrows(ComplianceException.class, () -> Registers.validate(RegisterKind.DEVICES, noVendor));
        assertTrue(e.getMessage().startsWith("設置場所は 200 文字までです"), e.getMessage());
        e = assertThrows(ComplianceException.class, () -> Registers.validate(RegisterKind.INCIDENTS,
                Map.of("title", "不審なメール", "found", "2026-05-01", "status", "closed")));
        assertTrue(e.getMessage().startsWith("終結した場合は終結日を入力してください"), e.getMessage());
        e = assertThrows(ComplianceException.class, () -> Registers.validate(RegisterKind.TRAINING,
                Map.of("title", "研修", "kind", "定期", "date", "昨日", "audience", "全職員")));
        assertEquals("実施日は 2026-04-01 の形で入力してください / give Held on as 2026-04-01", e.getMessage());
        e = assertThrows(ComplianceException.class, () -> Registers.validate(RegisterKind.CONTACTS,
                Map.of("organisation", "県警", "category", "police", "order", "1", "phone", "<script>", "when", "常に")));
        assertTrue(e.getMessage().startsWith("電話番号は数字とハイフンで"), e.getMessage());
        assertEquals("12", Registers.validate(RegisterKind.TRAINING, Map.of("title", "研修", "kind", "periodic",
                "date", "2026-05-01", "audience", "全職員", "attendees", "１２")).get("attendees"), "full-width digits");
    }
}
