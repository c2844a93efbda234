package jp.mamori.ops;

import jp.mamori.audit.AuditReports;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Alerts on patterns of access (AUDIT-8, issue 18 §5): a person's after-hours accesses today reaching a threshold,
 * and a person's day well above their own usual volume, each exactly as the audit reports define them
 * ({@link AuditReports#afterHoursCounts}, {@link AuditReports#unusualVolume}), so that an alert and the report an
 * auditor opens next agree. One alert per person per day (Japan time); it closes when the day is over, and the
 * report keeps the accesses for review. The reports run over the trail, so they are asked at most every
 * {@code every}, not on every health tick.
 */
public final class AccessWatch implements Alerts.Source {
    /** How far back a person's usual daily volume is taken from. */
    static final Duration HISTORY = Duration.ofDays(30);

    private final AuditReports reports;
    private final Clock clock;
    private final ZoneId zone;
    private final int afterHoursPerDay;
    private final Duration every;
    private Instant lastRun;
    private List<Alerts.Finding> last = List.of();

    /**
     * @param afterHoursPerDay a person's after-hours accesses in one day that raise an alert; 0: not watched
     * @param every            how often the reports are asked at most
     */
    public AccessWatch(AuditReports reports, Clock clock, ZoneId zone, int afterHoursPerDay, Duration every) {
        this.reports = reports;
        this.clock = clock;
        this.zone = zone;
        this.afterHoursPerDay = afterHoursPerDay;
        this.every = every;
    }

    @Override
    public String prefix() {
        return "access.";
    }

    @Override
    public synchronized List<Alerts.Finding> findings() {
        Instant now = clock.instant();
        if (lastRun != null && now.isBefore(lastRun.plus(every))) {
            return last;
        }
        LocalDate today = now.atZone(zone).toLocalDate();
        Instant dayStart = today.atStartOfDay(zone).toInstant();
        List<Alerts.Finding> out = new ArrayList<>();
        if (afterHoursPerDay > 0) {
            int[] hours = reports.workingHours();
            for (AuditReports.PersonCount p : reports.afterHoursCounts(dayStart, now.plusSeconds(1))) {
                if (p.count() >= afterHoursPerDay) {
                    String who = who(p.actor(), p.display());
                    out.add(new Alerts.Finding("access.after-hours:" + p.actor() + ":" + today, "access.after-hours",
                            Map.of("actor", p.actor(), "day", today.toString(), "count", Long.toString(p.count()),
                                    "threshold", Integer.toString(afterHoursPerDay)),
                            "時間外アクセス: " + who + " が本日 時間外(" + hours[0] + "時〜" + hours[1]
                                    + "時以外・週末)に患者記録へ " + p.count() + " 件アクセスしました / after-hours access: "
                                    + who + " accessed patient records " + p.count() + " times outside working hours today"
                                    + " (threshold " + afterHoursPerDay + ")"));
                }
            }
        }
        for (AuditReports.UnusualDay d : reports.unusualVolume(dayStart.minus(HISTORY), now.plusSeconds(1))) {
            if (!d.day().equals(today)) {
                continue;
            }
            String who = who(d.actor(), d.display());
            String median = d.median() == Math.rint(d.median()) ? Long.toString((long) d.median())
                    : String.format("%.1f", d.median());
            out.add(new Alerts.Finding("access.volume:" + d.actor() + ":" + today, "access.unusual-volume",
                    Map.of("actor", d.actor(), "day", today.toString(), "count", Long.toString(d.count()),
                            "median", median),
                    "通常より多いアクセス: " + who + " が本日 患者記録へ " + d.count() + " 件アクセスしました(普段は1日 "
                            + median + " 件) / unusual volume: " + who + " accessed patient records " + d.count()
                            + " times today (usually " + median + " a day, factor " + reports.volumeFactor() + ")"));
        }
        lastRun = now;
        last = List.copyOf(out);
        return last;
    }

    private static String who(String actor, String display) {
        return display != null && !display.isBlank() ? display + " さん" : actor;
    }
}
