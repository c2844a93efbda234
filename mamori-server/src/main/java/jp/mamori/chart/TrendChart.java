package jp.mamori.chart;

import jp.mamori.chart.JpDates.Lang;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A numeric observation series as a self-contained SVG: a time axis with dates, a value axis with the unit,
 * the reference range as a band, the values as a line with points, points outside the range marked. No script
 * and no style attributes (only presentation attributes, which a Content-Security-Policy without
 * {@code unsafe-inline} allows); every text is escaped. Accessible: {@code role="img"}, {@code aria-label},
 * {@code <title>} and {@code <desc>} summarising the series, and a {@code <title>} on every point.
 */
public final class TrendChart {
    /** One measured value at a time. */
    public record Point(Instant time, double value) {
        public Point {
            Objects.requireNonNull(time, "time");
        }
    }

    /**
     * A series: its name (e.g. {@code HbA1c}), unit ({@code %}), points in any order, and the reference range
     * (either bound may be null).
     */
    public record Series(String name, String unit, List<Point> points, Double low, Double high) {
        public Series {
            points = points.stream().filter(p -> Double.isFinite(p.value()))
                    .sorted(Comparator.comparing(Point::time)).toList();
        }
    }

    static final int WIDTH = 640;
    static final int HEIGHT = 240;
    private static final int LEFT = 64;
    private static final int RIGHT = 16;
    private static final int TOP = 28;
    private static final int BOTTOM = 40;

    private TrendChart() {
    }

    /**
     * The chart as an {@code <svg>} element for inline use in a page. {@code id} keeps the title and
     * description ids unique on a page with several charts (letters, digits, {@code -} and {@code _} are kept).
     */
    public static String svg(Series s, String id, JpDates dates, Lang lang) {
        String ident = (id == null ? "trend" : id).replaceAll("[^A-Za-z0-9_-]", "_");
        double x0 = LEFT;
        double x1 = WIDTH - RIGHT;
        double y0 = HEIGHT - BOTTOM;
        double y1 = TOP;
        String titleText = s.name() + (blank(s.unit()) ? "" : " (" + s.unit() + ")");
        String desc = describe(s, dates, lang);

        StringBuilder o = new StringBuilder(2048 + s.points().size() * 160);
        o.append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"trend\" viewBox=\"0 0 ").append(WIDTH).append(' ')
                .append(HEIGHT).append("\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" role=\"img\" aria-label=\"").append(Html.escape(titleText + ": " + desc))
                .append("\" aria-labelledby=\"").append(ident).append("-title ").append(ident).append("-desc\">");
        o.append("<title id=\"").append(ident).append("-title\">").append(Html.escape(titleText)).append("</title>");
        o.append("<desc id=\"").append(ident).append("-desc\">").append(Html.escape(desc)).append("</desc>");
        o.append("<rect x=\"0\" y=\"0\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                .append("\" fill=\"#ffffff\"/>");
        o.append("<text class=\"name\" x=\"").append(LEFT).append("\" y=\"18\" font-size=\"13\" fill=\"#222222\">")
                .append(Html.escape(titleText)).append("</text>");

        if (s.points().isEmpty()) {
            o.append("<text class=\"empty\" x=\"").append(WIDTH / 2).append("\" y=\"").append(HEIGHT / 2)
                    .append("\" text-anchor=\"middle\" font-size=\"13\" fill=\"#555555\">")
                    .append(lang == Lang.EN ? "No data" : "データなし").append("</text></svg>");
            return o.toString();
        }

