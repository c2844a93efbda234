package jp.mamori.compliance;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Orders versions as Maven does, closely enough for advisory ranges (OSV's "Maven" ecosystem; also PostgreSQL's
 * {@code 17.6}): parts split at dots, dashes and digit/letter changes; numbers compare as numbers; the qualifiers
 * alpha &lt; beta &lt; milestone &lt; rc &lt; snapshot &lt; (release) &lt; sp; a missing part is 0 or the release.
 */
final class MavenVersion {
    static final Comparator<String> ORDER = MavenVersion::compare;

    private MavenVersion() {
    }

    static int compare(String a, String b) {
        List<Object> x = parts(a);
        List<Object> y = parts(b);
        int n = Math.max(x.size(), y.size());
        for (int i = 0; i < n; i++) {
            Object p = i < x.size() ? x.get(i) : null;
            Object q = i < y.size() ? y.get(i) : null;
            int c = comparePart(p, q);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static int comparePart(Object p, Object q) {
        if (p == null) {
            p = q instanceof BigInteger ? BigInteger.ZERO : "";
        }
        if (q == null) {
            q = p instanceof BigInteger ? BigInteger.ZERO : "";
        }
        if (p instanceof BigInteger bp && q instanceof BigInteger bq) {
            return bp.compareTo(bq);
        }
        if (p instanceof BigInteger) {
            return 1;
        }
        if (q instanceof BigInteger) {
            return -1;
        }
        String s = (String) p;
        String t = (String) q;
        int rs = rank(s);
        int rt = rank(t);
        if (rs != rt) {
            return Integer.compare(rs, rt);
        }
        return rs == 7 ? s.compareTo(t) : 0;
    }

    /** alpha 0, beta 1, milestone 2, rc 3, snapshot 4, release 5, sp 6, anything else 7 (then by text). */
    private static int rank(String q) {
        return switch (q) {
            case "alpha", "a" -> 0;
            case "beta", "b" -> 1;
            case "milestone", "m" -> 2;
            case "rc", "cr" -> 3;
            case "snapshot" -> 4;
            case "", "ga", "final", "release" -> 5;
            case "sp" -> 6;
            default -> 7;
        };
    }

    static List<Object> parts(String v) {
        List<Object> out = new ArrayList<>();
        String s = v.toLowerCase(Locale.ROOT).trim();
        StringBuilder cur = new StringBuilder();
        Boolean digits = null;
        for (int i = 0; i <= s.length(); i++) {
            char ch = i < s.length() ? s.charAt(i) : '.';
            boolean sep = ch == '.' || ch == '-' || ch == '_' || ch == '+';
            boolean d = Character.isDigit(ch);
            if (sep || (digits != null && d != digits)) {
                if (!cur.isEmpty()) {
                    out.add(digits ? new BigInteger(cur.toString()) : cur.toString());
                }
                cur.setLength(0);
                digits = null;
                if (sep) {
                    continue;
                }
            }
            cur.append(ch);
            digits = d;
        }
        // 1.0.0 equals 1.0 and 1: trailing zeros and release qualifiers do not count
        while (!out.isEmpty()) {
            Object last = out.get(out.size() - 1);
            if (BigInteger.ZERO.equals(last) || (last instanceof String q && rank(q) == 5)) {
                out.remove(out.size() - 1);
            } else {
                break;
            }
        }
        return out;
    }
}
