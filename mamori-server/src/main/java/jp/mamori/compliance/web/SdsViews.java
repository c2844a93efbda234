package jp.mamori.compliance.web;

import java.util.List;

/** The view models of the service specification disclosure ({@link SdsPages}; template {@code compliance/sds.jte}). */
public final class SdsViews {
    private SdsViews() {
    }

    /**
     * @param filtered whether only one coverage is shown
     */
    public record Page(String product, String version, String at, List<Setting> settings, List<String> deviations,
                       List<Count> counts, List<Area> areas, boolean mappingPresent, boolean filtered, String csvHref) {
    }

    /** @param cls a state class (state-warn for a deviation) or "" */
    public record Setting(String label, String value, String cls) {
    }

    public record Count(String label, int n, String cls, String href, boolean current) {
    }

    public record Area(String title, List<Row> rows) {
    }

    /** @param parties the checklists' responsibility split in words, or null when no checklist item maps here */
    public record Row(String id, String text, String coverage, String coverageClass, List<Impl> impl,
                      List<ComplianceViews.EvidenceRow> evidence, String parties) {
    }

    public record Impl(String label, String how, String code, String tests) {
    }
}
