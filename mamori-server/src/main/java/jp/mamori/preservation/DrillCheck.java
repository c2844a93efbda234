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
}
