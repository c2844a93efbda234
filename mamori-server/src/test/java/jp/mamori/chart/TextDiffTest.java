package jp.mamori.chart;

import jp.mamori.chart.TextDiff.Mark;
import jp.mamori.chart.TextDiff.Result;
import jp.mamori.chart.TextDiff.Row;
import jp.mamori.chart.TextDiff.RowKind;
import jp.mamori.chart.TextDiff.Segment;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextDiffTest {

    /** Both sides, rebuilt from the rows, must be the two texts: nothing lost, nothing invented. */
    private static void assertRebuilds(String before, String after, Result r) {
        String left = r.rows().stream().filter(x -> x.leftLine() > 0)
                .map(x -> x.left().stream().map(Segment::text).collect(Collectors.joining()))
                .collect(Collectors.joining("\n"));
        String right = r.rows().stream().filter(x -> x.rightLine() > 0)
                .map(x -> x.right().stream().map(Segment::text).collect(Collectors.joining()))
                .collect(Collectors.joining("\n"));
        assertEquals(String.join("\n", TextDiff.lines(before)), left);
        assertEquals(String.join("\n", TextDiff.lines(after)), right);
    }

    @Test
    void emptyTextsAreIdenticalAndHaveNoRows() {
        Result r = TextDiff.compare("", null);
        assertTrue(r.identical());
        assertTrue(r.rows().isEmpty());
        Result added = TextDiff.compare("", "主訴：頭痛");
        assertEquals(List.of(new Row(RowKind.INSERTED, 0, List.of(), 1, List.of(new Segment(Mark.INSERTED, "主訴：頭痛")))),
                added.rows());
        assertEquals(5, added.insertedChars());
    }

    @Test
    void identicalTextsAreAllEqualRows() {
        String t = "S: 頭痛\nO: 体温 36.8℃\nA: 緊張型頭痛\nP: 経過観察";
        Result r = TextDiff.compare(t, t);
        assertTrue(r.identical());
        assertEquals(4, r.rows().size());
        assertEquals(0, r.insertedChars() + r.deletedChars());
    }

    @Test
    void aChangedJapaneseLineMarksOnlyTheChangedCharacters() {
        Result r = TextDiff.compare("体温 37.5℃、頭痛あり\n次回2週後", "体温 36.8℃、頭痛なし\n次回2週後");
        Row first = r.rows().get(0);
        assertEquals(RowKind.CHANGED, first.kind());
        assertEquals(List.of(new Segment(Mark.EQUAL, "体温 3"), new Segment(Mark.DELETED, "7"),
                new Segment(Mark.EQUAL, "."), new Segment(Mark.DELETED, "5"), new Segment(Mark.EQUAL,
                        "℃、頭痛"), new Segment(Mark.DELETED, "あり")), first.left());
        assertEquals(List.of(new Segment(Mark.EQUAL, "体温 3"), new Segment(Mark.INSERTED, "6"),
                new Segment(Mark.EQUAL, "."), new Segment(Mark.INSERTED, "8"), new Segment(Mark.EQUAL,
                        "℃、頭痛"), new Segment(Mark.INSERTED, "なし")), first.right());
        assertEquals(RowKind.EQUAL, r.rows().get(1).kind());
        assertEquals(4, r.deletedChars());
        assertEquals(4, r.insertedChars());
    }

    @Test
    void insertedAndDeletedLinesKeepTheirLineNumbers() {
        Result r = TextDiff.compare("a\nb\nc", "a\nc\nd");
        assertEquals(List.of(RowKind.EQUAL, RowKind.DELETED, RowKind.EQUAL, RowKind.INSERTED),
                r.rows().stream().map(Row::kind).toList());
        assertEquals(2, r.rows().get(1).leftLine());
        assertEquals(3, r.rows().get(3).rightLine());
        assertRebuilds("a\nb\nc", "a\nc\nd", r);
    }

    @Test
    void surrogatePairsAreNeverSplit() {
        String before = "𠮷野家で😀を食べた";
        String after = "𠮷野家で😃を食べた";
        Result r = TextDiff.compare(before, after);
        assertEquals(List.of(new Segment(Mark.EQUAL, "𠮷野家で"), new Segment(Mark.DELETED, "😀"),
                new Segment(Mark.EQUAL, "を食べた")), r.rows().get(0).left());
        assertEquals(1, r.deletedChars());
        for (Row row : r.rows()) {
            for (Segment s : row.left()) {
                assertFalse(Character.isLowSurrogate(s.text().charAt(0)), s.text());
                assertFalse(Character.isHighSurrogate(s.text().charAt(s.text().length() - 1)), s.text());
            }
        }
    }

    @Test
    void windowsLineEndsCountAsNewlines() {
        assertTrue(TextDiff.compare("a\r\nb\r\n", "a\nb").identical());
    }

    @Test
    void theEditScriptIsMinimalOnRandomTexts() {
        Random random = new Random(42);
        for (int round = 0; round < 400; round++) {
            String a = randomText(random, random.nextInt(30));
            String b = random.nextBoolean() ? mutate(random, a) : randomText(random, random.nextInt(30));
            Result r = TextDiff.compare(a, b);
            assertRebuilds(a, b, r);
            if (!a.contains("\n") && !b.contains("\n") && !a.isEmpty() && !b.isEmpty()) {
                int lcs = lcs(a.codePoints().toArray(), b.codePoints().toArray());
                int na = a.codePointCount(0, a.length());
                int nb = b.codePointCount(0, b.length());
                if (!a.equals(b)) {
                    assertEquals(na - lcs, r.deletedChars(), a + " → " + b);
                    assertEquals(nb - lcs, r.insertedChars(), a + " → " + b);
                }
            }
        }
    }

    @Test
    void aTenThousandCharacterNoteWithScatteredEditsIsComparedExactly() {
        Random random = new Random(7);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 10_000) {
            sb.append(randomText(random, 60)).append('\n');
        }
        String before = sb.toString();
        String after = mutate(random, mutate(random, before));
        Result r = TextDiff.compare(before, after);
        assertRebuilds(before, after, r);
    }

    @Test
    void aWhollyRewrittenLongLineIsShownAsReplacedWithinTheWorkBudget() {
        Random random = new Random(3);
        String before = randomKanji(random, 10_000);
        String after = randomKanji(random, 10_000);
        Result r = TextDiff.compare(before, after);
        assertRebuilds(before, after, r);
        assertEquals(1, r.rows().size());
    }

    @Test
    void htmlEscapesEveryPieceOfText() {
        Result r = TextDiff.compare("<b>所見</b> & \"ok\"", "<script>alert('x')</script>");
        String html = r.toHtml("版 1 <v1>", "版 2");
        assertFalse(html.contains("<script>"), html);
        assertFalse(html.contains("<b>"), html);
        assertFalse(html.contains("<script") || html.contains("'x'"), html);
        assertTrue(html.contains("alert(&#39;x&#39;)"), html);
        assertTrue(html.contains("版 1 &lt;v1&gt;"), html);
        assertTrue(html.contains("<del>") && html.contains("<ins>"), html);
        assertEquals("a\uFFFDb", Html.escape("a\u0000b"));
        assertEquals("\uFFFD", Html.escape("\uD800"));
        assertEquals("😀", Html.escape("😀"));
    }

    private static String randomText(Random random, int length) {
        String alphabet = "あいうえお血圧頭痛 abc、。😀𠮷\n";
        int[] cps = alphabet.codePoints().toArray();
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            sb.appendCodePoint(cps[random.nextInt(cps.length)]);
        }
        return sb.toString();
    }

    private static String randomKanji(Random random, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            sb.appendCodePoint(0x4E00 + random.nextInt(2000));
        }
        return sb.toString();
    }

    private static String mutate(Random random, String s) {
        int[] cps = s.codePoints().toArray();
        StringBuilder sb = new StringBuilder();
        for (int cp : cps) {
            int dice = random.nextInt(20);
            if (dice == 0) {
                continue; // delete
            }
            if (dice == 1) {
                sb.append("挿入");
            }
            sb.appendCodePoint(cp);
        }
        return sb.toString();
    }

    private static int lcs(int[] a, int[] b) {
        int[][] t = new int[a.length + 1][b.length + 1];
        for (int i = 1; i <= a.length; i++) {
            for (int j = 1; j <= b.length; j++) {
                t[i][j] = a[i - 1] == b[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
            }
        }
        return t[a.length][b.length];
    }
}
