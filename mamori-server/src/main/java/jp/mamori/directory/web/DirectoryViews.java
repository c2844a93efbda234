package jp.mamori.directory.web;

import java.util.List;

/** What the directory page's templates show: words and times already in the reader's language, no ids. */
public final class DirectoryViews {
    private DirectoryViews() {
    }

    /** One configuration line: a label and its value (never the password). */
    public record Setting(String label, String value) {
    }

    public record RunRow(String at, String trigger, String by, boolean success, String result, int checked, int linked,
                         int suspended, int refused) {
    }

    public record SuspendedRow(String name, String loginId, String why, String dn, String at, String state,
                               boolean enabledAgain, String accountHref) {
    }

    /**
     * @param value        the department, or the qualification's name in the reader's language
     * @param licenceLabel the licence number's name (医籍登録番号...) when accepting needs one; null otherwise
     */
    public record ProposalRow(long seq, String name, String loginId, String kind, String value, String at,
                              String licenceLabel) {
    }

    public record Home(String notice, String error, boolean failing, String failure, String lastSuccess,
                       List<Setting> settings, List<RunRow> runs, List<SuspendedRow> suspended,
                       List<ProposalRow> proposals, boolean proposing, List<String> unmapped, String csrf) {
    }

    public record Tile(String href, String text, boolean failing) {
    }
}
