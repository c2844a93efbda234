package jp.mamori.preservation;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Where the parts of a backup are written: a folder, a removable medium, an object store, through encryption or
 * not. A part becomes visible under its name only when its stream is closed ({@code close} = commit); until then
 * nothing under that name changes. A writer that fails half-way calls {@link #abort} instead of closing, so that
 * a part cut short never looks complete.
 *
 * <p>Part names are relative, {@code /}-separated, made of {@code [A-Za-z0-9._-]} segments that do not start with
 * a dot (see {@link #checkName}); e.g. {@code base/2024-06-01T0300/data.tar}, {@code wal/000000010000000000000003}.
 */
public interface PartSink {
    /** A new part named {@code partName}; it is committed when the stream is closed, and not before. */
    OutputStream create(String partName) throws IOException;

    /**
     * A part stream that can be abandoned: what was written is discarded and the part's name is left as it was.
     * Streams returned by {@link #create} should implement it (a wrapping sink, e.g. an encrypting one, passes
     * {@code abort} on to the stream it wraps).
     */
    interface Abortable {
        void abort();
    }

    /**
     * Abandons {@code part}: aborts it when it can be aborted; otherwise leaves it unclosed (and so uncommitted)
     * rather than close it, which would commit a part cut short.
     */
    static void abort(OutputStream part) {
        if (part instanceof Abortable a) {
            a.abort();
        }
    }

    /** Checks a part name; throws {@link BackupException} naming it when it is not one. */
    static String checkName(String partName) {
        if (partName == null || partName.isEmpty() || partName.length() > 200) {
            throw new BackupException("部品名が不正です / bad part name: " + Messages.quote(partName));
        }
        for (String seg : partName.split("/", -1)) {
            if (seg.isEmpty() || seg.startsWith(".") || !seg.matches("[A-Za-z0-9._-]+")) {
                throw new BackupException("部品名が不正です / bad part name: " + Messages.quote(partName));
            }
        }
        return partName;
    }
}
