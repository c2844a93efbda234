package jp.mamori.bench;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validated command line options of {@code mamori bench}.
 *
 * @param base        FHIR base URL without a trailing slash
 * @param token       bearer token, or {@code null} for none
 * @param scenario    the workload to run
 * @param concurrency number of virtual users (worker threads)
 * @param seconds     measured duration
 * @param warmup      unmeasured duration before the measurement
 * @param insecure    trust any TLS certificate and skip hostname verification
 * @param patients    number of patients created during setup (ignored by scenarios without setup)
 */
record Options(String base, String token, Scenario scenario, int concurrency, int seconds, int warmup,
               boolean insecure, int patients, String compareBase, String compareToken, int rounds) {

    /** One base, measured once. */
    Options(String base, String token, Scenario scenario, int concurrency, int seconds, int warmup, boolean insecure,
            int patients) {
        this(base, token, scenario, concurrency, seconds, warmup, insecure, patients, null, null, 1);
    }

    /** Whether a second base is measured alternately with the first ({@code --compare-base}). */
    boolean comparing() {
        return compareBase != null;
    }

    static final String USAGE = "usage: mamori bench --base URL [--token T]"
            + " --scenario create|read|search|transaction|mixed [--concurrency N] [--seconds S]"
            + " [--warmup S] [--insecure] [--patients N]\n"
            + "       [--compare-base URL [--compare-token T] [--rounds N (3)]]   two servers measured alternately, and"
            + " the ratio\n"
            + "       mamori bench identity --data NEW-DIR [--concurrency N] [--seconds S] [--warmup S] [--accounts N]";

    private static final Set<String> WITH_VALUE =
            Set.of("--base", "--token", "--scenario", "--concurrency", "--seconds", "--warmup", "--patients",
                    "--compare-base", "--compare-token", "--rounds");

    /** A usage error; its message is one human-readable line without the "bench: " prefix. */
    static final class UsageException extends IllegalArgumentException {
        UsageException(String message) {
            super(message);
        }
    }

    /**
     * Parses and validates the arguments (the words after {@code bench}).
     * Accepts both {@code --name value} and {@code --name=value}.
     *
     * @throws UsageException on any missing, unknown, repeated or invalid option
     */
    static Options parse(List<String> args) {
        Map<String, String> values = values(args, WITH_VALUE, Set.of("--insecure"));
        boolean insecure = values.containsKey("--insecure");

        String base = parseBase(values.get("--base"));
        String token = values.get("--token");
        if (token != null && (token.isBlank() || token.chars().anyMatch(c -> c <= ' ' || c > '~'))) {
            throw new UsageException("--token must be printable ASCII without spaces");
        }
        String scenarioName = values.get("--scenario");
        Scenario scenario = scenarioName == null ? null : Scenario.byLabel(scenarioName);
        if (scenario == null) {
            throw new UsageException("--scenario must be one of " + Scenario.labels());
        }
        int concurrency = intOption(values, "--concurrency", 16, 1, 10_000);
        int seconds = intOption(values, "--seconds", 30, 1, 86_400);
        int warmup = intOption(values, "--warmup", 5, 0, 86_400);
        int patients = intOption(values, "--patients", scenario.defaultPatients(), 1, 10_000_000);
        String compareBase = values.containsKey("--compare-base") ? parseBase(values.get("--compare-base")) : null;
        String compareToken = values.get("--compare-token");
        if (compareToken != null && (compareBase == null || compareToken.isBlank()
                || compareToken.chars().anyMatch(c -> c <= ' ' || c > '~'))) {
            throw new UsageException("--compare-token goes with --compare-base and must be printable ASCII without"
                    + " spaces");
        }
        if (values.containsKey("--rounds") && compareBase == null) {
            throw new UsageException("--rounds goes with --compare-base");
        }
        int rounds = intOption(values, "--rounds", compareBase == null ? 1 : 3, 1, 100);
        return new Options(base, token, scenario, concurrency, seconds, warmup, insecure, patients, compareBase,
                compareToken, rounds);
    }

    /**
     * The options among {@code args}, as {@code --name value} or {@code --name=value}; each option of
     * {@code withValue} at most once, each of {@code flags} alone (mapped to "").
     *
     * @throws UsageException on an unknown, repeated or valueless option
     */
    static Map<String, String> values(List<String> args, Set<String> withValue, Set<String> flags) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            String name = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                name = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (flags.contains(name) && value == null) {
                values.put(name, "");
                continue;
            }
            if (!withValue.contains(name)) {
                throw new UsageException("unknown option '" + arg + "'");
            }
            if (value == null) {
                if (i + 1 >= args.size() || args.get(i + 1).startsWith("--")) {
                    throw new UsageException(name + " requires a value");
                }
                value = args.get(++i);
            }
            if (values.put(name, value) != null) {
                throw new UsageException(name + " given more than once");
            }
        }
        return values;
    }

    /** The required {@code --data} folder of an in-process benchmark, absolute. */
    static java.nio.file.Path dataOption(Map<String, String> values) {
        String data = values.get("--data");
        if (data == null || data.isBlank()) {
            throw new UsageException("--data is required: a new folder for the bench server's database");
        }
        return java.nio.file.Path.of(data).toAbsolutePath().normalize();
    }

    private static String parseBase(String raw) {
        if (raw == null) {
            throw new UsageException("--base is required (e.g. --base https://127.0.0.1:8443/fhir)");
        }
        String base = raw.strip();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        URI uri;
        try {
            uri = new URI(base);
        } catch (Exception e) {
            uri = null;
        }
        if (uri == null || uri.getHost() == null || uri.getQuery() != null || uri.getFragment() != null
                || !("http".equalsIgnoreCase(uri.getScheme()) || "https".equalsIgnoreCase(uri.getScheme()))) {
            throw new UsageException("--base must be an http:// or https:// URL, got '" + raw + "'");
        }
        return base;
    }

    static int intOption(Map<String, String> values, String name, int fallback, int min, int max) {
        String raw = values.get(name);
        if (raw == null) {
            return fallback;
        }
        int value;
        try {
            value = Integer.parseInt(raw.strip());
        } catch (NumberFormatException e) {
            value = Integer.MIN_VALUE;
        }
        if (value < min || value > max) {
            throw new UsageException(name + " must be a whole number from " + min + " to " + max + ", got '" + raw + "'");
        }
        return value;
    }

    /**
     * A time in seconds, whole or decimal ({@code 20}, {@code 0.25}), in milliseconds: short runs check a benchmark's
     * wiring without holding the machine for a second per measurement.
     */
    static long millisOption(Map<String, String> values, String name, long fallbackMillis, long minMillis,
                             long maxMillis) {
        String raw = values.get(name);
        if (raw == null) {
            return fallbackMillis;
        }
        long value;
        try {
            value = new java.math.BigDecimal(raw.strip()).movePointRight(3).setScale(0, java.math.RoundingMode.UNNECESSARY)
                    .longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            value = Long.MIN_VALUE;
        }
        if (value < minMillis || value > maxMillis) {
            throw new UsageException(name + " must be a number of seconds from " + minMillis / 1000.0 + " to "
                    + maxMillis / 1000 + " (at most 3 decimals), got '" + raw + "'");
        }
        return value;
    }
}
