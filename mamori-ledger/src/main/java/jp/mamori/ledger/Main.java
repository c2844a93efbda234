package jp.mamori.ledger;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The standalone verifier: {@code java -jar mamori-ledger.jar verify|inclusion|consistency|bench ...}.
 * Exit status 0 when verified, 1 when tampering is found or a proof fails, 2 for usage or input errors.
 */
public final class Main {
    static final int OK = 0;
    static final int TAMPERED = 1;
    static final int USAGE = 2;

    private static final String USAGE_TEXT = """
            使い方 / usage: java -jar mamori-ledger.jar <command> ...
              verify <export-dir | entries.jsonl> [--key <vkey | key-file>] [--origin NAME]
                     [--checkpoints FILE] [--start FILE] [--max-findings N] [--threads N] [--quiet]
                  監査証跡のエクスポートを検証 / verify an exported audit trail
              inclusion <proof-file> --key <vkey | key-file> [--origin NAME]
              inclusion --index I --size N (--entry-file F | --leaf B64) --root B64 [--proof B64,B64,...]
                  1 件のエントリの包含証明を検証 / check that one entry is in the signed log
              consistency <proof-file> --key <vkey | key-file> [--origin NAME]
              consistency --size1 M --size2 N --root1 B64 --root2 B64 [--proof B64,B64,...]
                  2 つのチェックポイントの一貫性を検証 / check that a later checkpoint extends an earlier one
              verify-journal <journal-file> [--key <vkey | key-file>]
                  縮退運用中の監査ジャーナル (<data>/audit-journal/*.journal) を単独で検証
                  / verify a degraded-mode audit journal on its own: genesis, chain, groups, signatures
              bench [--entries N] [--checkpoint-every K] [--runs R] [--threads N] [--dir DIR]
                  検証速度の計測 / measure verification speed
            exit: 0 検証成功 verified, 1 改ざん検出 tampering found, 2 入力エラー usage or input error
            """;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command and returns its exit status; never throws. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("help") || args[0].equals("--help") || args[0].equals("-h")
                || java.util.Arrays.asList(args).contains("--help") || java.util.Arrays.asList(args).contains("-h")) {
            (args.length == 0 ? err : out).print(USAGE_TEXT);
            return args.length == 0 ? USAGE : OK;
        }
        try {
            Args a = Args.parse(args, 1);
            return switch (args[0]) {
                case "verify" -> verify(a, out);
                case "inclusion" -> inclusion(a, out);
                case "consistency" -> consistency(a, out);
                case "verify-journal" -> verifyJournal(a, out);
                case "bench" -> {
                    a.allow("entries", "checkpoint-every", "runs", "threads", "dir");
                    yield Bench.run(a.longOpt("entries", 1_000_000), (int) a.longOpt("checkpoint-every", 1000),
                            (int) a.longOpt("runs", 3), (int) a.longOpt("threads", 0),
                            a.opt("dir") == null ? null : Path.of(a.opt("dir")), out);
                }
                default -> throw new UsageException("不明なコマンド / unknown command: " + args[0]);
            };
        } catch (UsageException | IllegalArgumentException e) {
            err.println("mamori-ledger: " + e.getMessage());
            if (e instanceof UsageException) {
                err.println("詳しくは / see: java -jar mamori-ledger.jar help");
            }
            return USAGE;
        } catch (IOException | UncheckedIOException e) {
            err.println("mamori-ledger: 読み込みエラー / cannot read: " + e.getMessage());
            return USAGE;
        } catch (RuntimeException e) {
            err.println("mamori-ledger: 内部エラー / internal error: " + e);
            return USAGE;
        }
    }

    private static int verify(Args a, PrintStream out) throws IOException {
        a.allow("key", "origin", "checkpoints", "start", "max-findings", "quiet", "threads");
        if (a.positional.size() != 1) {
            throw new UsageException("verify にはエクスポートを 1 つ指定します / verify takes one export directory or entries file");
        }
        Export export = Export.open(Path.of(a.positional.get(0)), pathOpt(a, "checkpoints"), pathOpt(a, "start"));
        VerifierKey key;
        boolean fromExport = false;
        if (a.opt("key") != null) {
            key = readKey(a.opt("key"));
        } else if (export.key() != null) {
            key = export.key();
            fromExport = true;
        } else {
            throw new UsageException("検証鍵がありません。--key で指定してください / no verifier key: pass --key <vkey | key-file>");
        }
        TrailVerifier v = new TrailVerifier(key).keyFromExport(fromExport)
                .maxFindings((int) a.longOpt("max-findings", 1000));
        if (a.opt("threads") != null) {
            v = v.threads((int) a.longOpt("threads", 1));
        }
        if (a.opt("origin") != null) {
            v = v.origin(a.opt("origin"));
        }
        Report r = v.verify(export);
        if (!a.flag("quiet")) {
            for (Finding f : r.findings()) {
                out.println(f.text());
            }
            if (r.omitted() > 0) {
                out.println("… 他 " + r.omitted() + " 件 / … and " + r.omitted() + " more finding(s)");
            }
        }
        out.println(r.summary());
        return r.failed() ? TAMPERED : OK;
    }

    private static int verifyJournal(Args a, PrintStream out) throws IOException {
        a.allow("key");
        if (a.positional.size() != 1) {
            throw new UsageException("verify-journal にはジャーナルファイルを 1 つ指定します / verify-journal takes one journal file");
        }
        Path file = Path.of(a.positional.get(0));
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("ファイルがありません / no such file: " + file);
        }
        VerifierKey key = a.opt("key") == null ? null : readKey(a.opt("key"));
        JournalFile.Result r = JournalFile.verify(file, key);
        for (String p : r.problems()) {
            out.println("FAIL " + p);
        }
        if (r.genesis() != null) {
            out.println("開始点 / genesis: journal " + r.genesis().id() + ", host " + r.genesis().host() + ", created "
                    + r.genesis().created() + (r.genesis().headKnown() ? ", continues the trail at seq "
                    + r.genesis().trailSize() : ", trail head unknown (numbered from 0)"));
        }
        out.println(r.summary());
        return r.ok() ? OK : TAMPERED;
    }

    private static int inclusion(Args a, PrintStream out) throws IOException {
        a.allow("key", "origin", "index", "size", "entry-file", "leaf", "root", "proof");
        InclusionProof.Check check;
        if (a.positional.size() == 1) {
            VerifierKey key = requireKey(a);
            InclusionProof proof = InclusionProof.parse(read(Path.of(a.positional.get(0))));
            check = proof.verify(key, a.opt("origin") == null ? key.name() : a.opt("origin"));
        } else if (a.positional.isEmpty() && a.opt("index") != null) {
            long index = a.longOpt("index", -1);
            long size = a.longOpt("size", -1);
            byte[] leaf;
            if (a.opt("entry-file") != null) {
                byte[] entry = Files.readAllBytes(Path.of(a.opt("entry-file")));
                int len = entry.length;
                if (len > 0 && entry[len - 1] == '\n') {
                    len--;
                }
                leaf = Merkle.leafHash(java.util.Arrays.copyOf(entry, len));
            } else {
                leaf = hash(a.required("leaf"), "--leaf");
            }
            byte[] root = hash(a.required("root"), "--root");
            boolean ok = Proofs.verifyInclusion(index, size, leaf, hashes(a.opt("proof")), root);
            out.println("注意: 署名は確認していません / note: no signature checked; the root must come from a signed checkpoint you trust");
            check = new InclusionProof.Check(ok, ok
                    ? "包含証明は有効です / inclusion verified: entry " + index + " is in the tree of size " + size + " with this root"
                    : "包含証明が一致しません / inclusion proof FAILED for entry " + index + " in the tree of size " + size);
        } else {
            throw new UsageException("inclusion には証明ファイル、または --index ほかを指定します / inclusion takes a proof file, or --index --size --leaf --root --proof");
        }
        out.println(check.message());
        return check.ok() ? OK : TAMPERED;
    }

    private static int consistency(Args a, PrintStream out) throws IOException {
        a.allow("key", "origin", "size1", "size2", "root1", "root2", "proof");
        InclusionProof.Check check;
        if (a.positional.size() == 1) {
            VerifierKey key = requireKey(a);
            ConsistencyProof proof = ConsistencyProof.parse(read(Path.of(a.positional.get(0))));
            check = proof.verify(key, a.opt("origin") == null ? key.name() : a.opt("origin"));
        } else if (a.positional.isEmpty() && a.opt("size1") != null) {
            long m = a.longOpt("size1", -1);
            long n = a.longOpt("size2", -1);
            boolean ok = Proofs.verifyConsistency(m, n, hash(a.required("root1"), "--root1"),
                    hash(a.required("root2"), "--root2"), hashes(a.opt("proof")));
            out.println("注意: 署名は確認していません / note: no signature checked; both roots must come from signed checkpoints you trust");
            check = new InclusionProof.Check(ok, ok
                    ? "一貫性を確認しました / consistency verified: size " + n + " extends size " + m
                    : "一貫性証明が一致しません / consistency proof FAILED between sizes " + m + " and " + n);
        } else {
            throw new UsageException("consistency には証明ファイル、または --size1 ほかを指定します / consistency takes a proof file, or --size1 --size2 --root1 --root2 --proof");
        }
        out.println(check.message());
        return check.ok() ? OK : TAMPERED;
    }

    private static VerifierKey requireKey(Args a) throws IOException {
        if (a.opt("key") == null) {
            throw new UsageException("検証鍵を --key で指定してください / pass the verifier key with --key <vkey | key-file>");
        }
        return readKey(a.opt("key"));
    }

    /** A vkey given inline, or the path of a file holding one. */
    static VerifierKey readKey(String value) throws IOException {
        Path p = null;
        try {
            p = Path.of(value);
        } catch (RuntimeException ignored) {
            // not a path: an inline key
        }
        String text = p != null && Files.isRegularFile(p) ? read(p) : value;
        try {
            return VerifierKey.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("検証鍵を読めません / not a verifier key: " + e.getMessage());
        }
    }

    private static String read(Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException("ファイルがありません / no such file: " + p);
        }
        return Files.readString(p, StandardCharsets.UTF_8);
    }

    private static Path pathOpt(Args a, String name) {
        return a.opt(name) == null ? null : Path.of(a.opt(name));
    }

    private static byte[] hash(String b64, String what) {
        byte[] h;
        try {
            h = Base64.getDecoder().decode(b64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(what + " は base64 ではありません / " + what + " is not base64");
        }
        if (h.length != Merkle.HASH_SIZE) {
            throw new IllegalArgumentException(what + " は 32 バイトのハッシュではありません / " + what + " is not a 32-byte hash");
        }
        return h;
    }

    private static List<byte[]> hashes(String list) {
        List<byte[]> out = new ArrayList<>();
        if (list != null && !list.isBlank()) {
            for (String s : list.split(",")) {
                out.add(hash(s, "--proof"));
            }
        }
        return out;
    }

    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Positional arguments and {@code --name value} / {@code --flag} options. */
    static final class Args {
        final List<String> positional = new ArrayList<>();
        private final Map<String, String> opts = new HashMap<>();
        private static final java.util.Set<String> FLAGS = java.util.Set.of("quiet");

        static Args parse(String[] args, int from) {
            Args a = new Args();
            for (int i = from; i < args.length; i++) {
                String s = args[i];
                if (s.startsWith("--") && s.length() > 2) {
                    String name = s.substring(2);
                    String value = null;
                    int eq = name.indexOf('=');
                    if (eq >= 0) {
                        value = name.substring(eq + 1);
                        name = name.substring(0, eq);
                    } else if (FLAGS.contains(name)) {
                        value = "true";
                    } else if (i + 1 < args.length) {
                        value = args[++i];
                    } else {
                        throw new UsageException("--" + name + " に値がありません / --" + name + " needs a value");
                    }
                    a.opts.put(name, value);
                } else {
                    a.positional.add(s);
                }
            }
            return a;
        }

        void allow(String... names) {
            java.util.Set<String> ok = java.util.Set.of(names);
            for (String k : opts.keySet()) {
                if (!ok.contains(k)) {
                    throw new UsageException("不明なオプション / unknown option --" + k);
                }
            }
        }

        String opt(String name) {
            return opts.get(name);
        }

        boolean flag(String name) {
            return "true".equals(opts.get(name));
        }

        String required(String name) {
            String v = opts.get(name);
            if (v == null) {
                throw new UsageException("--" + name + " を指定してください / --" + name + " is required");
            }
            return v;
        }

        long longOpt(String name, long dflt) {
            String v = opts.get(name);
            if (v == null) {
                return dflt;
            }
            try {
                return Long.parseLong(v.strip().replace("_", ""));
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " は数値です / --" + name + " takes a number, not " + v);
            }
        }
    }
}
