package jp.mamori.chart;

import jp.mamori.chart.JpDates.Lang;
import jp.mamori.chart.TrendChart.Point;
import jp.mamori.chart.TrendChart.Series;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrendChartTest {
    private static final String SVG = "http://www.w3.org/2000/svg";
    private final JpDates jst = JpDates.tokyo();

    private static Document parse(String svg) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<Element> all(Document d, String name) {
        NodeList nl = d.getElementsByTagNameNS(SVG, name);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nl.getLength(); i++) {
            out.add((Element) nl.item(i));
        }
        return out;
    }

    private static Series hba1c() {
        return new Series("HbA1c", "%", List.of(
                new Point(Instant.parse("2026-03-01T00:00:00Z"), 7.4),
                new Point(Instant.parse("2026-01-10T00:00:00Z"), 6.0),
                new Point(Instant.parse("2026-06-01T00:00:00Z"), 6.9),
                new Point(Instant.parse("2026-11-20T00:00:00Z"), 5.8)), 4.6, 6.2);
    }

    @Test
    void theChartIsAnAccessibleImageWithTitleAndDescription() throws Exception {
        Document d = parse(TrendChart.svg(hba1c(), "hba1c", jst, Lang.JA));
        Element root = d.getDocumentElement();
        assertEquals("svg", root.getLocalName());
        assertEquals("img", root.getAttribute("role"));
        assertTrue(root.getAttribute("aria-label").startsWith("HbA1c (%): 2026年1月10日から2026年11月20日までの4件"),
                root.getAttribute("aria-label"));
        assertEquals("hba1c-title hba1c-desc", root.getAttribute("aria-labelledby"));
        Element title = all(d, "title").get(0);
        assertEquals("hba1c-title", title.getAttribute("id"));
        assertEquals("HbA1c (%)", title.getTextContent());
        Element desc = all(d, "desc").get(0);
        assertTrue(desc.getTextContent().contains("最新値 5.8 %"), desc.getTextContent());
        assertTrue(desc.getTextContent().contains("基準範囲 4.6–6.2 %"), desc.getTextContent());
        assertTrue(all(d, "script").isEmpty());
        assertFalse(TrendChart.svg(hba1c(), "x", jst, Lang.JA).contains("style="));
    }

    @Test
    void pointsFollowTimeAndValueAndOutOfRangeOnesAreMarked() throws Exception {
        Document d = parse(TrendChart.svg(hba1c(), "c", jst, Lang.JA));
        List<Element> points = all(d, "circle");
        assertEquals(4, points.size());
        List<String> values = points.stream().map(p -> p.getAttribute("data-value")).toList();
        assertEquals(List.of("6", "7.4", "6.9", "5.8"), values); // sorted by time
        double previousX = -1;
        for (Element p : points) {
            double x = Double.parseDouble(p.getAttribute("cx"));
            assertTrue(x > previousX);
            previousX = x;
        }
        // a higher value is drawn higher (smaller y)
        assertTrue(Double.parseDouble(points.get(1).getAttribute("cy")) < Double.parseDouble(points.get(0).getAttribute("cy")));
        List<Element> out = points.stream().filter(p -> p.getAttribute("class").contains("out-of-range")).toList();
        assertEquals(2, out.size());
        assertEquals("2026年3月1日 09:00 7.4 % H", out.get(0).getElementsByTagNameNS(SVG, "title").item(0).getTextContent());
        Element band = all(d, "rect").stream().filter(r -> r.getAttribute("class").equals("reference-range"))
                .findFirst().orElseThrow();
        double bandTop = Double.parseDouble(band.getAttribute("y"));
        double bandBottom = bandTop + Double.parseDouble(band.getAttribute("height"));
        double inRangeY = Double.parseDouble(points.get(0).getAttribute("cy"));
        assertTrue(inRangeY > bandTop && inRangeY < bandBottom, "6.0 lies in the band");
        assertTrue(Double.parseDouble(points.get(1).getAttribute("cy")) < bandTop, "7.4 lies above the band");
        assertEquals(4, all(d, "polyline").get(0).getAttribute("points").split(" ").length);
    }

    @Test
    void axesCarryDatesAndTheUnit() throws Exception {
        Document d = parse(TrendChart.svg(hba1c(), "c", jst, Lang.JA));
        List<String> texts = all(d, "text").stream().map(Element::getTextContent).toList();
        assertTrue(texts.contains("2026/1/10"), texts.toString());
        assertTrue(texts.contains("2026/11/20"), texts.toString());
        assertTrue(texts.contains("%"), texts.toString());
        assertTrue(texts.containsAll(List.of("4", "5", "6", "7", "8")), texts.toString()); // value ticks cover 4.6–7.4
        Document en = parse(TrendChart.svg(hba1c(), "c", jst, Lang.EN));
        List<String> enTexts = all(en, "text").stream().map(Element::getTextContent).toList();
        assertTrue(enTexts.contains("10 Jan 26"), enTexts.toString());
        assertTrue(en.getDocumentElement().getAttribute("aria-label").contains("4 values from 10 Jan 2026"));
    }

    @Test
    void everyTextIsEscaped() throws Exception {
        Series evil = new Series("<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
                List.of(new Point(Instant.parse("2026-01-01T00:00:00Z"), 1)), null, null);
        String svg = TrendChart.svg(evil, "a\"><script>", jst, Lang.JA);
        Document d = parse(svg); // well-formed despite the input
        assertTrue(all(d, "script").isEmpty());
        assertTrue(d.getElementsByTagName("img").getLength() == 0);
        assertEquals("<script>alert(1)</script> (\"><img src=x onerror=alert(1)>)", all(d, "title").get(0).getTextContent());
        assertFalse(svg.contains("<script"));
    }

    @Test
    void anEmptySeriesSaysSoAndASinglePointStillDraws() throws Exception {
        Document empty = parse(TrendChart.svg(new Series("CRP", "mg/dL", List.of(), 0.0, 0.3), "e", jst, Lang.JA));
        assertTrue(all(empty, "text").stream().anyMatch(t -> t.getTextContent().equals("データなし")));
        Document one = parse(TrendChart.svg(new Series("CRP", "mg/dL",
                List.of(new Point(Instant.parse("2026-01-01T00:00:00Z"), 0.1), new Point(Instant.now(), Double.NaN)),
                null, null), "o", jst, Lang.JA));
        assertEquals(1, all(one, "circle").size());
    }

    @Test
    void valuesAreWrittenWithoutNoise() {
        assertEquals("120", TrendChart.value(120.0));
        assertEquals("7.2", TrendChart.value(7.2));
        assertEquals("0.03", TrendChart.value(0.03));
        assertEquals(0.5, TrendChart.niceStep(0.4));
        assertEquals(20.0, TrendChart.niceStep(17));
    }
}
