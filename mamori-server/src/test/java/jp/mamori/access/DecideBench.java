package jp.mamori.access;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A JMH-free measurement of {@link PersonAccess#decide}: one person holding 20 roles (in 20 departments) with
 * 1,000 care relationships, deciding a mix of permitted and refused requests, some with sensitivity labels.
 * Run from the test classpath: {@code java -cp ... jp.mamori.access.DecideBench [rounds] [decisionsPerRound]}.
 * Prints nanoseconds per decision; the figure is for docs, never asserted.
 */
public final class DecideBench {
    public record Result(double nsPerDecide, double nsPerContext, long permitted, long total) {
    }

    static final String[] CATEGORIES = {"demographics", "encounters", "clinical_notes", "nursing", "orders",
            "medication", "results", "billing"};

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int perRound = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        for (int r = 0; r < rounds; r++) {
            Result res = run(perRound);
            System.out.printf("round %d: %.1f ns per decide(), %.0f ns per PersonContext build, %d of %d permitted%n",
                    r + 1, res.nsPerDecide(), res.nsPerContext(), res.permitted(), res.total());
        }
    }

    public static Result run(int decisions) {
        Instant now = Instant.parse("2026-11-23T03:00:00Z");
        List<Category> cats = new ArrayList<>();
        for (String c : CATEGORIES) {
            boolean clinical = !Set.of("demographics", "encounters", "billing").contains(c);
            cats.add(new Category(c, c, c, clinical));
        }
        List<PersonContext.HeldRole> roles = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Map<String, Set<Action>> p = new HashMap<>();
            for (int k = 0; k < 5; k++) {
                p.put(CATEGORIES[(i + k) % CATEGORIES.length], EnumSet.of(Action.READ, Action.SEARCH, Action.UPDATE));
            }
            roles.add(new PersonContext.HeldRole("role" + i, "dept" + i,
                    i == 19 ? PersonContext.Scope.HOSPITAL : PersonContext.Scope.DEPARTMENT, i != 18, p));
        }
        Map<String, List<PersonContext.Care>> care = new HashMap<>();
        for (int i = 0; i < 1_000; i++) {
            care.put("patient-" + i, List.of(new PersonContext.Care(i % 10 == 0 ? null : "dept" + (i % 25),
                    now.minus(Duration.ofDays(3)), i % 7 == 0 ? now.plus(Duration.ofDays(1)) : null)));
        }
        String[] patients = new String[2_000];
        for (int i = 0; i < patients.length; i++) {
            patients[i] = "patient-" + i;   // half of them have no relationship
        }
        Set<String> none = Set.of();
        Set<String> psy = Set.of("PSY");
        PersonAccess access = new PersonAccess(Set.of("R", "PSY", "HIV", "GDIS", "VIP", "EMP"));
        Action[] actions = Action.values();

        int contexts = 2_000;
        long t0 = System.nanoTime();
        PersonContext who = null;
        for (int i = 0; i < contexts; i++) {
            who = new PersonContext(UUID.randomUUID(), roles, Set.of("HIV"), care);
        }
        long t1 = System.nanoTime();

        long permitted = 0;
        long start = System.nanoTime();
        for (int i = 0; i < decisions; i++) {
            Category c = cats.get(i % cats.size());
            Decision d = access.decide(who, patients[(i * 31) % patients.length], c, actions[i % 4],
                    (i & 15) == 0 ? psy : none, now);
            if (d.permitted()) {
                permitted++;
            }
        }
        long end = System.nanoTime();
        return new Result((end - start) / (double) decisions, (t1 - t0) / (double) contexts, permitted, decisions);
    }

    private DecideBench() {
    }
}
