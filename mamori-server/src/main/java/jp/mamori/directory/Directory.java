package jp.mamori.directory;

import java.util.List;

/** Reads every person the configured base and filter select, completely or not at all. */
@FunctionalInterface
public interface Directory {
    List<DirectoryEntry> read() throws DirectoryException;
}
