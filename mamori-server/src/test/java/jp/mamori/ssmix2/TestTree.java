package jp.mamori.ssmix2;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes SS-MIX2 standardized storage trees for tests and the import benchmark: HL7 v2.5 messages as SS-MIX2 systems
 * write them (MSH-18 {@code ~ISO IR87}, MSH-20 {@code ISO 2022-1994}, segments ended by CR), encoded in ISO-2022-JP
 * by the JDK, under {@code ID[0:3]/ID[3:6]/ID/DATE/TYPE/} with the standard file names.
 */
final class TestTree {
    static final Charset JIS = Charset.forName("ISO-2022-JP");
    private final Path root;
    private int control;

    TestTree(Path root) {
        this.root = root;
    }

    Path root() {
        return root;
    }

    static String msh(String type, String control) {
        return "MSH|^~\\&|OLDEHR|HOSP|GW|RCV|20240105093000||" + type + "|" + control + "|P|2.5||||||~ISO IR87||"
                + "ISO 2022-1994|SS-MIX2_1.20^SS-MIX2^1.2.392.200250.2.1.100.1.2.120^ISO";
    }

    static String pid(String patientId) {
        return "PID|0001||" + patientId + "^^^^PI";
    }

    /** Writes {@code segments} (joined by CR) as ISO-2022-JP to the file the name gives; returns its path. */
    Path write(String patientId, String date, String dataType, String orderNo, String flag, List<String> segments)
            throws IOException {
        return writeBytes(patientId, date, dataType, orderNo, flag,
                String.join("\r", segments).concat("\r").getBytes(JIS));
    }

    Path writeBytes(String patientId, String date, String dataType, String orderNo, String flag, byte[] bytes)
            throws IOException {
        Path dir = root.resolve(patientId.substring(0, 3)).resolve(patientId.substring(3, 6)).resolve(patientId)
                .resolve(date).resolve(dataType);
        Files.createDirectories(dir);
        String stamp = String.format("20240105093000%03d", ++control % 1000);
        Path f = dir.resolve(patientId + "_" + date + "_" + dataType + "_" + orderNo + "_" + stamp + "_01_" + flag);
        Files.write(f, bytes);
        return f;
    }

    String nextControl() {
        return String.format("MSG%08d", ++control);
    }

    Path adt00(String patientId, String kanjiFamily, String kanjiGiven, String kanaFamily, String kanaGiven,
               String birth, String sex, String address) throws IOException {
        return write(patientId, "-", "ADT-00", "-", "1", List.of(
                msh("ADT^A08^ADT_A01", nextControl()),
                "EVN||20240105093000",
                pid(patientId) + "||" + kanjiFamily + "^" + kanjiGiven + "^^^^^L^I~" + kanaFamily + "^" + kanaGiven
                        + "^^^^^L^P||" + birth + "|" + sex + "|||^^^^100-0001^JPN^H^" + address
                        + "||^PRN^PH^^^^^^^^^03-1234-5678",
                "PV1|0001|N"));
    }

    Path adt61(String patientId) throws IOException {
        return write(patientId, "-", "ADT-61", "-", "1", List.of(
                msh("ADT^A60^ADT_A60", nextControl()),
                "EVN||20240105093000",
                pid(patientId),
                "PV1|0001|N",
                "IAM|1|DA|1100001^ペニシリン系抗生物質^99XYZ|SV|発疹|A|||||||20200301",
                "IAM|2|FA|2100002^卵^99XYZ|MO|じんましん|A|||||||20210415"));
    }

    Path omp01(String patientId, String date, String orderNo) throws IOException {
        return write(patientId, date, "OMP-01", orderNo, "1", List.of(
                msh("RDE^O11^RDE_O11", nextControl()),
                pid(patientId),
                "PV1|0001|O",
                "ORC|NW|" + orderNo + "|||||||" + date + "100000|||1234^医師^一郎",
                "RXE||620004422^ロキソニン錠６０ｍｇ^HOT9|1||TAB^錠^MR9P|||||3|TAB^錠^MR9P",
                "TQ1|1||1013044400000000^内服・経口・１日３回朝昼夕食後^JAMISDP01|||5^D|" + date + "100000",
                "RXR|PO^口^HL70162",
                "ORC|NW|" + orderNo + "|||||||" + date + "100000|||1234^医師^一郎",
                "RXE||610406079^ムコスタ錠１００ｍｇ^HOT9|1||TAB^錠^MR9P|||||3|TAB^錠^MR9P",
                "TQ1|1||1013044400000000^内服・経口・１日３回朝昼夕食後^JAMISDP01|||5^D|" + date + "100000",
                "RXR|PO^口^HL70162"));
    }

    Path omp02(String patientId, String date, String orderNo) throws IOException {
        return write(patientId, date, "OMP-02", orderNo, "1", List.of(
                msh("RDE^O11^RDE_O11", nextControl()),
                pid(patientId),
                "PV1|0001|I",
                "ORC|NW|" + orderNo + "|||||||" + date + "140000|||5678^看護^花子",
                "RXE||620007296^生理食塩液５００ｍＬ^HOT9|500||ML^mL^MR9P|||||1|HON^本^MR9P",
                "TQ1|1||NOW^１回^JAMISDP01||||" + date + "140000",
                "RXR|IV^静脈内^HL70162"));
    }

    Path oml11(String patientId, String date, String orderNo) throws IOException {
        return write(patientId, date, "OML-11", orderNo, "1", List.of(
                msh("OUL^R22^OUL_R22", nextControl()),
                pid(patientId),
                "PV1|0001|O",
                "SPM|1|||023^血清^JHSD0002",
                "OBR|1|" + orderNo + "||B001^生化学検査^99XYZ|||" + date + "083000",
                "ORC|SC|" + orderNo,
                "OBX|1|NM|3D010000001926101^グルコース^JC10||98|mg/dL^mg/dL^ISO+|70-109|N|||F|||" + date + "083000",
                "OBX|2|NM|3B035000002327201^ＡＳＴ^JC10||45|U/L^U/L^ISO+|13-30|H|||F|||" + date + "083000",
                "OBX|3|ST|5A010000001930151^ＨＢｓ抗原定性^JC10||陰性||||||F|||" + date + "083000"));
    }

    /** A patient's whole history: basic information, allergies, two prescriptions, an injection, two results. */
    void history(String patientId, String kanjiFamily, String kanjiGiven, String kanaFamily, String kanaGiven,
                 int seed) throws IOException {
        adt00(patientId, kanjiFamily, kanjiGiven, kanaFamily, kanaGiven, "1980010" + (1 + seed % 9),
                seed % 2 == 0 ? "M" : "F", "東京都千代田区千代田１丁目" + (1 + seed % 20) + "番");
        adt61(patientId);
        omp01(patientId, "20240105", "1" + patientId.substring(patientId.length() - 6) + "01");
        omp01(patientId, "20240212", "1" + patientId.substring(patientId.length() - 6) + "02");
        omp02(patientId, "20240213", "2" + patientId.substring(patientId.length() - 6) + "01");
        oml11(patientId, "20240105", "3" + patientId.substring(patientId.length() - 6) + "01");
        oml11(patientId, "20240212", "3" + patientId.substring(patientId.length() - 6) + "02");
    }
}
