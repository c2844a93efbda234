package jp.mamori.compliance.web;

import java.util.List;

/**
 * The view models of the compliance console ({@link CompliancePages}; templates {@code compliance/*.jte}): texts in
 * the page's language, answers and evidence statuses in words (はい・一部・いいえ・不明), dates in Japan time.
 */
public final class ComplianceViews {
    private ComplianceViews() {
    }

    /** The list of checklists: each version with how many items are answered. */
    public record Home(List<FrameworkRow> frameworks, List<String> refusals, String notice) {
    }

    /**
     * @param href the framework page's path and query
     * @param due  how many いいえ wait for their target date
     */
    public record FrameworkRow(String title, String year, String source, int items, int answered, int no, String href,
                               boolean newest) {
    }

    /**
     * One checklist version: its items by section.
     *
     * @param packHref the inspection pack's path and query without its format
     */
    public record Framework(String title, String year, String source, List<Section> sections, int items, int answered,
                            String carriedNote, String packHref) {
    }

    public record Section(String title, List<ItemRow> items) {
    }

    /**
     * @param answer      the answer in words, or null when none
     * @param answerClass the state class of the answer (state-ok, state-warn, state-bad) or ""
     * @param dates       "確認 2026年5月1日 · 対応予定 2026年9月30日", or null
     * @param carried     "令和7年度の回答を引き継ぎ" when carried over, or null
     */
    public record ItemRow(String number, String title, String text, String party, String answer, String answerClass,
                          String dates, String carried, List<EvidenceRow> evidence, String href) {
    }

    /** @param detail a console path to the detail, or null */
    public record EvidenceRow(String status, String statusClass, String summary, String at, String detail) {
    }

    /**
     * One item: its text, the checklist's advice, the answer form and the history.
     *
     * @param mayAnswer whether the person may answer (the form is shown)
     * @param form      what the form shows: the answer in force, or what was typed when it was refused
     * @param documents the documents that answer the item (rendered by their own pages class), or null
     */
    public record Item(String frameworkTitle, String year, String frameworkHref, String framework, String version,
                       String itemId, String number, String section, String category, String title, String text,
                       String party, String examples, String risks, List<String> references,
                       List<Requirement> requirements, ItemRow row, boolean mayAnswer, Form form,
                       List<History> history, String fiscalStart, String fiscalEnd, String error, String notice,
                       String csrf, gg.jte.Content documents) {
    }

    public record Requirement(String id, String text) {
    }

    public record Form(String answer, String checked, String target, String note) {
    }

    public record History(String answer, String answerClass, String checked, String target, String note,
                          String reviewer, String at) {
    }
}
