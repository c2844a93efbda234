package jp.mamori.retention.web;

import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** How the retention pages word things for a person, and what they make of a query they did not write. */
class RetentionPagesTest {
    private static final Messages JA = Messages.of(ConsoleRequest.Lang.JA);

    @Test
    void aNoticeIsShownOnlyForAKnownOutcome() {
        assertEquals("廃棄バッチを却下しました", RetentionPages.notice(JA, "rejected"));
        assertNull(RetentionPages.notice(JA, "zzz"), "an unknown outcome in the query is ignored, not an error");
        assertNull(RetentionPages.notice(JA, "<script>"));
        assertNull(RetentionPages.notice(JA, ""));
    }

    @Test
    void aFhirTypeIsNamedInJapaneseWhereATextExists() {
        assertEquals("検査・観察結果", RetentionPages.typeName(JA, "Observation"));
        assertEquals("調剤", RetentionPages.typeName(JA, "MedicationDispense"));
        assertEquals("Basic", RetentionPages.typeName(JA, "Basic"));
    }
}
