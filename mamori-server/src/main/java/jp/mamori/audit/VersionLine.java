package jp.mamori.audit;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One version named with its hashes in a write's audit entry ({@link WriteEntries#HASHES}):
 * {@code Type/id/_history/n sha256=<hex or -> chain=<hex> prev=<hex>}, all SHA-256 in lower-case hex.
 *
 * @param sha256 the content hash, null for a deletion
 * @param chain  the version's chain hash
 * @param prev   the chain hash of the version before (all zeros for a new record; null when not named, as in the
 *               anchor of the versions stored before writes named their hashes)
 */
public record VersionLine(ResourceRef ref, String sha256, String chain, String prev) {
    private static final Pattern LINE = Pattern.compile(
            "([A-Z][A-Za-z]{1,63}/[A-Za-z0-9\\-.]{1,64}/_history/[1-9][0-9]{0,8})"
                    + " sha256=([0-9a-f]{64}|-) chain=([0-9a-f]{64}) prev=([0-9a-f]{64}|-)");

    static String line(ResourceRef ref, String sha256, String chain, String prev) {
        return ref.code() + " sha256=" + (sha256 == null ? "-" : sha256) + " chain=" + chain + " prev="
                + (prev == null ? "-" : prev);
    }

    /**
     * The lines of an entry's {@code hashes} detail. A line that is not of this form is returned as null in its
     * place, so that the checker can report it rather than skip it.
     */
    public static List<VersionLine> parseAll(String text) {
        List<VersionLine> out = new ArrayList<>();
        if (text == null || text.isEmpty()) {
            return out;
        }
        for (String l : text.split("\n", -1)) {
            Matcher m = LINE.matcher(l);
            out.add(m.matches() ? new VersionLine(ResourceRef.parse(m.group(1)),
                    m.group(2).equals("-") ? null : m.group(2), m.group(3),
                    m.group(4).equals("-") ? null : m.group(4)) : null);
        }
        return out;
    }
}
