package jp.mamori.bench;

import java.util.Arrays;
import java.util.Locale;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;

/** The workloads a virtual user can run; each builds the next request to send. */
enum Scenario {
    /** POST one synthetic patient. */
    CREATE(0) {
        @Override
        LoadClient.Request next(FhirRequests requests, RandomGenerator random) {
            return requests.create(random);
        }
    },
    /** GET one of the patients created during setup. */
    READ(1_000) {
        @Override
        LoadClient.Request next(FhirRequests requests, RandomGenerator random) {
            return requests.read(random);
        }
    },
    /** Search patients by one of the kanji family names. */
    SEARCH(10_000) {
        @Override
        LoadClient.Request next(FhirRequests requests, RandomGenerator random) {
            return requests.search(random);
        }
    },
    /** POST a transaction bundle of {@link FhirRequests#BUNDLE_SIZE} patients. */
    TRANSACTION(0) {
        @Override
        LoadClient.Request next(FhirRequests requests, RandomGenerator random) {
            return requests.transaction(FhirRequests.BUNDLE_SIZE, random);
        }
    },
    /** 10% create, 70% read, 20% search. */
    MIXED(1_000) {
        @Override
        LoadClient.Request next(FhirRequests requests, RandomGenerator random) {
            int dice = random.nextInt(100);
            if (dice < 10) {
                return requests.create(random);
            }
            return dice < 80 ? requests.read(random) : requests.search(random);
        }
    };

    private final int defaultPatients;

    Scenario(int defaultPatients) {
        this.defaultPatients = defaultPatients;
    }

    /** Builds the next request of a virtual user. */
    abstract LoadClient.Request next(FhirRequests requests, RandomGenerator random);

    /** Patients created during setup unless {@code --patients} says otherwise; 0 means no setup. */
    int defaultPatients() {
        return defaultPatients;
    }

    boolean needsSetup() {
        return defaultPatients > 0;
    }

    /** Whether the scenario reads patients by id, so setup must learn the ids of what it created. */
    boolean needsIds() {
        return this == READ || this == MIXED;
    }

    /** The name used on the command line. */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Scenario byLabel(String label) {
        for (Scenario scenario : values()) {
            if (scenario.label().equals(label)) {
                return scenario;
            }
        }
        return null;
    }

    static String labels() {
        return Arrays.stream(values()).map(Scenario::label).collect(Collectors.joining(", "));
    }
}
