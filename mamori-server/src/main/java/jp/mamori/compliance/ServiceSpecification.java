package jp.mamori.compliance;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Mamori's サービス仕様適合開示書 (service specification disclosure, SDS; issue 20, 2省GL; GOV-31, GOV-36, GOV-39,
 * SUPPLY-12), generated, never hand-written: for every requirement of the catalogue, whether the product provides it
 * (from the requirement → code → test mapping, {@link GuidelineMapping}), how, which code and tests show it, what the
 * running server says about it now (the live probes' evidence) and who carries it in the checklists' responsibility
 * split; above them, the running configuration that decides several answers and every deviation from the secure
 * defaults. A hospital reads it before contracting and at each inspection; the version on screen is always the one of
 * the server it describes.
 *
 * <p>A requirement no mapping row names is "not a product function": the institution meets it by its own operation
 * (rules, registers, documents) or a later version of Mamori will; the disclosure never claims more than the mapping.
 */
public final class ServiceSpecification {

    /** How far the product itself meets a requirement. */
    public enum Coverage {
        PROVIDED("対応", "provided"),
        PARTLY("一部対応", "partly provided"),
        NOT_PROVIDED("製品の機能なし（医療機関等の運用で対応）", "not a product function (the institution's operation)");

        public final String ja;
        public final String en;

        Coverage(String ja, String en) {
            this.ja = ja;
            this.en = en;
        }
    }

    /**
     * One setting of the running server that an answer depends on.
     *
     * @param secure whether it is the guideline-compliant default (else a deviation the disclosure names)
     */
    public record Setting(String labelJa, String labelEn, String value, boolean secure) {
    }

    /**
     * One requirement as disclosed.
     *
     * @param parties the responsible parties the checklists give for items mapped to this requirement (医療機関, 事業者,
     *                共同), in the order met; empty when no checklist item maps to it
     */
    public record Entry(String id, String sectionJa, String sectionEn, String text, String textEn, Coverage coverage,
                        List<GuidelineMapping.Row> rows, List<Evidence> evidence, List<String> parties) {
    }

    /** The disclosure as of {@code at}. */
    public record Disclosure(String product, String version, Instant at, List<Setting> settings,
                             List<String> deviations, List<Entry> entries, Map<Coverage, Integer> counts,
                             boolean mappingPresent) {
    }

    private final Frameworks frameworks;
    private final Optional<GuidelineMapping> mapping;
    private final EvidenceSource evidence;
    private final Supplier<List<Setting>> settings;
    private final Supplier<List<String>> deviations;
    private final String version;
    private final Clock clock;

    public ServiceSpecification(Frameworks frameworks, Optional<GuidelineMapping> mapping, EvidenceSource evidence,
                                Supplier<List<Setting>> settings, Supplier<List<String>> deviations, String version,
                                Clock clock) {
        this.frameworks = frameworks;
        this.mapping = mapping;
        this.evidence = evidence;
        this.settings = settings;
        this.deviations = deviations;
        this.version = version;
        this.clock = clock;
    }

    /** Builds the disclosure now: the newest catalogue, the mapping, and the probes' latest evidence. */
    public Disclosure build() {
        Framework cat = frameworks.newest(Frameworks.CATALOGUE).orElse(null);
        List<Entry> entries = new ArrayList<>();
        Map<Coverage, Integer> counts = new EnumMap<>(Coverage.class);
        for (Coverage c : Coverage.values()) {
            counts.put(c, 0);
        }
        if (cat != null) {
            Map<String, Set<String>> parties = parties();
            for (Framework.Item it : cat.items()) {
                List<GuidelineMapping.Row> rows = mapping.map(m -> m.forRequirement(it.id())).orElse(List.of());
                Coverage cov = rows.isEmpty() ? Coverage.NOT_PROVIDED
                        : rows.stream().allMatch(GuidelineMapping.Row::partly) ? Coverage.PARTLY : Coverage.PROVIDED;
                counts.merge(cov, 1, Integer::sum);
                List<Evidence> ev;
                try {
                    ev = evidence.forRequirement(it.id());
                } catch (RuntimeException e) {
                    ev = List.of();
                }
                Framework.Section s = cat.section(it.section()).orElse(null);
                entries.add(new Entry(it.id(), s == null ? "" : s.titleJa(), s == null ? "" : s.titleEn(),
                        it.text(), it.text(true), cov, rows, ev == null ? List.of() : List.copyOf(ev),
                        List.copyOf(parties.getOrDefault(it.id(), Set.of()))));
            }
        }
        return new Disclosure("Mamori", version, clock.instant(), List.copyOf(settings.get()),
                List.copyOf(deviations.get()), List.copyOf(entries), Map.copyOf(counts), mapping.isPresent());
    }

    /**
     * The disclosure as CSV for a spreadsheet (UTF-8 with BOM, formula cells neutralised: {@link jp.mamori.kernel.Csv}):
     * one row per requirement with the product's coverage, the implementation as the mapping says it, the code and
     * tests, the live evidence with its time (ISO-8601, UTC) and the checklists' responsibility split.
     */
    public static String csv(Disclosure d) {
        StringBuilder sb = new StringBuilder(jp.mamori.kernel.Csv.BOM);
        jp.mamori.kernel.Csv.row(sb, "要件ID / requirement", "区分 / area", "要件 / text", "要件（英語） / text (English)",
                "製品の対応 / coverage",
                "製品での実装（英語） / implementation", "コード / code", "試験 / tests", "システムの確認 / live evidence",
                "チェックリスト上の分担 / responsibility", "製品 / product", "作成日時 / generated");
        for (Entry e : d.entries()) {
            StringBuilder how = new StringBuilder();
            StringBuilder code = new StringBuilder();
            StringBuilder tests = new StringBuilder();
            for (GuidelineMapping.Row r : e.rows()) {
                how.append(how.isEmpty() ? "" : "\n").append(r.how());
                code.append(code.isEmpty() ? "" : ", ").append(String.join(", ", r.code()));
                tests.append(tests.isEmpty() ? "" : ", ").append(String.join(", ", r.tests()));
            }
            StringBuilder ev = new StringBuilder();
            for (Evidence x : e.evidence()) {
                ev.append(ev.isEmpty() ? "" : "\n").append(x.status().name()).append(" ").append(x.summary())
                        .append(" (").append(x.at()).append(")");
            }
            jp.mamori.kernel.Csv.row(sb, e.id(), e.sectionJa(), e.text(), e.textEn(), e.coverage().ja + " / " + e.coverage().en,
                    how.toString(), code.toString(), tests.toString(), ev.toString(), String.join("・", e.parties()),
                    d.product() + " " + d.version(), d.at().toString());
        }
        return sb.toString();
    }

    /**
     * The disclosure as live evidence (probe {@code vendor.disclosure}): the vendor's duty to explain (GOV-12), the
     * functional specification the institution keeps (GOV-34), a disclosure that follows every change (GOV-36,
     * GOV-39) and the report of the products used with their tests (SUPPLY-12, with the SBOM): PASS when the mapping is
     * in this build, with the coverage counts; UNKNOWN without it.
     */
    public Probe probe() {
        return StandardProbes.of("vendor.disclosure", java.util.Set.of("GOV-12", "GOV-34", "GOV-36", "GOV-39",
                "SUPPLY-12"), now -> {
            Disclosure d = build();
            if (!d.mappingPresent() || d.entries().isEmpty()) {
                return new Evidence("vendor.disclosure", Evidence.Status.UNKNOWN, "サービス仕様適合開示書を作成できません"
                        + "（対応表がこのビルドにありません） / the SDS cannot be generated: no mapping in this build",
                        "/console/compliance/sds", now);
            }
            int provided = d.counts().getOrDefault(Coverage.PROVIDED, 0);
            int partly = d.counts().getOrDefault(Coverage.PARTLY, 0);
            int not = d.counts().getOrDefault(Coverage.NOT_PROVIDED, 0);
            return new Evidence("vendor.disclosure", Evidence.Status.PASS, "サービス仕様適合開示書（" + d.product() + " "
                    + d.version() + "）を稼働中の設定から生成：要件 " + d.entries().size() + " 件のうち 対応 " + provided
                    + "・一部対応 " + partly + "・製品の機能なし " + not + " / the SDS is generated from the running"
                    + " configuration: " + provided + " provided, " + partly + " partly, " + not + " not a product"
                    + " function", "/console/compliance/sds", now);
        });
    }

    /** For each requirement, the parties the newest version of every other checklist gives its mapped items. */
    private Map<String, Set<String>> parties() {
        Map<String, Set<String>> out = new java.util.HashMap<>();
        Set<String> seen = new LinkedHashSet<>();
        for (Framework fw : frameworks.all()) {
            if (fw.id().equals(Frameworks.CATALOGUE) || !seen.add(fw.id())) {
                continue;
            }
            Framework newest = frameworks.newest(fw.id()).orElse(fw);
            for (Framework.Item it : newest.items()) {
                for (String q : it.requirements()) {
                    out.computeIfAbsent(q, k -> new LinkedHashSet<>()).add(it.party());
                }
            }
        }
        return out;
    }
}
