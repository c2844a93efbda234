package jp.mamori.preservation;

import java.nio.file.Path;
import java.util.List;

/**
 * What a restore drill checks on the restored copy (ADR 0010 §5): the server's own checks, which live above this
 * capability (a whole server started on the copy: records' hash chains, the audit trail against its signed
 * checkpoints, counts against the manifest, charts read). Start-up hands one in.
 */
@FunctionalInterface
public interface DrillCheck {
    /** The findings on the copy restored into {@code restored} from the backup {@code manifest} describes; none = pass. */
    List<String> check(Path restored, Manifest manifest) throws Exception;

    /**
     * The same checks on a scratch copy of an external database (restored by pgBackRest and started on loopback):
     * {@code folder} holds a copy of the data folder's own files (keys, certificates), {@code database} the scratch
     * cluster's URL with the installation's credentials. There is no Mamori manifest: the counts are not compared.
     */
    default List<String> checkExternal(Path folder, jp.mamori.config.ServerConfig.Database database) throws Exception {
        return List.of("この検査は外部データベースに対応していません / this check does not support an external database");
    }
}
