package jp.mamori.compliance;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executive dashboard's colours (issue 20; GOV-7, GOV-2): an area turns red when a probe of its items fails or a
 * いいえ passes its target date, amber for 一部, a probe PARTIAL (an expired document) or items not answered, and green
 * when every item is はい or 該当なし and every probe passes. Every requirement family of the catalogue is in an area.
 */
class DashboardTest {
    static final Instant AT = Instant.parse("2026-12-07T01:00:00Z");
    static final LocalDate TODAY = LocalDate.of(2026, 12, 7);

    static Framework framework() {
        Framework.Item acct = new Framework.Item("a", "s", "1", null, "不要なアカウント", "不要なアカウントを削除しているか。",
                "医療機関", null, null, List.of(), List.of("ACCT-2"), null);
        Framework.Item backup = new Framework.Item("b", "s", "2", null, "バックアップ", "バックアップを取得しているか。",
                "共同", null, null, List.of(), List.of("BACKUP-6"), null);
        Framework.Item phys = new Framework.Item("c", "s", "3", null, "入退室", "入退室を管理しているか。",
                "医療機関", null, null, List.of(), List.of("PHYS-1"), null);
        return new Framework("t", "2026", 2026, "点検表", "Checklist", new Framework.Source("点検表", null, null),
                List.of(new Framework.Section("s", "管理", "Management")), List.of(acct, backup, phys), "test");
    }

    static Answers.Current answer(String item, Answers.Answer a, LocalDate target) {
        return new Answers.Current(new Answers.Entry(1, "t", "2026", item, a, LocalDate.of(2026, 5, 1), target, null,
                "管理", AT), null);
    }

    static Dashboard.Colour colour(Dashboard.View v, String area) {
        return v.areas().stream().filter(a -> a.def().id().equals(area)).findFirst().orElseThrow().colour();
    }

    @Test
    void coloursFollowTheProbesAndTheAnswers() {
        Framework fw = framework();
        Map<String, Answers.Current> answers = new HashMap<>();
        answers.put("a", answer("a", Answers.Answer.YES, null));
        answers.put("b", answer("b", Answers.Answer.YES, null));
        answers.put("c", answer("c", Answers.Answer.NA, null));
        Map<String, Evidence.Status> probe = new HashMap<>(Map.of("ACCT-2", Evidence.Status.PASS,
                "BACKUP-6", Evidence.Status.PASS));
        EvidenceSource source = id -> probe.containsKey(id) ? List.of(new Evidence("p-" + id, probe.get(id),
                "要約 / summary", null, AT)) : List.of();

        Dashboard.View v = Dashboard.compute(List.of(fw), Map.of(fw, answers), source, TODAY);
        assertEquals(Dashboard.Colour.GREEN, colour(v, "technical"));
        assertEquals(Dashboard.Colour.GREEN, colour(v, "storage"));
        assertEquals(Dashboard.Colour.GREEN, colour(v, "physical"));
        assertTrue(v.overdue().isEmpty() && v.failing().isEmpty() && v.unanswered().isEmpty());

        // a probe fails: its area turns red, and the failing probe is listed
        probe.put("ACCT-2", Evidence.Status.FAIL);
        v = Dashboard.compute(List.of(fw), Map.of(fw, answers), source, TODAY);
        assertEquals(Dashboard.Colour.RED, colour(v, "technical"));
        assertEquals(Dashboard.Colour.GREEN, colour(v, "storage"));
        assertEquals(1, v.failing().size());
        assertTrue(v.areas().get(1).reasons().get(0).contains("不適合 1 件"), v.areas().get(1).reasons().toString());

        // an expired document's probe is PARTIAL: amber
        probe.put("BACKUP-6", Evidence.Status.PARTIAL);
        v = Dashboard.compute(List.of(fw), Map.of(fw, answers), source, TODAY);
        assertEquals(Dashboard.Colour.AMBER, colour(v, "storage"));

        // いいえ with a target still ahead: amber; past it: red and overdue
        answers.put("c", answer("c", Answers.Answer.NO, LocalDate.of(2027, 1, 31)));
        v = Dashboard.compute(List.of(fw), Map.of(fw, answers), source, TODAY);
        assertEquals(Dashboard.Colour.AMBER, colour(v, "physical"));
        assertTrue(v.overdue().isEmpty());
        answers.put("c", answer("c", Answers.Answer.NO, LocalDate.of(2026, 12, 6)));
        v = Dashboard.compute(List.of(fw), Map.of(fw, answers), source, TODAY);
        assertEquals(Dashboard.Colour.RED, colour(v, "physical"));
        assertEquals(1, v.overdue().size());
        assertEquals("c", v.overdue().get(0).item().id());

        // 一部, and an item never answered: amber, and the unanswered count
        answers.put("c", answer("c", Answers.Answer.PARTIAL, LocalDate.of(2027, 1, 31)));
        answers.remove("b");
        probe.put("BACKUP-6", Evidence.Status.PASS);
        v = Dashboard.compute(List.of(fw), Map.of(fw, answers), source, TODAY);
        assertEquals(Dashboard.Colour.AMBER, colour(v, "physical"));
        assertEquals(Dashboard.Colour.AMBER, colour(v, "storage"));
        assertEquals(1, v.unanswered().get(0).count());
    }

    @Test
    void everyFamilyOfTheCatalogueIsInOneArea() {
        Framework catalogue = new Frameworks(null).load().all().stream().filter(f -> f.id().contains("requirement"))
                .findFirst().orElseThrow();
        for (Framework.Item it : catalogue.items()) {
            for (String req : it.requirements()) {
                String family = Dashboard.family(req);
                long in = Dashboard.AREAS.stream().filter(a -> a.families().contains(family)).count();
                assertEquals(1, in, req);
            }
        }
    }
}
