package jp.mamori.access;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Tells the security manager (セキュリティ責任者) at once that something needs their attention, e.g. a
 * break-glass use. Implementations must not throw: a channel that is down must not stop the emergency.
 */
public interface SecurityNotifier {

    /**
     * One notice.
     *
     * @param event  short machine name, e.g. {@code break-glass.start} (also the syslog MSGID)
     * @param fields what the notice is about (principal, patient, reason...), in order
     * @param text   one line for people, Japanese first
     */
    record Notice(String event, Instant at, UUID breakGlassId, Map<String, String> fields, String text) {
        public Notice {
            fields = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(fields));
        }
    }

    void notify(Notice notice);

    /** Every channel in turn; one failing does not keep the notice from the others. */
    static SecurityNotifier all(List<SecurityNotifier> channels) {
        List<SecurityNotifier> copy = List.copyOf(channels);
        return notice -> {
            for (SecurityNotifier n : copy) {
                try {
                    n.notify(notice);
                } catch (RuntimeException e) {
                    org.slf4j.LoggerFactory.getLogger(SecurityNotifier.class).warn(
                            "security notice {} not delivered by {}: {}", notice.event(), n.getClass().getSimpleName(),
                            e.toString());
                }
            }
        };
    }
}
