package jp.mamori.identity;

import io.nayuki.qrcodegen.QrCode;

/**
 * QR codes as inline SVG, for showing an {@code otpauth://} link to an authenticator app. The SVG is one path of
 * dark modules on a white square, with no script, style sheet, font or external reference, so it can be placed
 * straight into a page served under a strict Content-Security-Policy. It has no width or height of its own (only a
 * {@code viewBox}); the page sizes it, and should keep it at least about 200 CSS pixels for phone cameras.
 *
 * <p>Error correction is at least MEDIUM (the library raises it when that fits in the same size), with the
 * four-module quiet zone around the code that the QR standard asks for.
 */
final class Qr {
    public static final int MAX_TEXT = 1000;
    public static final int BORDER = 4;
    public static final String DEFAULT_LABEL = "QRコード / QR code";

    private Qr() {
    }

    /** {@link #svg(String, String)} with {@link #DEFAULT_LABEL}. */
    public static String svg(String text) {
        return svg(text, DEFAULT_LABEL);
    }

    /**
     * An SVG document of {@code text} as a QR code, with {@code role="img"} and {@code ariaLabel} (escaped) for screen
     * readers. The text is at most {@value #MAX_TEXT} characters; a TOTP link is about a hundred.
     */
    public static String svg(String text, String ariaLabel) {
        if (text == null || text.isEmpty() || text.length() > MAX_TEXT) {
            throw new IllegalArgumentException("QR text must be 1 to " + MAX_TEXT + " characters");
        }
        QrCode qr = QrCode.encodeText(text, QrCode.Ecc.MEDIUM);
        int side = qr.size + 2 * BORDER;
        StringBuilder path = new StringBuilder(qr.size * qr.size);
        // One sub-path per horizontal run of dark modules: "M x,y h n v1 h -n z".
        for (int y = 0; y < qr.size; y++) {
            int x = 0;
            while (x < qr.size) {
                if (!qr.getModule(x, y)) {
                    x++;
                    continue;
                }
                int start = x;
                while (x < qr.size && qr.getModule(x, y)) {
                    x++;
                }
                int run = x - start;
                path.append('M').append(start + BORDER).append(',').append(y + BORDER)
                        .append('h').append(run).append("v1h-").append(run).append('z');
            }
        }
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " " + side + "\" role=\"img\""
                + " aria-label=\"" + escape(ariaLabel == null ? DEFAULT_LABEL : ariaLabel) + "\""
                + " shape-rendering=\"crispEdges\">"
                + "<rect width=\"" + side + "\" height=\"" + side + "\" fill=\"#fff\"/>"
                + "<path d=\"" + path + "\" fill=\"#000\"/></svg>";
    }

    private static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    if (c < 0x20 || c == 0x7f || (c >= 0xfffe && c <= 0xffff) || (c >= 0xd800 && c <= 0xdfff)) {
                        out.append(' ');
                    } else {
                        out.appendCodePoint(c);
                    }
                }
            }
        });
        return out.toString();
    }
}
