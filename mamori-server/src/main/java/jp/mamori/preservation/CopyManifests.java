package jp.mamori.preservation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.security.PublicKey;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reading a backup's signed manifest from a copy (the offline medium, the Object Lock bucket's download) and
 * accepting it only for this installation and this backup: one way for every copy.
 */
final class CopyManifests {
    /** What a backup id may look like on a copy (a longer or stranger name is not one of ours). */
    static final Pattern BACKUP_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private CopyManifests() {
    }

    /**
     * The ids of the finished backups (their manifest is there) among {@code names} ({@code BASE/ID/PART}), sorted;
     * names outside {@code base} and ids that are not backup ids are passed over.
     */
    static List<String> finishedIds(Collection<String> names, String base) {
        TreeSet<String> ids = new TreeSet<>();
        for (String k : names) {
            if (!k.startsWith(base)) {
                continue;
            }
            String[] p = k.substring(base.length()).split("/");
            if (p.length == 2 && p[1].equals(Backups.MANIFEST) && BACKUP_ID.matcher(p[0]).matches()) {
                ids.add(p[0]);
            }
        }
        return List.copyOf(ids);
    }

    /** The manifest and its signature of backup {@code id} in {@code folder}; one line when they cannot be read. */
    static Manifest.Signed readSigned(FolderParts folder, String id) {
        String prefix = BackupInfo.prefix(id);
        try (InputStream json = folder.open(prefix + Backups.MANIFEST);
             InputStream sig = folder.open(prefix + Backups.SIGNATURE)) {
            return Manifest.Signed.read(json, sig);
        } catch (NoSuchFileException e) {
            throw new BackupException("バックアップ " + id + " の目録か署名がありません / backup " + id + " has no manifest"
                    + " or no signature");
        } catch (IOException e) {
            throw new BackupException("バックアップ " + id + " の目録を読めません / cannot read the manifest of backup " + id
                    + ": " + Messages.firstLine(e), e);
        }
    }

    /** The manifest, its signature checked with {@code signer}, naming backup {@code id} of {@code installation}. */
    static Manifest checked(Manifest.Signed signed, String id, PublicKey signer, String installationId) {
        Manifest m = signed.verify(signer);
        if (!m.backupId().equals(id) || !m.installationId().equals(installationId)) {
            throw new BackupException("バックアップ " + id + " の目録は別のバックアップ (" + m.installationId() + "/"
                    + m.backupId() + ") のものです / the manifest of backup " + id + " belongs to " + m.installationId()
                    + "/" + m.backupId());
        }
        for (Manifest.Part p : m.parts()) {
            if (!p.name().startsWith(BackupInfo.prefix(id))) {
                throw new BackupException("目録の部品 " + p.name() + " はバックアップ " + id + " のものではありません / the"
                        + " manifest lists part " + p.name() + ", which is not of backup " + id);
            }
        }
        return m;
    }
}
