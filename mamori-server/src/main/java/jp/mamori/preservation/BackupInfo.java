package jp.mamori.preservation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a base backup is, written as its last part ({@code base/<label>/backup.info}): a backup without it did not
 * finish. A few {@code key value} lines, then one {@code part <name> <size> <sha256>} line per other part. Read
 * strictly and within 64 KiB, so a foreign or tampered file is refused in one line.
 */
record BackupInfo(String label, long systemIdentifier, int timeline, String startLsn, String stopLsn,
                  String startWal, String stopWal, long walSegmentSize, int serverVersion, Instant startTime,
                  Instant stopTime, List<PartInfo> parts) {
    static final String HEADER = "mamori-base-backup 1";
    static final String NAME = "backup.info";
    private static final int MAX_BYTES = 64 * 1024;

    /** One part of a backup: its name, size in bytes and SHA-256 (hex). */
    record PartInfo(String name, long size, String sha256) {
    }

    static String prefix(String label) {
        return "base/" + label + "/";
    }

    static String partName(String label) {
        return prefix(label) + NAME;
    }

    byte[] encode() {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        fields().forEach((k, v) -> b.append(k).append(' ').append(v).append('\n'));
        for (PartInfo p : parts) {
            b.append("part ").append(p.name()).append(' ').append(p.size()).append(' ').append(p.sha256()).append('\n');
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private Map<String, String> fields() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("label", label);
        m.put("system-identifier", Long.toUnsignedString(systemIdentifier));
        m.put("timeline", Integer.toString(timeline));
        m.put("start-lsn", startLsn);
        m.put("stop-lsn", stopLsn);
        m.put("start-wal", startWal);
        m.put("stop-wal", stopWal);
        m.put("wal-segment-size", Long.toString(walSegmentSize));
        m.put("server-version", Integer.toString(serverVersion));
        m.put("start-time", startTime.toString());
        m.put("stop-time", stopTime.toString());
        return m;
    }

    /** Reads {@code base/<label>/backup.info} from {@code in}; throws one line naming the part when it is not one. */
    static BackupInfo read(InputStream in, String part) throws IOException {
        byte[] bytes = in.readNBytes(MAX_BYTES + 1);
        if (bytes.length > MAX_BYTES) {
            throw bad(part, "larger than 64 KiB");
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        String[] lines = text.split("\n", -1);
        if (lines.length < 2 || !lines[0].equals(HEADER) || !lines[lines.length - 1].isEmpty()) {
            throw bad(part, "not a Mamori base backup description, or cut short");
        }
        Map<String, String> f = new LinkedHashMap<>();
        List<PartInfo> parts = new ArrayList<>();
        for (int i = 1; i < lines.length - 1; i++) {
            String[] w = lines[i].split(" ", -1);
            if (w.length == 4 && w[0].equals("part")) {
                PartSink.checkName(w[1]);
                if (!w[3].matches("[0-9a-f]{64}")) {
                    throw bad(part, "line " + (i + 1) + " has no SHA-256");
                }
                parts.add(new PartInfo(w[1], number(w[2], part), w[3]));
            } else if (w.length == 2 && !f.containsKey(w[0])) {
                f.put(w[0], w[1]);
            } else {
                throw bad(part, "line " + (i + 1) + " is not understood");
            }
        }
        try {
            BackupInfo info = new BackupInfo(need(f, "label", part), Long.parseUnsignedLong(need(f, "system-identifier",
                    part)), Integer.parseInt(need(f, "timeline", part)), need(f, "start-lsn", part),
                    need(f, "stop-lsn", part), need(f, "start-wal", part), need(f, "stop-wal", part),
                    Long.parseLong(need(f, "wal-segment-size", part)),
                    Integer.parseInt(need(f, "server-version", part)),
                    Instant.parse(need(f, "start-time", part)), Instant.parse(need(f, "stop-time", part)),
                    List.copyOf(parts));
            if (f.size() != info.fields().size()) {
                throw bad(part, "holds unknown fields");
            }
            long seg = info.walSegmentSize();
            if (!WalNames.isSegment(info.startWal()) || !WalNames.isSegment(info.stopWal()) || seg < (1 << 20)
                    || seg > (1L << 30) || Long.bitCount(seg) != 1 || info.timeline() < 1
                    || info.startWal().compareTo(info.stopWal()) > 0) {
                throw bad(part, "its WAL fields are inconsistent");
            }
            return info;
        } catch (NumberFormatException | java.time.format.DateTimeParseException e) {
            throw bad(part, "a field is not a valid value");
        }
    }

    private static String need(Map<String, String> f, String key, String part) {
        String v = f.get(key);
        if (v == null || v.isEmpty()) {
            throw bad(part, "field " + key + " is missing");
        }
        return v;
    }

    private static long number(String s, String part) {
        try {
            long v = Long.parseLong(s);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(part, "a part size is not a number");
        }
    }

    private static BackupException bad(String part, String what) {
        return new BackupException("部品 " + part + " を読めません / part " + part + " is not valid: " + what);
    }
}
