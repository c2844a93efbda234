package jp.mamori.ledger;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server's local audit journal (issue 18 §2, ADR 0013 "Journal"): what a process in degraded read-only mode
 * audits while its database cannot be written, kept until it is merged into the main trail. One UTF-8 text file:
 * <pre>
 * {"journal":"mamori-audit-journal/1","id":"&lt;uuid&gt;","created":"&lt;ISO instant&gt;","host":"&lt;name&gt;"[,"trailSize":N[,"trailHead":"&lt;b64&gt;"]]}
 * {"seq":N,"prev":"&lt;b64 leaf hash of the entry before&gt;",...}     entries, exactly as hashed (the export format's lines)
 * ...
 * {"group":G,"first":S,"count":C,"head":"&lt;b64 leaf hash of the group's last entry&gt;","sig":"&lt;b64 Ed25519&gt;"}
 * </pre>
 * The first line (genesis) names the main trail's head the journal continues: its size and last leaf hash, which
 * the first entry's {@code seq} and {@code prev} continue (no {@code trailSize}: the head was unknown and the
 * journal numbers from 0). Entries are chained by their leaf hashes like the trail's; each group the server made
 * durable (written and fsync'ed before its answers left) ends with a group line signed by the trail's checkpoint
 * key over {@link #groupMessage}. Entries after the last group line are an incomplete group (a crash while it was
 * written): never acknowledged, they are dropped, and reported as such. Everything else that does not fit is a
 * failure: the journal is then not merged.
 */
public final class JournalFile {
    public static final String FORMAT = "mamori-audit-journal/1";
    private static final Pattern GENESIS = Pattern.compile("\\{\"journal\":\"" + Pattern.quote(FORMAT)
            + "\",\"id\":\"([0-9a-f-]{36})\",\"created\":\"([^\"\\\\]{1,40})\",\"host\":\"([^\"\\\\]{0,255})\""
            + "(?:,\"trailSize\":(0|[1-9][0-9]{0,17})(?:,\"trailHead\":\"([A-Za-z0-9+/=]{44})\")?)?}");
    private static final Pattern GROUP = Pattern.compile("\\{\"group\":(0|[1-9][0-9]{0,17}),\"first\":(0|[1-9][0-9]{0,17}),"
            + "\"count\":([1-9][0-9]{0,9}),\"head\":\"([A-Za-z0-9+/=]{44})\",\"sig\":\"([A-Za-z0-9+/=]{1,200})\"}");
    /** A line longer than this is not an entry (the server's entries are a few hundred bytes). */
    static final int MAX_LINE = 1 << 20;

    private JournalFile() {
    }

    /** The journal's first line. */
    public record Genesis(String id, String created, String host, long trailSize, byte[] trailHead, byte[] hash) {
        /** Whether the main trail's head was known when the journal began. */
        public boolean headKnown() {
            return trailSize >= 0;
        }
    }

    /**
     * What a journal holds.
     *
     * @param genesis    null when the first line is not a genesis
     * @param entries    entries in complete groups (the ones to merge)
     * @param groups     complete groups
     * @param firstSeq   the first entry's seq
     * @param head       the last complete group's last leaf hash (null: no entry)
     * @param validBytes the length of the file up to the end of the last complete group
     * @param dropped    entries (or a partial line) after the last complete group: an incomplete group, dropped
     * @param problems   why the journal does not verify (empty: it does)
     * @param signed     whether the group signatures were checked (a key was given)
     */
    public record Result(Genesis genesis, long entries, long groups, long firstSeq, byte[] head, long validBytes,
                         long dropped, List<String> problems, boolean signed) {
        public boolean ok() {
            return problems.isEmpty();
        }

        public String summary() {
            String h = head == null ? "-" : Base64.getEncoder().encodeToString(head);
            if (!ok()) {
                return "ジャーナルを検証できません / journal does NOT verify: " + problems.size() + " problem(s)";
            }
            return "ジャーナルを検証しました / journal verified: " + entries + " entries in " + groups + " groups, head " + h
                    + (dropped > 0 ? "; 未完了のグループ " + dropped + " 行を除外 / incomplete last group dropped ("
                    + dropped + " line(s))" : "")
                    + (signed ? "" : "; 署名は未確認 / signatures NOT checked (pass --key)");
        }
    }

    /** The message a group line's signature covers. */
    public static byte[] groupMessage(String journalId, byte[] genesisHash, long group, long first, long count,
                                      byte[] head) {
        Base64.Encoder b = Base64.getEncoder();
        return ("mamori-audit-journal group\n" + journalId + "\n" + b.encodeToString(genesisHash) + "\n" + group + "\n"
                + first + "\n" + count + "\n" + b.encodeToString(head) + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** The genesis line (without its newline). */
    public static String genesisLine(String id, String created, String host, long trailSize, byte[] trailHead) {
        StringBuilder b = new StringBuilder("{\"journal\":\"").append(FORMAT).append("\",\"id\":\"").append(id)
                .append("\",\"created\":\"").append(created).append("\",\"host\":\"")
                .append(host.replaceAll("[^A-Za-z0-9._-]", "_")).append('"');
        if (trailSize >= 0) {
            b.append(",\"trailSize\":").append(trailSize);
            if (trailHead != null) {
                b.append(",\"trailHead\":\"").append(Base64.getEncoder().encodeToString(trailHead)).append('"');
            }
        }
        return b.append('}').toString();
    }

    /** A group line (without its newline). */
    public static String groupLine(long group, long first, long count, byte[] head, byte[] signature) {
        Base64.Encoder b = Base64.getEncoder();
        return "{\"group\":" + group + ",\"first\":" + first + ",\"count\":" + count + ",\"head\":\""
                + b.encodeToString(head) + "\",\"sig\":\"" + b.encodeToString(signature) + "\"}";
    }

    /** Reads the genesis of a line, or null when it is none. */
    public static Genesis genesis(byte[] line) {
        Matcher m = GENESIS.matcher(new String(line, StandardCharsets.UTF_8));
        if (!m.matches()) {
            return null;
        }
        long size = m.group(4) == null ? -1 : Long.parseLong(m.group(4));
        byte[] head = m.group(5) == null ? null : Base64.getDecoder().decode(m.group(5));
        if (head != null && head.length != Merkle.HASH_SIZE || size > 0 && head == null) {
            return null;
        }
        return new Genesis(m.group(1), m.group(2), m.group(3), size, head, sha256(line));
    }

    /**
     * Verifies a journal: its genesis, the chain of every entry from the genesis's head, the groups (count, head
     * and, with {@code key}, signature) and that every entry is a canonical entry line. Streams the file.
     *
     * @param key the trail's verifier key; null checks everything but the signatures
     */
    public static Result verify(Path file, VerifierKey key) throws IOException {
        return verify(file, key, (seq, line) -> null);
    }

    /** A further check of each entry line (the server decodes it); returns a problem or null. */
    @FunctionalInterface
    public interface EntryCheck {
        String check(long seq, byte[] line);
    }

    /** As {@link #verify(Path, VerifierKey)}, with a further check of each entry line. */
    public static Result verify(Path file, VerifierKey key, EntryCheck check) throws IOException {
        List<String> problems = new ArrayList<>();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            Reader r = new Reader(in);
            byte[] first = r.next();
            Genesis g = first == null || !r.complete || first.length > 4096 ? null : genesis(first);
            if (g == null) {
                problems.add("1 行目がジャーナルの開始行ではありません / line 1 is not a journal genesis");
                return new Result(null, 0, 0, 0, null, 0, 0, problems, key != null);
            }
            long validBytes = r.offset;
            EntryScanner scan = new EntryScanner();
            long nextSeq = g.headKnown() ? g.trailSize() : 0;
            long firstSeq = nextSeq;
            byte[] prev = g.trailHead();
            long entries = 0;
            long groups = 0;
            long pending = 0;
            long pendingFirst = nextSeq;
            byte[] committedHead = null;
            long lineNo = 1;
            byte[] line;
            while ((line = r.next()) != null && problems.size() < 20) {
                lineNo++;
                if (!r.complete) {
                    pending++; // a partial last line: the write of an incomplete group
                    break;
                }
                if (line.length > 7 && line[0] == '{' && line[1] == '"' && line[2] == 's') {
                    scan.scan(line, 0, line.length);
                    if (scan.seq != nextSeq) {
                        problems.add("行 " + lineNo + ": seq " + scan.seq + " (期待値 " + nextSeq + ") / line " + lineNo
                                + ": seq " + scan.seq + ", expected " + nextSeq);
                    }
                    boolean prevOk = prev == null ? scan.prevState == EntryScanner.ABSENT
                            || scan.prevState == EntryScanner.EMPTY
                            : scan.prevState == EntryScanner.PRESENT && Arrays.equals(scan.prev, prev);
                    if (!prevOk) {
                        problems.add("行 " + lineNo + ": 前のエントリとつながりません / line " + lineNo
                                + ": prev does not name the entry before (edited, inserted or removed)");
                    }
                    String bad = line[line.length - 1] == '}' ? check.check(nextSeq, line)
                            : "not a JSON object";
                    if (bad != null) {
                        problems.add("行 " + lineNo + ": エントリを読めません / line " + lineNo + ": " + bad);
                    }
                    if (pending == 0) {
                        pendingFirst = nextSeq;
                    }
                    pending++;
                    nextSeq++;
                    prev = Merkle.leafHash(line);
                    continue;
                }
                Matcher m = GROUP.matcher(new String(line, StandardCharsets.UTF_8));
                if (!m.matches()) {
                    problems.add("行 " + lineNo + ": 形式不正 / line " + lineNo + ": neither an entry nor a group line");
                    continue;
                }
                long gno = Long.parseLong(m.group(1));
                long gfirst = Long.parseLong(m.group(2));
                long gcount = Long.parseLong(m.group(3));
                byte[] ghead = Base64.getDecoder().decode(m.group(4));
                if (gno != groups || gfirst != pendingFirst || gcount != pending || pending == 0
                        || !Arrays.equals(ghead, prev)) {
                    problems.add("行 " + lineNo + ": グループが直前のエントリと一致しません / line " + lineNo + ": group " + gno
                            + " does not match the entries before it");
                } else if (key != null) {
                    byte[] sig;
                    try {
                        sig = Base64.getDecoder().decode(m.group(5));
                    } catch (IllegalArgumentException e) {
                        sig = new byte[0];
                    }
                    if (!key.verify(groupMessage(g.id(), g.hash(), gno, gfirst, gcount, ghead), sig)) {
                        problems.add("行 " + lineNo + ": グループの署名が一致しません / line " + lineNo + ": group " + gno
                                + " signature does not verify with the key");
                    }
                }
                groups++;
                entries += pending;
                pending = 0;
                committedHead = prev;
                validBytes = r.offset;
            }
            if (r.tooLong) {
                problems.add("行 " + (lineNo + 1) + ": 行が長すぎます / line " + (lineNo + 1) + " is longer than "
                        + MAX_LINE + " bytes");
            }
            if (problems.size() >= 20) {
                problems.add("… 以降は省略 / … further problems not listed");
            }
            return new Result(g, entries, groups, firstSeq, committedHead, validBytes, pending, List.copyOf(problems),
                    key != null);
        }
    }

    static byte[] sha256(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads lines as bytes; {@link #complete}: whether the last one ended in a newline. */
    private static final class Reader {
        private final InputStream in;
        private final ByteArrayOutputStream buf = new ByteArrayOutputStream(1024);
        long offset;
        boolean complete;
        /** A line longer than {@link #MAX_LINE}: reading stopped there. */
        boolean tooLong;

        Reader(InputStream in) {
            this.in = in;
        }

        byte[] next() throws IOException {
            buf.reset();
            int c;
            while ((c = in.read()) >= 0) {
                offset++;
                if (c == '\n') {
                    complete = true;
                    return buf.toByteArray();
                }
                if (buf.size() >= MAX_LINE) {
                    tooLong = true;
                    return null;
                }
                buf.write(c);
            }
            complete = false;
            return buf.size() == 0 ? null : buf.toByteArray();
        }
    }
}