        // Scales: time on x (padded a day each side for a single time), values on y with the range included.
        long tMin = s.points().get(0).time().getEpochSecond();
        long tMax = s.points().get(s.points().size() - 1).time().getEpochSecond();
        if (tMax == tMin) {
            tMin -= 86_400;
            tMax += 86_400;
        }
        double vMin = s.points().stream().mapToDouble(Point::value).min().orElseThrow();
        double vMax = s.points().stream().mapToDouble(Point::value).max().orElseThrow();
        if (s.low() != null) {
            vMin = Math.min(vMin, s.low());
            vMax = Math.max(vMax, s.low());
        }
        if (s.high() != null) {
            vMin = Math.min(vMin, s.high());
            vMax = Math.max(vMax, s.high());
        }
        if (vMax == vMin) {
            double pad = vMax == 0 ? 1 : Math.abs(vMax) * 0.1;
            vMin -= pad;
            vMax += pad;
        }
        double step = niceStep((vMax - vMin) / 4);
        double lo = Math.floor(vMin / step) * step;
        double hi = Math.ceil(vMax / step) * step;
        final long fMin = tMin;
        final long fMax = tMax;
        java.util.function.DoubleUnaryOperator xs = t -> x0 + (t - fMin) * (x1 - x0) / (fMax - fMin);
        java.util.function.DoubleUnaryOperator ys = v -> y0 - (v - lo) * (y0 - y1) / (hi - lo);

        // Reference range band.
        if (s.low() != null || s.high() != null) {
            double top = ys.applyAsDouble(s.high() != null ? s.high() : hi);
            double bottom = ys.applyAsDouble(s.low() != null ? s.low() : lo);
            o.append("<rect class=\"reference-range\" x=\"").append(num(x0)).append("\" y=\"").append(num(top))
                    .append("\" width=\"").append(num(x1 - x0)).append("\" height=\"").append(num(bottom - top))
                    .append("\" fill=\"#e3f4e3\"><title>").append(Html.escape(rangeText(s, lang)))
                    .append("</title></rect>");
        }

        // Value axis: grid lines and labels, the unit above.
        o.append("<g class=\"y-axis\" font-size=\"11\" fill=\"#333333\">");
        int decimals = decimals(step);
        for (double v = lo; v <= hi + step / 2; v += step) {
            double y = ys.applyAsDouble(v);
            o.append("<line x1=\"").append(num(x0)).append("\" x2=\"").append(num(x1)).append("\" y1=\"")
                    .append(num(y)).append("\" y2=\"").append(num(y)).append("\" stroke=\"#dddddd\"/>");
            o.append("<text x=\"").append(num(x0 - 6)).append("\" y=\"").append(num(y + 4))
                    .append("\" text-anchor=\"end\">").append(fixed(v, decimals)).append("</text>");
        }
        if (!blank(s.unit())) {
            o.append("<text class=\"unit\" x=\"").append(num(x0 - 6)).append("\" y=\"").append(TOP - 8)
                    .append("\" text-anchor=\"end\">").append(Html.escape(s.unit())).append("</text>");
        }
        o.append("</g>");

        // Time axis: five evenly spaced dates.
        o.append("<g class=\"x-axis\" font-size=\"11\" fill=\"#333333\">");
        o.append("<line x1=\"").append(num(x0)).append("\" x2=\"").append(num(x1)).append("\" y1=\"").append(num(y0))
                .append("\" y2=\"").append(num(y0)).append("\" stroke=\"#888888\"/>");
        int ticks = 4;
        for (int i = 0; i <= ticks; i++) {
            long t = tMin + (tMax - tMin) * i / ticks;
            double x = xs.applyAsDouble(t);
            String anchor = i == 0 ? "start" : i == ticks ? "end" : "middle";
            o.append("<line x1=\"").append(num(x)).append("\" x2=\"").append(num(x)).append("\" y1=\"").append(num(y0))
                    .append("\" y2=\"").append(num(y0 + 4)).append("\" stroke=\"#888888\"/>");
            o.append("<text x=\"").append(num(x)).append("\" y=\"").append(num(y0 + 18)).append("\" text-anchor=\"")
                    .append(anchor).append("\">")
                    .append(Html.escape(shortDate(dates.localDate(Instant.ofEpochSecond(t)), lang))).append("</text>");
        }
        o.append("</g>");

