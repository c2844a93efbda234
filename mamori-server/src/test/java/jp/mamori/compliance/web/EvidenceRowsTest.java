package jp.mamori.compliance.web;

import jp.mamori.chart.JpDates;
import jp.mamori.compliance.Evidence;
import jp.mamori.compliance.EvidenceSource;
import jp.mamori.compliance.Framework;
import jp.mamori.web.console.ConsoleRequest;
import jp.mamori.web.console.Messages;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * An item's live evidence as the console shows it (issue 20): the status in words, each probe once, a detail link only
 * to a console path, and nothing (not an error page) when the evidence source fails.
 */
class EvidenceRowsTest {
    private static final Framework.Item ITEM = new Framework.Item("p1-k-4-2", "s", "4②", null, "管理・運用",
            "不要なアカウントを削除しているか。", "医療機関", null, null, List.of(), List.of("ACCT-2", "ACCT-1"), null);
    private static final Instant AT = Instant.parse("2026-12-07T01:30:00Z");

    @Test
    void statusesInWordsEachProbeOnceAndOnlyConsoleLinks() {
        EvidenceSource source = id -> switch (id) {
            case "ACCT-2" -> List.of(new Evidence("identity.leavers", Evidence.Status.FAIL,
                    "退職者のアカウントが 2 件残っています / 2 leavers' accounts remain", "/console/admin/accounts?unused=1",
                    AT), new Evidence("identity.unused", Evidence.Status.PASS, "未使用なし / none unused",
                    "javascript:alert(1)", AT));
            case "ACCT-1" -> List.of(new Evidence("identity.leavers", Evidence.Status.FAIL, "again", null, AT),
                    new Evidence("identity.ledger", Evidence.Status.UNKNOWN, "確認できません / cannot look",
                            "https://elsewhere.example/", AT));
            default -> List.of();
        };
        List<ComplianceViews.EvidenceRow> rows = CompliancePages.evidenceRows(source, ITEM,
                Messages.of(ConsoleRequest.Lang.JA), JpDates.tokyo(), JpDates.Lang.JA);
        assertEquals(3, rows.size(), rows::toString);
        assertEquals("いいえ", rows.get(0).status());
        assertEquals("state-bad", rows.get(0).statusClass());
        assertEquals("/console/admin/accounts?unused=1", rows.get(0).detail());
        assertEquals("はい", rows.get(1).status());
        assertNull(rows.get(1).detail(), "no script link");
        assertEquals("不明", rows.get(2).status());
        assertNull(rows.get(2).detail(), "no link off the console");
        assertEquals(JpDates.tokyo().dateTime(AT, JpDates.Lang.JA), rows.get(0).at());
    }

    @Test
    void aFailingSourceShowsNoEvidence() {
        EvidenceSource broken = id -> {
            throw new IllegalStateException("probe registry down");
        };
        assertEquals(List.of(), CompliancePages.evidenceRows(broken, ITEM, Messages.of(ConsoleRequest.Lang.EN),
                JpDates.tokyo(), JpDates.Lang.EN));
        assertEquals("Partly", Messages.of(ConsoleRequest.Lang.EN).get("compliance.evidence.PARTIAL"));
    }
}
