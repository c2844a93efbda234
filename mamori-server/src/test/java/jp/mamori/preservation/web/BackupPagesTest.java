package jp.mamori.preservation.web;

import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** How the backups page words what the backups say: Japanese first, times, sizes and durations for a person. */
class BackupPagesTest {
    @Test
    void aLineOfTheBackupsIsShownJapaneseFirst() {
        assertEquals("オフラインの複製がありません / no offline or write-protected backup copy (--backup-offline-dir)",
                BackupPages.japaneseFirst("no offline or write-protected backup copy (--backup-offline-dir)"
                        + " / オフラインの複製がありません"));
        assertEquals("部品 a が壊れています / part a is damaged", BackupPages.japaneseFirst("部品 a が壊れています / part a is damaged"));
        assertEquals("only English", BackupPages.japaneseFirst("only English"));
        assertEquals("a / b", BackupPages.japaneseFirst("a / b"));
    }

    @Test
    void aBackupIdIsItsTimeAndSizesAndDurationsAreReadable() {
        assertEquals(Optional.of(Instant.parse("2026-12-06T17:00:00.123Z")), BackupPages.idTime("20261206T170000123Z"));
        assertEquals(Optional.empty(), BackupPages.idTime("not-an-id"));
        assertEquals("43.9 MB", BackupPages.size(43_900_000));
        assertEquals("1.50 GB", BackupPages.size(1_500_000_000L));
        Messages ja = Messages.of(ConsoleRequest.Lang.JA);
        Messages en = Messages.of(ConsoleRequest.Lang.EN);
        assertEquals("4.0 秒", BackupPages.duration(ja, Duration.ofMillis(4012)));
        assertEquals("2 分 5 秒", BackupPages.duration(ja, Duration.ofSeconds(125)));
        assertEquals("3 h 20 min", BackupPages.duration(en, Duration.ofMinutes(200)));
        assertEquals("2 d 1 h", BackupPages.duration(en, Duration.ofHours(49)));
    }
}
