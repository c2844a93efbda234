package jp.mamori.identity.web;

import jp.mamori.testing.TestData;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backups page shows the Object Lock copy in one row: its bucket, its last refresh and what is wrong with it. */
class BackupConsoleObjectLockTest {
    @Test
    void theBucketsRowShowsItsStateAndItsDeviationJapaneseFirst() throws Exception {
        try (Hospital h = Hospital.open(List.of("--backup-dir", TestData.newFolder("console-s3-").toString(),
                "--backup-s3-endpoint", "http://127.0.0.1:9", "--backup-s3-bucket", "hospital-copies"))) {
            Browser.Page page = h.admin.browser.get("/console/admin/backups");
            assertEquals(200, page.status(), page::toString);
            assertTrue(page.contains("id=\"object-lock\"") && page.contains("オブジェクトロックのバケット")
                    && page.contains("hospital-copies/mamori"), page::toString);
            // without credentials (no file, no environment) the upload fails: one line, Japanese first
            assertTrue(page.contains("<p class=\"state-bad\">オブジェクトロック複製を更新できません / cannot refresh the"
                    + " Object Lock copy in bucket hospital-copies: no S3 credentials") || page.contains(
                    "オブジェクトロック複製にバックアップがまだありません / no backup is in the Object Lock copy yet"),
                    page::toString);
        }
    }
}
