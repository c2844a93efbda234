package jp.mamori.preservation;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** Where the parts of backups are read back from: the counterpart of {@link PartSink}. */
public interface PartSource {
    /** The committed part {@code partName}; an {@link IOException} when there is none. */
    InputStream open(String partName) throws IOException;

    /** The names of the committed parts that start with {@code prefix}, sorted. */
    List<String> list(String prefix);
}
