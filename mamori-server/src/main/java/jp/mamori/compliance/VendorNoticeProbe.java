package jp.mamori.compliance;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Vendor notices as evidence (issue 19; VULN-2, VULN-3): FAIL while a critical or high notice stays unacknowledged
 * past its 24 hours (the deviations the maintenance capability names), PASS otherwise, with the count of open
 * notices. Reads only what it is given, so that compliance needs nothing of maintenance but two plain reads.
 */
public final class VendorNoticeProbe {
    public static final String ID = "maintenance.vendor-notices";
    static final String PATH = "/console/maintenance/notices";

    private VendorNoticeProbe() {
    }

    /**
     * @param deviations one line per notice that is a deviation at the instant given ("日本語 / English")
     * @param open       how many notices are not closed
     */
    public static Probe of(Function<Instant, List<String>> deviations, Supplier<Long> open) {
        return StandardProbes.of(ID, Set.of("VULN-2", "VULN-3"), now -> {
            List<String> late;
            long count;
            try {
                late = deviations.apply(now);
                count = open.get();
            } catch (RuntimeException e) {
                return new Evidence(ID, Evidence.Status.UNKNOWN, "事業者からの通知を読めません / cannot read the vendor"
                        + " notices", PATH, now);
            }
            if (!late.isEmpty()) {
                return new Evidence(ID, Evidence.Status.FAIL, "24 時間以上確認されていない緊急・重要の通知 " + late.size()
                        + " 件 / " + late.size() + " critical or high vendor notice(s) not acknowledged within 24 h: "
                        + late.get(0), PATH, now);
            }
            return new Evidence(ID, Evidence.Status.PASS, "緊急・重要の通知はすべて 24 時間以内に確認済み（対応中 " + count
                    + " 件） / every critical or high vendor notice acknowledged within 24 h (" + count + " open)",
                    PATH, now);
        });
    }
}
