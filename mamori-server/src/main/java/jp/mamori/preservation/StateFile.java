package jp.mamori.preservation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The small state files the copies keep (when the offline medium or the bucket was last refreshed): a header line,
 * then one {@code name value} line per name, nothing else; read bounded, so a hostile or damaged file costs nothing.
 */
final class StateFile {
    private StateFile() {
    }

    /**
     * The values of {@code f}: empty when there is no file; a map of exactly {@code names} when it is well formed, an
     * empty map when it is not; one line naming {@code what} (Japanese / English) when it cannot be read.
     */
    static Optional<Map<String, String>> read(Path f, String header, int maxBytes, Set<String> names, String what) {
        byte[] b;
        try (InputStream in = Files.newInputStream(f)) {
            b = in.readNBytes(maxBytes + 1);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new BackupException(what + " " + f + " を読めません / cannot read " + f + ": " + Messages.firstLine(e), e);
        }
        String[] lines = new String(b, StandardCharsets.US_ASCII).split("\n", -1);
        Map<String, String> v = new LinkedHashMap<>();
        boolean ok = b.length <= maxBytes && lines.length == names.size() + 2 && lines[0].equals(header)
                && lines[lines.length - 1].isEmpty();
        for (int i = 1; ok && i <= names.size(); i++) {
            String[] w = lines[i].split(" ", -1);
            ok = w.length == 2 && v.put(w[0], w[1]) == null;
        }
        return Optional.of(ok && v.keySet().equals(names) ? v : Map.of());
    }
}
