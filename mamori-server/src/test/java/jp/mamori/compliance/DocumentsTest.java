package jp.mamori.compliance;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What {@link Documents} decides without a database: the type by content, file names, a document's standing. */
class DocumentsTest {
    @Test
    void theTypeIsDecidedByTheBytes() {
        assertEquals(Optional.of("application/pdf"), Documents.detect("%PDF-1.4\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(Optional.of("image/png"), Documents.detect(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a,
                '\n', 0}));
        assertEquals(Optional.of("image/jpeg"), Documents.detect(new byte[]{(byte) 0xff, (byte) 0xd8, (byte) 0xff, 0}));
        for (String s : List.of("<html>", "<?xml version=\"1.0\"?><svg/>", "PK\u0003\u0004", "MZ\u0090", " %PDF-1.4",
                "GIF89a", "")) {
            assertEquals(Optional.empty(), Documents.detect(s.getBytes(StandardCharsets.ISO_8859_1)), s);
        }
    }

    @Test
    void fileNamesLoseFoldersControlsAndGetTheDetectedExtension() {
        assertEquals("任命書.pdf", Documents.sanitiseFileName("C:\\Users\\kanri\\任命書.pdf", "application/pdf"));
        assertEquals("evil.html.pdf", Documents.sanitiseFileName("../../evil.html", "application/pdf"));
        assertEquals("invoicefdp.exe.png", Documents.sanitiseFileName("invoice\u202efdp.exe", "image/png"));
        assertEquals("photo.JPEG", Documents.sanitiseFileName("photo.JPEG", "image/jpeg"));
        assertEquals("document.jpg", Documents.sanitiseFileName("\u0000\n", "image/jpeg"));
        assertEquals("htaccess.png", Documents.sanitiseFileName(".htaccess", "image/png"));
        assertEquals(124, Documents.sanitiseFileName("長".repeat(500) + ".pdf", "application/pdf").length());
    }

    private static Documents.Version version(Documents.Status status, LocalDate reviewed, LocalDate expires) {
        return new Documents.Version(1, UUID.randomUUID(), 1, status, Documents.Kind.BCP, "BCP", List.of("GOV-30"),
                null, null, null, "0".repeat(64), 10, "application/pdf", "bcp.pdf",
                reviewed == null ? null : "院長", reviewed, expires, null, "admin", "管理", Instant.EPOCH);
    }

    @Test
    void aDocumentStandsValidExpiringExpiredUnreviewedOrWithdrawn() {
        LocalDate today = LocalDate.of(2026, 12, 7);
        assertEquals(Documents.Standing.VALID, Documents.standing(version(Documents.Status.CURRENT,
                today.minusDays(3), null), today));
        assertEquals(Documents.Standing.VALID, Documents.standing(version(Documents.Status.CURRENT,
                today, today.plusDays(Documents.EXPIRING_DAYS + 1)), today));
        assertEquals(Documents.Standing.EXPIRING, Documents.standing(version(Documents.Status.CURRENT,
                today, today.plusDays(Documents.EXPIRING_DAYS)), today));
        assertEquals(Documents.Standing.VALID, Documents.standing(version(Documents.Status.CURRENT,
                today, today.plusDays(Documents.EXPIRING_DAYS + 1)), today));
        assertEquals(Documents.Standing.EXPIRING, Documents.standing(version(Documents.Status.CURRENT,
                today, today), today), "the last day is still valid, and soon to expire");
        assertEquals(Documents.Standing.EXPIRED, Documents.standing(version(Documents.Status.CURRENT,
                today.minusDays(10), today.minusDays(1)), today));
        assertEquals(Documents.Standing.UNREVIEWED, Documents.standing(version(Documents.Status.CURRENT, null, null),
                today));
        assertEquals(Documents.Standing.WITHDRAWN, Documents.standing(version(Documents.Status.WITHDRAWN,
                today, null), today));
    }
}
