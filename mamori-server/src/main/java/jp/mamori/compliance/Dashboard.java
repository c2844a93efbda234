package jp.mamori.compliance;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The executive dashboard's judgement (経営層向け, issue 20 "Outputs"; GOV-7 the 企画管理者 reports the state to
 * management, GOV-2 evaluation, review and improvement): red, amber or green per area of the guideline, from the answers and the probes of the
 * newest version of every checklist, and what is overdue. Pure: the caller gives the frameworks, their answers in
 * force, the evidence and today's date (in Japan).
 *
 * <p>An item belongs to every area whose families its requirement IDs name (AUTH-2 → 技術的安全管理). An area is
 * <b>red</b> when a probe of one of its items is at FAIL or a いいえ is past its target date; <b>amber</b> when a probe
 * is PARTIAL or UNKNOWN (an expired document's probe is PARTIAL), an answer is 一部, a いいえ awaits its target date,
 * or an item is not answered yet (nothing checked is not the same as nothing wrong); <b>green</b> otherwise.
 */
public final class Dashboard {
    public enum Colour { GREEN, AMBER, RED }

    /** An area of the guideline as an executive knows it, and the requirement families it gathers. */
    public record AreaDef(String id, String titleJa, String titleEn, List<String> families) {
    }

    /** The areas, in the order the dashboard shows them; every family of the requirement catalogue is in one. */
    public static final List<AreaDef> AREAS = List.of(
            new AreaDef("organisational", "組織的安全管理", "Organisational", List.of("GOV", "HR", "DATA")),
            new AreaDef("technical", "技術的安全管理", "Technical",
                    List.of("AUTH", "ACCT", "ACCESS", "AUDIT", "NET", "CRYPTO", "MAL", "SIGN")),
            new AreaDef("storage", "保存・バックアップ", "Storage and backups", List.of("BACKUP", "STORE", "DISPOSAL", "EXT")),
            new AreaDef("continuity", "事業継続・事故対応", "Continuity and incidents", List.of("DEGRADED", "INC")),
            new AreaDef("vendors", "委託・保守・外部サービス", "Vendors and maintenance",
                    List.of("SUPPLY", "MAINT", "VULN", "PHR")),
            new AreaDef("physical", "物理的安全管理", "Physical", List.of("PHYS")));

    /** The family of a requirement ID: {@code AUTH} of {@code AUTH-2}. */
    static String family(String requirementId) {
        int dash = requirementId.indexOf('-');
        return dash > 0 ? requirementId.substring(0, dash) : requirementId;
    }

    /**
     * One area's state.
     *
     * @param reasons the figures that decide the colour, Japanese, worst first
     */
    public record Area(AreaDef def, Colour colour, List<String> reasons, int items, int answered, int overdue,
                       int failing, int warning) {
    }

    /** A いいえ past its target date, or a probe at FAIL. */
    public record Overdue(Framework framework, Framework.Item item, LocalDate target) {
    }

    /** The checklists' items never answered, per framework (newest versions). */
    public record Unanswered(Framework framework, int count, int items) {
    }

    public record View(List<Area> areas, List<Overdue> overdue, List<Evidence> failing, List<Unanswered> unanswered) {
    }

    private Dashboard() {
    }

    /**
     * @param newest  the newest version of every framework
     * @param answers the answers in force of each (as {@link Answers#current})
     */
    public static View compute(List<Framework> newest, Map<Framework, Map<String, Answers.Current>> answers,
                               EvidenceSource source, LocalDate today) {
        Map<String, Acc> acc = new LinkedHashMap<>();
        for (AreaDef a : AREAS) {
            acc.put(a.id(), new Acc());
        }
        List<Overdue> overdue = new ArrayList<>();
        Map<String, Evidence> failing = new LinkedHashMap<>();
        List<Unanswered> unanswered = new ArrayList<>();
        for (Framework fw : newest) {
            Map<String, Answers.Current> cur = answers.getOrDefault(fw, Map.of());
            int none = 0;
            for (Framework.Item it : fw.items()) {
                Answers.Current c = cur.get(it.id());
                Answers.Entry e = c == null ? null : c.entry();
                List<Evidence> ev = source.forItem(it);
                boolean late = e != null && e.answer() == Answers.Answer.NO && e.target() != null
                        && e.target().isBefore(today);
                if (late) {
                    overdue.add(new Overdue(fw, it, e.target()));
                }
                if (e == null) {
                    none++;
                }
                for (Evidence x : ev) {
                    if (x.status() == Evidence.Status.FAIL) {
                        failing.putIfAbsent(x.probeId(), x);
                    }
                }
                Set<String> areas = new LinkedHashSet<>();
                for (String req : it.requirements()) {
                    String f = family(req);
                    for (AreaDef a : AREAS) {
                        if (a.families().contains(f)) {
                            areas.add(a.id());
                        }
                    }
                }
                for (String id : areas) {
                    Acc a = acc.get(id);
                    a.items++;
                    if (e == null) {
                        a.unanswered++;
                    } else {
                        a.answered++;
                        if (late) {
                            a.late++;
                        } else if (e.answer() == Answers.Answer.NO) {
                            a.planned++;
                        } else if (e.answer() == Answers.Answer.PARTIAL) {
                            a.partial++;
                        }
                    }
                    for (Evidence x : ev) {
                        switch (x.status()) {
                            case FAIL -> a.fail.add(x.probeId());
                            case PARTIAL, UNKNOWN -> a.warn.add(x.probeId());
                            case PASS -> a.pass.add(x.probeId());
                        }
                    }
                }
            }
            if (none > 0) {
                unanswered.add(new Unanswered(fw, none, fw.items().size()));
            }
        }
        List<Area> areas = new ArrayList<>();
        for (AreaDef d : AREAS) {
            Acc a = acc.get(d.id());
            List<String> why = new ArrayList<>();
            if (!a.fail.isEmpty()) {
                why.add("システムによる確認で不適合 " + a.fail.size() + " 件");
            }
            if (a.late > 0) {
                why.add("対応予定日を過ぎた「いいえ」 " + a.late + " 件");
            }
            if (!a.warn.isEmpty()) {
                why.add("システムによる確認で一部適合・確認できず " + a.warn.size() + " 件");
            }
            if (a.planned > 0) {
                why.add("対応予定日前の「いいえ」 " + a.planned + " 件");
            }
            if (a.partial > 0) {
                why.add("「一部」の回答 " + a.partial + " 件");
            }
            if (a.unanswered > 0) {
                why.add("未回答 " + a.unanswered + " 件");
            }
            Colour colour = !a.fail.isEmpty() || a.late > 0 ? Colour.RED
                    : !a.warn.isEmpty() || a.planned > 0 || a.partial > 0 || a.unanswered > 0 ? Colour.AMBER
                    : Colour.GREEN;
            if (why.isEmpty()) {
                why.add(a.items == 0 ? "この分野の項目はありません" : "すべて「はい」または「該当なし」、システムによる確認も適合");
            }
            areas.add(new Area(d, colour, List.copyOf(why), a.items, a.answered, a.late, a.fail.size(),
                    a.warn.size()));
        }
        overdue.sort(java.util.Comparator.comparing(Overdue::target));
        return new View(List.copyOf(areas), List.copyOf(overdue), List.copyOf(failing.values()),
                List.copyOf(unanswered));
    }

    private static final class Acc {
        int items;
        int answered;
        int unanswered;
        int late;
        int planned;
        int partial;
        final Set<String> fail = new LinkedHashSet<>();
        final Set<String> warn = new LinkedHashSet<>();
        final Set<String> pass = new LinkedHashSet<>();
    }
}
