package jp.mamori.preservation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.security.PublicKey;

/**
 * Reading a backup's signed manifest from a copy (the offline medium, the Object Lock bucket's download) and
 * accepting it only for this installation and this backup: one way for every copy.
 */
final class CopyManifests {
    private CopyManifests() {
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
