package jp.mamori.compliance;

import java.util.List;
import java.util.Optional;

/**
 * One version of a checklist as data (issue 20, "Checklists as data"; GOV-16, GOV-28 … GOV-40): its items grouped
 * in sections, each with the party responsible for it (責任分界) and the requirement IDs it maps to. The format is
 * docs/compliance-frameworks.md; {@link FrameworkLoader} reads and checks it.
 *
 * @param fiscalYear the fiscal year (年度, April to March) the version is answered in; a いいえ's target date lies in it
 * @param origin     where it was read from (a classpath seed or a file of the {@code --compliance-dir} folder)
 */
public record Framework(String id, String version, int fiscalYear, String titleJa, String titleEn, Source source,
                        List<Section> sections, List<Item> items, String origin) {

    /** The document the items are taken from. */
    public record Source(String document, String date, String url) {
    }

    public record Section(String id, String titleJa, String titleEn) {
    }

    /**
     * One item.
     *
     * @param number       the number as printed (e.g. {@code 4②}); several rows may share one
     * @param category     the 分類 column, when the checklist has one
     * @param party        who is responsible: {@code 医療機関}, {@code 事業者} or {@code 共同}
     * @param title        the title as the checklist prints it (Japanese first)
     * @param text           the item's text (Japanese first)
     * @param replaces     the id of an earlier version's item whose answer this one keeps, or null
     * @param titleEn      the English title, or null where the checklist has none (then {@code title} is shown)
     * @param textEn       the English text, or null where the checklist has none (then {@code text} is shown); the
     *                     requirement catalogue has both, as its source is English and the console is Japanese first
     */
    public record Item(String id, String section, String number, String category, String title, String text,
                       String party, String examples, String risks, List<String> references,
                       List<String> requirements, String replaces, String titleEn, String textEn) {

        /** An item with no English title or text (the checklists of seed 004 are Japanese only). */
        public Item(String id, String section, String number, String category, String title, String text,
                    String party, String examples, String risks, List<String> references,
                    List<String> requirements, String replaces) {
            this(id, section, number, category, title, text, party, examples, risks, references, requirements,
                    replaces, null, null);
        }

        /** The title in the reader's language: the English one where there is one and English is asked for. */
        public String title(boolean english) {
            return english && titleEn != null ? titleEn : title;
        }

        /** The text in the reader's language: the English one where there is one and English is asked for. */
        public String text(boolean english) {
            return english && textEn != null ? textEn : text;
        }
    }

    /** The responsible parties a file may name (責任分界). */
    public static final List<String> PARTIES = List.of("医療機関", "事業者", "共同");

    public Optional<Item> item(String itemId) {
        return items.stream().filter(i -> i.id().equals(itemId)).findFirst();
    }

    public Optional<Section> section(String sectionId) {
        return sections.stream().filter(s -> s.id().equals(sectionId)).findFirst();
    }

    /** The fiscal year in Japanese: 令和8年度 for 2026. */
    public String fiscalYearJa() {
        return fiscalYear >= 2019 ? "令和" + (fiscalYear - 2018) + "年度" : fiscalYear + "年度";
    }
}
