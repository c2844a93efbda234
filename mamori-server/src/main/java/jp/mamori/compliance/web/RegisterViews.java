package jp.mamori.compliance.web;

import java.util.List;

/**
 * The view models of the registers (台帳, {@link RegisterPages}; templates {@code compliance/registers*.jte}): texts in
 * the page's language, choices and はい/いいえ in words, dates in Japan time; a row is named by its number in its
 * register (台帳番号), never by an internal id.
 */
public final class RegisterViews {
    private RegisterViews() {
    }

    /** The list of registers with their row counts and overdue reviews. */
    public record Home(List<KindRow> kinds) {
    }

    public record KindRow(String title, String hint, int rows, int overdue, String href) {
    }

    /**
     * One register as a table.
     *
     * @param headers the column labels (台帳番号 first, 次回見直し日 last)
     */
    public record Table(String key, String title, String hint, List<String> headers, List<TableRow> rows, int overdue,
                        boolean mayWrite, String notice, String exportHref, String importHref, String newHref) {
    }

    /** @param overdue whether the row's review date has passed */
    public record TableRow(int number, List<String> cells, String review, boolean overdue, String href) {
    }

    /** A form's field: its value as typed or stored, and for a choice its options. */
    public record Field(String name, String id, String label, String type, boolean required, String value,
                        List<Option> options) {
    }

    public record Option(String value, String label, boolean selected) {
    }

    /**
     * The form for a new row or a new version.
     *
     * @param entry   the row's number, or 0 for a new row
     * @param version the version edited (a change meanwhile is refused), or 0
     */
    public record Form(String key, String kindTitle, String kindHref, int entry, int version, List<Field> fields,
                       String review, String reason, String error, String csrf) {
    }

    /** One row: its values, the edit and retire forms for a writer, and its history. */
    public record Row(String key, String kindTitle, String kindHref, int entry, int version, List<Fact> facts,
                      String review, boolean overdue, boolean retired, boolean mayWrite, Form form, String retireReason,
                      String retireError, List<History> history, String notice, String csrf) {
    }

    public record Fact(String label, String value) {
    }

    /** @param changed the labels of the fields this version changed, in words */
    public record History(int version, String at, String author, String changed, String reason, boolean retired) {
    }

    /** The import form: the CSV pasted, kept on a refusal. */
    public record Import(String key, String kindTitle, String kindHref, String headers, String csv, String error,
                         String csrf) {
    }
}
