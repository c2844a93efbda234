package jp.mamori.compliance;

import java.util.List;

/**
 * One section the inspection pack prints after the checklist (issue 20, "the registers the checklist asks about"):
 * a register as an inspector reads it, already in words. The pack takes them from a {@code Supplier<List<PackSection>>}
 * given at start; whatever keeps a register (devices, vendors, appointments, the contact chart, training, …) turns
 * its current rows into one of these. The pack only prints them (PDF table, CSV block, OSCAL back-matter resource).
 *
 * @param title   the register's Japanese title, e.g. {@code 連絡体制図}
 * @param columns the column labels, Japanese
 * @param rows    the rows, each with one string per column (labelled Japanese values, dates in Japan time)
 * @param note    a line printed under the table (e.g. when it was last reviewed), or null
 */
public record PackSection(String title, List<String> columns, List<List<String>> rows, String note) {
    public PackSection {
        if (title == null || title.isBlank() || columns == null || columns.isEmpty()) {
            throw new IllegalArgumentException("a pack section needs a title and columns");
        }
        columns = List.copyOf(columns);
        rows = rows == null ? List.of() : rows.stream().map(r -> r.stream().map(c -> c == null ? "" : c).toList())
                .toList();
        for (List<String> r : rows) {
            if (r.size() != columns.size()) {
                throw new IllegalArgumentException("every row of " + title + " needs " + columns.size() + " cells");
            }
        }
    }
}
