package jp.mamori.chart;

import java.util.ArrayList;
import java.util.List;

/**
 * Myers' O(ND) difference algorithm in linear space (the "middle snake" divide and conquer of Myers 1986,
 * section 4b) over int sequences. Memory is O(N + M) however different the inputs are; time is O((N + M) D),
 * and a work budget bounds it: past the budget the caller gets {@code null} and shows the whole range as
 * replaced, as diff tools do for wholly rewritten text.
 */
final class Myers {
    /** One step of the edit script: keep a[x] (= b[y]), delete a[x], or insert b[y]. */
    enum Op { EQUAL, DELETE, INSERT }

    record Edit(Op op, int x, int y) {
    }

    private final int[] a;
    private final int[] b;
    private long budget;

    private Myers(int[] a, int[] b, long budget) {
        this.a = a;
        this.b = b;
        this.budget = budget;
    }

    /** The shortest edit script from {@code a} to {@code b}, or null when it costs more than {@code budget}. */
    static List<Edit> diff(int[] a, int[] b, long budget) {
        Myers m = new Myers(a, b, budget);
        List<int[]> path = new ArrayList<>();
        // Common prefix and suffix need no search.
        int pre = 0;
        while (pre < a.length && pre < b.length && a[pre] == b[pre]) {
            pre++;
        }
        int sa = a.length;
        int sb = b.length;
        while (sa > pre && sb > pre && a[sa - 1] == b[sb - 1]) {
            sa--;
            sb--;
        }
        path.add(new int[]{0, 0});
        path.add(new int[]{pre, pre});
        if (!m.findPath(pre, pre, sa, sb, path)) {
            return null;
        }
        path.add(new int[]{sa, sb});
        path.add(new int[]{a.length, b.length});
        return m.walk(path);
    }

    /** Appends the points of a shortest path from (left, top) to (right, bottom), exclusive of its ends. */
    private boolean findPath(int left, int top, int right, int bottom, List<int[]> path) {
        if (left == right || top == bottom) {
            return true; // a straight run of deletions or insertions; walk() fills it in
        }
        int[] snake = middleSnake(left, top, right, bottom);
        if (snake == null) {
            return false;
        }
        if (!findPath(left, top, snake[0], snake[1], path)) {
            return false;
        }
        path.add(new int[]{snake[0], snake[1]});
        path.add(new int[]{snake[2], snake[3]});
        return findPath(snake[2], snake[3], right, bottom, path);
    }

    /**
     * The middle snake of the box: searches forward from the top-left and backward from the bottom-right,
     * d edits at a time, until the two meet. Returns {startX, startY, endX, endY}.
     */
    private int[] middleSnake(int left, int top, int right, int bottom) {
        int width = right - left;
        int height = bottom - top;
        int delta = width - height;
        boolean odd = (delta & 1) != 0;
        int max = (width + height + 1) / 2;
        int off = max + 1;
        int[] vf = new int[2 * max + 3]; // furthest x on forward diagonal k (k = x - y in box coordinates)
        int[] vb = new int[2 * max + 3]; // furthest (smallest) y on backward diagonal c = k - delta
        vf[off + 1] = left;
        vb[off + 1] = bottom;
        for (int d = 0; d <= max; d++) {
            budget -= 2L * d + 2;
            if (budget < 0) {
                return null;
            }
            for (int k = d; k >= -d; k -= 2) {
                int px;
                int x;
                if (k == -d || (k != d && vf[off + k - 1] < vf[off + k + 1])) {
                    px = x = vf[off + k + 1];
                } else {
                    px = vf[off + k - 1];
                    x = px + 1;
                }
                int y = top + (x - left) - k;
                int py = (d == 0 || x != px) ? y : y - 1;
                int x0 = x;
                while (x < right && y < bottom && a[x] == b[y]) {
                    x++;
                    y++;
                }
                budget -= x - x0;
                vf[off + k] = x;
                int c = k - delta;
                if (odd && c >= -(d - 1) && c <= d - 1 && y >= vb[off + c]) {
                    return new int[]{px, py, x, y};
                }
            }
            for (int c = d; c >= -d; c -= 2) {
                int py;
                int y;
                if (c == -d || (c != d && vb[off + c - 1] > vb[off + c + 1])) {
                    py = y = vb[off + c + 1];
                } else {
                    py = vb[off + c - 1];
                    y = py - 1;
                }
                int k = c + delta;
                int x = left + (y - top) + k;
                int px = (d == 0 || y != py) ? x : x + 1;
                int y0 = y;
                while (x > left && y > top && a[x - 1] == b[y - 1]) {
                    x--;
                    y--;
                }
                budget -= y0 - y;
                vb[off + c] = y;
                if (!odd && k >= -d && k <= d && x <= vf[off + k]) {
                    return new int[]{x, y, px, py};
                }
            }
        }
        throw new IllegalStateException("no middle snake"); // unreachable: paths meet by d = max
    }

    /** Turns consecutive path points into single-element edits. */
    private List<Edit> walk(List<int[]> path) {
        List<Edit> out = new ArrayList<>(Math.max(a.length, b.length));
        for (int i = 0; i + 1 < path.size(); i++) {
            int x = path.get(i)[0];
            int y = path.get(i)[1];
            int x2 = path.get(i + 1)[0];
            int y2 = path.get(i + 1)[1];
            while (x < x2 && y < y2 && a[x] == b[y]) {
                out.add(new Edit(Op.EQUAL, x++, y++));
            }
            // Between path points either one side runs out (a straight run) or one step is off the diagonal.
            while (x2 - x > y2 - y) {
                out.add(new Edit(Op.DELETE, x++, y));
            }
            while (y2 - y > x2 - x) {
                out.add(new Edit(Op.INSERT, x, y++));
            }
            while (x < x2 && y < y2) {
                if (a[x] == b[y]) {
                    out.add(new Edit(Op.EQUAL, x++, y++));
                } else { // not expected on a snake; stay correct rather than minimal
                    out.add(new Edit(Op.DELETE, x++, y));
                    out.add(new Edit(Op.INSERT, x, y++));
                }
            }
        }
        return out;
    }
}
