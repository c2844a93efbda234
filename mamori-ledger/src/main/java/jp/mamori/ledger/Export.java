package jp.mamori.ledger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * An exported trail on disk (see docs/audit-export-format.md): a directory with {@code entries.jsonl},
 * {@code checkpoints}, usually {@code key}, and {@code start} when older entries were archived away.
 *
 * @param entries the entries file (read by the verifier as a stream)
 * @param checkpoints the notes of the checkpoints file
 * @param start the archive start, or null
 * @param key the verifier key stored in the export, or null (it proves nothing by itself)
 */
public record Export(Path entries, List<SignedCheckpoint.Item> checkpoints, ArchiveStart start, VerifierKey key) {
    public static final String ENTRIES = "entries.jsonl";
    public static final String CHECKPOINTS = "checkpoints";
    public static final String KEY = "key";
    public static final String START = "start";

    /**
     * Opens an export directory, or a lone entries file whose checkpoints are in {@code checkpointsFile}
     * (or, when that is null, in a {@code checkpoints} file beside it).
     *
     * @throws IOException when a file cannot be read
     * @throws IllegalArgumentException when a file is missing or is not in the export format
     */
    public static Export open(Path path, Path checkpointsFile, Path startFile) throws IOException {
        Path dir;
        Path entries;
        if (Files.isDirectory(path)) {
            dir = path;
            entries = path.resolve(ENTRIES);
        } else if (Files.isRegularFile(path)) {
            entries = path;
            dir = path.toAbsolutePath().getParent();
        } else {
            throw new IllegalArgumentException("エクスポートがありません / no export at " + path);
        }
        if (!Files.isRegularFile(entries)) {
            throw new IllegalArgumentException(ENTRIES + " がありません / " + entries + " is missing");
        }
        Path cpFile = checkpointsFile != null ? checkpointsFile : dir.resolve(CHECKPOINTS);
        if (!Files.isRegularFile(cpFile)) {
            throw new IllegalArgumentException("チェックポイントファイルがありません / " + cpFile + " is missing");
        }
        List<SignedCheckpoint.Item> cps = SignedCheckpoint.readAll(Files.readString(cpFile, StandardCharsets.UTF_8));
        Path st = startFile != null ? startFile : dir.resolve(START);
        ArchiveStart start = null;
        if (Files.isRegularFile(st)) {
            try {
                start = ArchiveStart.parse(Files.readString(st, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("開始点ファイルを読めません / cannot read " + st + ": " + e.getMessage());
            }
        } else if (startFile != null) {
            throw new IllegalArgumentException("開始点ファイルがありません / " + st + " is missing");
        }
        VerifierKey key = null;
        Path k = dir.resolve(KEY);
        if (Files.isRegularFile(k)) {
            try {
                key = VerifierKey.parse(Files.readString(k, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("鍵ファイルを読めません / cannot read " + k + ": " + e.getMessage());
            }
        }
        return new Export(entries, cps, start, key);
    }

    /** {@link #open(Path, Path, Path)} with the files at their usual places. */
    public static Export open(Path path) throws IOException {
        return open(path, null, null);
    }
}