        // The line, then the points on top.
        o.append("<polyline class=\"values\" fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1.5\" points=\"");
        for (Point p : s.points()) {
            o.append(num(xs.applyAsDouble(p.time().getEpochSecond()))).append(',')
                    .append(num(ys.applyAsDouble(p.value()))).append(' ');
        }
        o.setLength(o.length() - 1);
        o.append("\"/><g class=\"points\">");
        for (Point p : s.points()) {
            String flag = flag(s, p.value());
            boolean out = !flag.isEmpty();
            o.append("<circle class=\"point").append(out ? " out-of-range" : "").append("\" cx=\"")
                    .append(num(xs.applyAsDouble(p.time().getEpochSecond()))).append("\" cy=\"")
                    .append(num(ys.applyAsDouble(p.value()))).append("\" r=\"").append(out ? "4" : "3")
                    .append("\" fill=\"").append(out ? "#c0392b" : "#1f5fa8").append("\" data-value=\"")
                    .append(value(p.value())).append("\"><title>")
                    .append(Html.escape(dates.dateTime(p.time(), lang) + " " + value(p.value())
                            + (blank(s.unit()) ? "" : " " + s.unit()) + (out ? " " + flag : "")))
                    .append("</title></circle>");
        }
        return o.append("</g></svg>").toString();
    }

    /** {@code H} above the range, {@code L} below it, empty within or without a range. */
    static String flag(Series s, double v) {
        if (s.high() != null && v > s.high()) {
            return "H";
        }
        if (s.low() != null && v < s.low()) {
            return "L";
        }
        return "";
    }

    private static String describe(Series s, JpDates dates, Lang lang) {
        int n = s.points().size();
        String range = (s.low() != null || s.high() != null) ? (lang == Lang.EN ? "; " : "、") + rangeText(s, lang) : "";
        if (n == 0) {
            return (lang == Lang.EN ? "no values" : "値はありません") + range;
        }
        Point first = s.points().get(0);
        Point last = s.points().get(n - 1);
        String unit = blank(s.unit()) ? "" : " " + s.unit();
        String flag = flag(s, last.value());
        if (lang == Lang.EN) {
            return n + " values from " + dates.date(first.time(), lang) + " to " + dates.date(last.time(), lang)
                    + "; latest " + value(last.value()) + unit + (flag.isEmpty() ? "" : " (" + flag + ")") + range;
        }
        return dates.date(first.time(), lang) + "から" + dates.date(last.time(), lang) + "までの" + n + "件、最新値 "
                + value(last.value()) + unit + (flag.isEmpty() ? "" : " (" + flag + ")") + range;
    }

    private static String rangeText(Series s, Lang lang) {
        String lo = s.low() == null ? "" : value(s.low());
        String hi = s.high() == null ? "" : value(s.high());
        return (lang == Lang.EN ? "reference range " : "基準範囲 ") + lo + "–" + hi
                + (blank(s.unit()) ? "" : " " + s.unit());
    }

    /** {@code 2026/11/23}, in English {@code 23 Nov 26}. */
    static String shortDate(LocalDate d, Lang lang) {
        return lang == Lang.EN
                ? d.getDayOfMonth() + " " + d.getMonth().getDisplayName(java.time.format.TextStyle.SHORT, Locale.ENGLISH)
                + " " + String.format(Locale.ROOT, "%02d", d.getYear() % 100)
                : d.getYear() + "/" + d.getMonthValue() + "/" + d.getDayOfMonth();
    }

    /** A measured value as written: no exponent, no trailing zeros ({@code 7.2}, {@code 120}). */
    static String value(double v) {
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
        return d.scale() < 0 ? d.setScale(0).toPlainString() : d.toPlainString();
    }

    static double niceStep(double raw) {
        double mag = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / mag;
        double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
        return nice * mag;
    }

    private static int decimals(double step) {
        int d = 0;
        while (d < 6 && Math.abs(step * Math.pow(10, d) - Math.rint(step * Math.pow(10, d))) > 1e-9) {
            d++;
        }
        return d;
    }

    private static String fixed(double v, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", v + 0.0);
    }

    private static String num(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** Points for a list of (time, value) pairs; a convenience for callers holding parallel lists. */
    public static List<Point> points(List<Instant> times, List<Double> values) {
        List<Point> out = new ArrayList<>();
        for (int i = 0; i < Math.min(times.size(), values.size()); i++) {
            out.add(new Point(times.get(i), values.get(i)));
        }
        return out;
    }
}
