package jp.mamori.records;

import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.Context;
import org.flywaydb.core.api.migration.JavaMigration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import jp.mamori.kernel.TextNormalizer;

/**
 * Makes the stored string index values again with the current normaliser, whenever its form changes: a
 * repeatable Flyway migration whose checksum is {@link TextNormalizer#formId()}, so Flyway runs it on a new
 * database, on a database written by a build whose normaliser differed, and after any edit of the 異体字
 * folding table, and not otherwise. Both values of a row are made from its exact column, which holds the
 * text as written (the previous builds) or its canonical form (this one); either gives the same result,
 * because the canonical form only removes what {@link TextNormalizer#normalize} removes too. Without this a
 * database from the previous build would not find 髙橋 by 高橋 until each patient was written again.
 */
public final class SearchNormalForm implements JavaMigration {
    private static final Logger log = LoggerFactory.getLogger(SearchNormalForm.class);
    private static final int BATCH = 1000;

    @Override
    public MigrationVersion getVersion() {
        return null; // repeatable
    }

    @Override
    public String getDescription() {
        return "search normal form";
    }

    @Override
    public Integer getChecksum() {
        return TextNormalizer.formId();
    }

    @Override
    public boolean canExecuteInTransaction() {
        return true;
    }

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        long seen = 0;
        long changed = 0;
        // sp_string has no key of its own; within this transaction a row's ctid stays put until it is updated,
        // and each row is updated at most once (the cursor does not see the new versions).
        try (PreparedStatement read = c.prepareStatement("SELECT ctid::text, norm, exact FROM sp_string");
             PreparedStatement write = c.prepareStatement(
                     "UPDATE sp_string SET norm = ?, exact = ? WHERE ctid = ?::tid")) {
            read.setFetchSize(BATCH);
            int pending = 0;
            try (ResultSet rs = read.executeQuery()) {
                while (rs.next()) {
                    seen++;
                    String exact = rs.getString(3);
                    String norm = TextNormalizer.normalize(exact);
                    String canonical = TextNormalizer.canonical(exact);
                    if (norm.equals(rs.getString(2)) && canonical.equals(exact)) {
                        continue;
                    }
                    write.setString(1, norm);
                    write.setString(2, canonical);
                    write.setString(3, rs.getString(1));
                    write.addBatch();
                    changed++;
                    if (++pending == BATCH) {
                        write.executeBatch();
                        pending = 0;
                    }
                }
            }
            if (pending > 0) {
                write.executeBatch();
            }
        }
        if (changed > 0) {
            log.info("search index: {} of {} string values re-normalised (search form {})", changed, seen,
                    Integer.toHexString(TextNormalizer.formId()));
        }
    }
}
