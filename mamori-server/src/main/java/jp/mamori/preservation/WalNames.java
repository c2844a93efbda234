package jp.mamori.preservation;

import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The names PostgreSQL gives archived WAL files: segments ({@code TTTTTTTTLLLLLLLLSSSSSSSS}, timeline, then the
 * segment number in two halves), timeline histories ({@code TTTTTTTT.history}), backup history files
 * ({@code <segment>.XXXXXXXX.backup}) and the partial last segment of a timeline ({@code <segment>.partial}).
 */
final class WalNames {
    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final Pattern ARCHIVED = Pattern.compile(
            "[0-9A-F]{24}|[0-9A-F]{8}\\.history|[0-9A-F]{24}\\.[0-9A-F]{8}\\.backup|[0-9A-F]{24}\\.partial");

    private WalNames() {
    }

    static boolean isSegment(String name) {
        return SEGMENT.matcher(name).matches();
    }

    /** Any file the archiver leaves in the spool (not its temporary files). */
    static boolean isArchived(String name) {
        return ARCHIVED.matcher(name).matches();
    }

    static boolean isHistory(String name) {
        return name.length() == 16 && name.endsWith(".history") && isArchived(name);
    }

    static int timeline(String name) {
        return (int) Long.parseLong(name.substring(0, 8), 16);
    }

    /** The segment number of segment {@code name} for segments of {@code segmentSize} bytes. */
    static long segmentNumber(String name, long segmentSize) {
        long high = Long.parseLong(name.substring(8, 16), 16);
        long low = Long.parseLong(name.substring(16, 24), 16);
        return high * segmentsPerId(segmentSize) + low;
    }

    static String segmentName(int timeline, long segno, long segmentSize) {
        long per = segmentsPerId(segmentSize);
        HexFormat hex = HexFormat.of().withUpperCase();
        return hex.toHexDigits(timeline) + hex.toHexDigits((int) (segno / per)) + hex.toHexDigits((int) (segno % per));
    }

    private static long segmentsPerId(long segmentSize) {
        return 0x1_0000_0000L / segmentSize;
    }
}
