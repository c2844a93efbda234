package jp.mamori.chart;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The side-by-side difference between two versions of a text (a note's section, a whole note): lines are
 * compared first, then the characters of each changed line, because Japanese has no spaces to compare words
 * by. Characters are Unicode code points, so a surrogate pair (an emoji, a rare kanji) is never split.
 *
 * <p>Uses our own {@link Myers} (linear space, O((N+M)D) time with a work budget) rather than a library: the
 * code is short, and it gives the two things a library does not: code points instead of UTF-16 units, and a
 * bound on the work for wholly rewritten text, which is then shown as replaced.
 */
public final class TextDiff {
    /** How a piece of text changed. */
    public enum Mark { EQUAL, DELETED, INSERTED }

    /** A run of text with one mark. */
    public record Segment(Mark mark, String text) {
    }

    /** What happened to a row: kept, changed (both sides shown, with the changed characters marked), or one-sided. */
    public enum RowKind { EQUAL, CHANGED, DELETED, INSERTED }

    /**
     * One row of the side-by-side view. Line numbers count from 1; 0 on the side that has no line (an inserted
     * row has no left line), whose segment list is then empty.
     */
    public record Row(RowKind kind, int leftLine, List<Segment> left, int rightLine, List<Segment> right) {
        public Row {
            left = List.copyOf(left);
            right = List.copyOf(right);
        }
    }

    /** The rows, and how many characters (code points) were deleted and inserted. */
    public record Result(List<Row> rows, int deletedChars, int insertedChars) {
        public Result {
            rows = List.copyOf(rows);
        }

        public boolean identical() {
            return rows.stream().allMatch(r -> r.kind() == RowKind.EQUAL);
        }

        /** The difference as an HTML table; every piece of text is escaped. */
        public String toHtml(String beforeLabel, String afterLabel) {
            return TextDiff.toHtml(this, beforeLabel, afterLabel);
        }
    }

    /** Work allowed for the line comparison and for each line's character comparison (about 10 ms and 2 ms). */
    static final long LINE_BUDGET = 20_000_000L;
    static final long CHAR_BUDGET = 4_000_000L;

    private TextDiff() {
    }

    /** Compares {@code before} with {@code after}; null counts as empty. Line ends {@code \r\n} count as {@code \n}. */
    public static Result compare(String before, String after) {
        List<String> left = lines(before);
        List<String> right = lines(after);
        Map<String, Integer> ids = new HashMap<>();
        int[] a = left.stream().mapToInt(l -> ids.computeIfAbsent(l, k -> ids.size())).toArray();
        int[] b = right.stream().mapToInt(l -> ids.computeIfAbsent(l, k -> ids.size())).toArray();
        List<Myers.Edit> edits = Myers.diff(a, b, LINE_BUDGET);
        if (edits == null) { // too different to be worth aligning: everything changed
            edits = new ArrayList<>();
            for (int i = 0; i < a.length; i++) {
                edits.add(new Myers.Edit(Myers.Op.DELETE, i, 0));
            }
            for (int j = 0; j < b.length; j++) {
                edits.add(new Myers.Edit(Myers.Op.INSERT, a.length, j));
            }
        }
        Builder out = new Builder();
        List<Integer> deleted = new ArrayList<>();
        List<Integer> inserted = new ArrayList<>();
        for (Myers.Edit e : edits) {
            switch (e.op()) {
                case DELETE -> deleted.add(e.x());
                case INSERT -> inserted.add(e.y());
                case EQUAL -> {
                    out.changeBlock(left, right, deleted, inserted);
                    String text = left.get(e.x());
                    out.rows.add(new Row(RowKind.EQUAL, e.x() + 1, segments(Mark.EQUAL, text), e.y() + 1,
                            segments(Mark.EQUAL, text)));
                }
            }
        }
        out.changeBlock(left, right, deleted, inserted);
        return new Result(out.rows, out.deletedChars, out.insertedChars);
    }

    private static final class Builder {
        final List<Row> rows = new ArrayList<>();
        int deletedChars;
        int insertedChars;

        /** Pairs the deleted and inserted lines of one block in order; extra lines stand alone. */
        void changeBlock(List<String> left, List<String> right, List<Integer> deleted, List<Integer> inserted) {
            int pairs = Math.min(deleted.size(), inserted.size());
            for (int i = 0; i < pairs; i++) {
                int x = deleted.get(i);
                int y = inserted.get(i);
                List<Segment> l = new ArrayList<>();
                List<Segment> r = new ArrayList<>();
                characters(left.get(x), right.get(y), l, r);
                rows.add(new Row(RowKind.CHANGED, x + 1, l, y + 1, r));
            }
            for (int i = pairs; i < deleted.size(); i++) {
                String text = left.get(deleted.get(i));
                deletedChars += text.codePointCount(0, text.length());
                rows.add(new Row(RowKind.DELETED, deleted.get(i) + 1, segments(Mark.DELETED, text), 0, List.of()));
            }
            for (int i = pairs; i < inserted.size(); i++) {
                String text = right.get(inserted.get(i));
                insertedChars += text.codePointCount(0, text.length());
                rows.add(new Row(RowKind.INSERTED, 0, List.of(), inserted.get(i) + 1, segments(Mark.INSERTED, text)));
            }
            deleted.clear();
            inserted.clear();
        }

        void characters(String before, String after, List<Segment> left, List<Segment> right) {
            int[] a = before.codePoints().toArray();
            int[] b = after.codePoints().toArray();
            List<Myers.Edit> edits = Myers.diff(a, b, CHAR_BUDGET);
            if (edits == null) {
                left.addAll(segments(Mark.DELETED, before));
                right.addAll(segments(Mark.INSERTED, after));
                deletedChars += a.length;
                insertedChars += b.length;
                return;
            }
            Runs l = new Runs(left);
            Runs r = new Runs(right);
            for (Myers.Edit e : edits) {
                switch (e.op()) {
                    case EQUAL -> {
                        l.add(Mark.EQUAL, a[e.x()]);
                        r.add(Mark.EQUAL, b[e.y()]);
                    }
                    case DELETE -> {
                        l.add(Mark.DELETED, a[e.x()]);
                        deletedChars++;
                    }
                    case INSERT -> {
                        r.add(Mark.INSERTED, b[e.y()]);
                        insertedChars++;
                    }
                }
            }
            l.flush();
            r.flush();
        }
    }

    /** Collects code points into segments, one per run of the same mark. */
    private static final class Runs {
        private final List<Segment> out;
        private final StringBuilder text = new StringBuilder();
        private Mark mark;

        Runs(List<Segment> out) {
            this.out = out;
        }

        void add(Mark m, int codePoint) {
            if (m != mark) {
                flush();
                mark = m;
            }
            text.appendCodePoint(codePoint);
        }

        void flush() {
            if (!text.isEmpty()) {
                out.add(new Segment(mark, text.toString()));
                text.setLength(0);
            }
        }
    }

    private static List<Segment> segments(Mark mark, String text) {
        return text.isEmpty() ? List.of() : List.of(new Segment(mark, text));
    }

    static List<String> lines(String text) {
        if (text == null || text.isEmpty()) {
            return List.of();
        }
        String t = text.replace("\r\n", "\n").replace('\r', '\n');
        if (t.endsWith("\n")) {
            t = t.substring(0, t.length() - 1);
        }
        return List.of(t.split("\n", -1));
    }

    static String toHtml(Result result, String beforeLabel, String afterLabel) {
        StringBuilder h = new StringBuilder(256 + result.rows().size() * 120);
        h.append("<table class=\"diff\"><thead><tr><th scope=\"col\" class=\"ln\">行</th><th scope=\"col\">")
                .append(Html.escape(beforeLabel)).append("</th><th scope=\"col\" class=\"ln\">行</th><th scope=\"col\">")
                .append(Html.escape(afterLabel)).append("</th></tr></thead><tbody>");
        for (Row row : result.rows()) {
            h.append("<tr class=\"").append(row.kind().name().toLowerCase(java.util.Locale.ROOT)).append("\">");
            cell(h, row.leftLine(), row.left());
            cell(h, row.rightLine(), row.right());
            h.append("</tr>");
        }
        return h.append("</tbody></table>").toString();
    }

    private static void cell(StringBuilder h, int line, List<Segment> segments) {
        h.append("<td class=\"ln\">").append(line == 0 ? "" : Integer.toString(line)).append("</td><td>");
        for (Segment s : segments) {
            switch (s.mark()) {
                case EQUAL -> h.append(Html.escape(s.text()));
                case DELETED -> h.append("<del>").append(Html.escape(s.text())).append("</del>");
                case INSERTED -> h.append("<ins>").append(Html.escape(s.text())).append("</ins>");
            }
        }
        h.append("</td>");
    }
}
