package jp.mamori.identity;

import io.nayuki.qrcodegen.QrCode;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.StringReader;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class QrTest {
    private static final String URI = Totp.otpauthUri("まもり病院", "tanaka", new byte[20]);

    @Test
    void theSvgIsWellFormedXmlWithAnAccessibleLabel() throws Exception {
        Element svg = parse(Qr.svg(URI, "二要素認証の設定 / Two-factor setup")).getDocumentElement();
        assertEquals("svg", svg.getLocalName());
        assertEquals("http://www.w3.org/2000/svg", svg.getNamespaceURI());
        assertEquals("img", svg.getAttribute("role"));
        assertEquals("二要素認証の設定 / Two-factor setup", svg.getAttribute("aria-label"));
        assertEquals(Qr.DEFAULT_LABEL, parse(Qr.svg(URI)).getDocumentElement().getAttribute("aria-label"));
    }

    @Test
    void theSvgDrawsExactlyTheModulesOfTheCodeInsideAFourModuleBorder() throws Exception {
        QrCode expected = QrCode.encodeText(URI, QrCode.Ecc.MEDIUM);
        Document doc = parse(Qr.svg(URI));
        int side = expected.size + 8;
        assertEquals("0 0 " + side + " " + side, doc.getDocumentElement().getAttribute("viewBox"));
        NodeList paths = doc.getElementsByTagNameNS("http://www.w3.org/2000/svg", "path");
        assertEquals(1, paths.getLength(), "one compact path");
        boolean[][] drawn = new boolean[side][side];
        Matcher m = Pattern.compile("M(\\d+),(\\d+)h(\\d+)v1h-(\\d+)z").matcher(((Element) paths.item(0)).getAttribute("d"));
        int consumed = 0;
        while (m.find()) {
            assertEquals(consumed, m.start(), "nothing but runs in the path");
            consumed = m.end();
            int x = Integer.parseInt(m.group(1));
            int y = Integer.parseInt(m.group(2));
            int run = Integer.parseInt(m.group(3));
            assertEquals(run, Integer.parseInt(m.group(4)));
            for (int i = 0; i < run; i++) {
                assertFalse(drawn[y][x + i], "drawn once");
                drawn[y][x + i] = true;
            }
        }
        assertEquals(((Element) paths.item(0)).getAttribute("d").length(), consumed);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                boolean dark = x >= 4 && y >= 4 && x < side - 4 && y < side - 4 && expected.getModule(x - 4, y - 4);
                assertEquals(dark, drawn[y][x], "module " + x + "," + y);
            }
        }
    }

    @Test
    void theSvgHasNoScriptStyleOrExternalReference() {
        String svg = Qr.svg(URI);
        for (String banned : new String[]{"<script", "<style", "href", "url(", "<foreignObject", "<image", "<use",
                "<!"}) {
            assertFalse(svg.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").contains(banned), banned);
        }
        assertFalse(svg.matches("(?s).*\\son[a-zA-Z]+\\s*=.*"), "no event handler attributes");
    }

    @Test
    void theLabelIsEscaped() throws Exception {
        String svg = Qr.svg("x", "\"><script>alert(1)</script>&");
        assertFalse(svg.contains("<script>"));
        assertEquals("\"><script>alert(1)</script>&", parse(svg).getDocumentElement().getAttribute("aria-label"));
    }

    @Test
    void textOverAThousandCharactersIsRefused() {
        Qr.svg("a".repeat(1000));
        assertThrows(IllegalArgumentException.class, () -> Qr.svg("a".repeat(1001)));
        assertThrows(IllegalArgumentException.class, () -> Qr.svg(""));
        assertThrows(IllegalArgumentException.class, () -> Qr.svg(null));
    }

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        return f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
    }
}
