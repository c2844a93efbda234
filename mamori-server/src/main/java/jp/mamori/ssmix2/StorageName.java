package jp.mamori.ssmix2;

import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a message lies in SS-MIX2 standardized storage (標準化ストレージ) and what its file name says:
 * {@code ROOT/ID[0:3]/ID[3:6]/ID/DATE/TYPE/ID_DATE_TYPE_ORDER_TIMESTAMP_DEPT_FLAG}, DATE {@code yyyyMMdd} or
 * {@code -} for data that belongs to no day (the patient's basic information, allergies). The order number is the
 * placer order number ({@code -} or all nines when there is none), the timestamp the message's creation time
 * ({@code yyyyMMddHHmmss} followed by up to three digits of fraction), the department code {@code -} when there is
 * none, the condition flag {@code 1} for a message in force and {@code 0} for one withdrawn (取消・削除).
 */
record StorageName(String patientId, String date, String dataType, String orderNo, String timestamp,
                   String department, String conditionFlag) {

    /** The data types this import maps (others are reported and left alone). */
    static final Map<String, String> IMPORTED = Map.of(
            "ADT-00", "患者基本情報 / patient",
            "ADT-61", "アレルギー情報 / allergies",
            "OMP-01", "処方オーダ / prescription orders",
            "OMP-02", "注射オーダ / injection orders",
            "OML-11", "検体検査結果 / laboratory results");

    /** The other data types of standardized storage (guideline 1.2, table of stored data): known, not yet imported. */
    static final java.util.Set<String> KNOWN = java.util.Set.of("ADT-01", "ADT-12", "ADT-21", "ADT-22", "ADT-31",
            "ADT-32", "ADT-41", "ADT-42", "ADT-51", "ADT-52", "PPR-01", "OMD", "OMP-11", "OMP-12", "OML-01",
            "OMG-01", "OMG-02", "OMG-03", "OMG-11", "OMG-12", "OMG-13");

    private static final Pattern ID = Pattern.compile("[0-9A-Za-z]{6,20}");
    private static final Pattern DATE = Pattern.compile("-|\\d{8}");
    private static final Pattern TYPE = Pattern.compile("[A-Z]{3}(-\\d{2})?");
    private static final Pattern ORDER = Pattern.compile("-|[0-9A-Za-z]{1,20}");
    private static final Pattern TIMESTAMP = Pattern.compile("\\d{14,17}");
    private static final Pattern DEPT = Pattern.compile("-|[0-9A-Za-z]{1,10}");
    private static final Pattern NAME = Pattern.compile("([^_]+)_([^_]+)_([^_]+)_([^_]+)_([^_]+)_([^_]+)_([^_.]+)");

    /** The name parsed, or empty with why not (in the reason). */
    static Optional<StorageName> parse(String fileName, StringBuilder why) {
        Matcher m = NAME.matcher(fileName);
        if (!m.matches()) {
            why.append("ファイル名が SS-MIX2 の形式ではありません / the file name is not"
                    + " PATIENTID_DATE_TYPE_ORDER_TIMESTAMP_DEPT_FLAG");
            return Optional.empty();
        }
        StorageName n = new StorageName(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6),
                m.group(7));
        String bad = !ID.matcher(n.patientId).matches() ? "patient ID"
                : !DATE.matcher(n.date).matches() || !validDate(n.date) ? "date"
                : !TYPE.matcher(n.dataType).matches() ? "data type"
                : !ORDER.matcher(n.orderNo).matches() ? "order number"
                : !TIMESTAMP.matcher(n.timestamp).matches() ? "timestamp"
                : !DEPT.matcher(n.department).matches() ? "department code"
                : !(n.conditionFlag.equals("0") || n.conditionFlag.equals("1")) ? "condition flag" : null;
        if (bad != null) {
            why.append("ファイル名の項目が不正です / the file name's ").append(bad).append(" is not valid");
            return Optional.empty();
        }
        return Optional.of(n);
    }

    private static boolean validDate(String d) {
        if (d.equals("-")) {
            return true;
        }
        try {
            java.time.LocalDate.parse(d, java.time.format.DateTimeFormatter.BASIC_ISO_DATE);
            return true;
        } catch (java.time.format.DateTimeParseException e) {
            return false;
        }
    }

    /** The folders this name must lie in, below the root: {@code ID[0:3]/ID[3:6]/ID/DATE/TYPE}. */
    String folder() {
        return patientId.substring(0, 3) + "/" + patientId.substring(3, 6) + "/" + patientId + "/" + date + "/"
                + dataType;
    }

    String fileName() {
        return patientId + "_" + date + "_" + dataType + "_" + orderNo + "_" + timestamp + "_" + department + "_"
                + conditionFlag;
    }

    /** The path below the root, with forward slashes. */
    String relativePath() {
        return folder() + "/" + fileName();
    }

    /** A placer order number, or null when the name carries none. */
    String order() {
        return orderNo.equals("-") || orderNo.chars().allMatch(c -> c == '9') ? null : orderNo;
    }
}
