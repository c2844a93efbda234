package jp.mamori.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import com.tngtech.archunit.library.Architectures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The floors of ADR 0009, enforced: no package cycles, no upward dependency. The same rules are run against a
 * small package with a deliberate circle and an upward use, to show they fail when they should.
 */
class ArchitectureTest {
    private static JavaClasses server;

    @BeforeAll
    static void importServer() {
        // Only where our classes are (the server's classes and the ledger's, folder or jar): scanning the whole
        // class path for the package costs seconds of reading every library jar.
        server = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(location -> location.contains("/jp/mamori/")) // not the generated templates
                .importLocations(java.util.Set.of(location(jp.mamori.MamoriServer.class),
                        location(jp.mamori.ledger.Checkpoint.class)));
    }

    private static com.tngtech.archunit.core.importer.Location location(Class<?> c) {
        try {
            return com.tngtech.archunit.core.importer.Location.of(
                    c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every package of ours, each its own slice: {@code web} and {@code web.console} are two. */
    static ArchRule noCycles(String root) {
        return slices().matching(root + ".(**)").should().beFreeOfCycles();
    }

    static ArchRule floors() {
        Architectures.LayeredArchitecture rule = Architectures.layeredArchitecture()
                .consideringOnlyDependenciesInLayers()
                .withOptionalLayers(true); // a floor may be empty while its capability is being built
        for (Floors.Floor f : Floors.ALL) {
            rule = rule.layer(f.name()).definedBy(f.packages().toArray(String[]::new));
        }
        List<String> below = new ArrayList<>();
        for (Floors.Floor f : Floors.ALL) {
            if (!below.isEmpty()) {
                rule = rule.whereLayer(f.name()).mayOnlyAccessLayers(below.toArray(String[]::new));
            } else {
                rule = rule.whereLayer(f.name()).mayNotAccessAnyLayer();
            }
            below.add(f.name());
        }
        return rule;
    }

    @Test
    void noPackageOfTheServerDependsOnAnotherInACircle() {
        EvaluationResult r = noCycles("jp.mamori").evaluate(server);
        assertFalse(r.hasViolation(), () -> String.join("\n", r.getFailureReport().getDetails()));
    }

    @Test
    void everyPackageDependsOnlyOnItsOwnFloorAndTheFloorsBelow() {
        EvaluationResult r = floors().evaluate(server);
        assertFalse(r.hasViolation(), () -> String.join("\n", r.getFailureReport().getDetails()));
    }

    @Test
    void everyMainPackageIsOnAFloor() {
        List<String> outside = server.stream().map(c -> c.getPackageName()).distinct()
                .filter(p -> Floors.ALL.stream().flatMap(f -> f.packages().stream()).noneMatch(d ->
                        d.endsWith("..") ? p.equals(d.substring(0, d.length() - 2))
                                || p.startsWith(d.substring(0, d.length() - 1)) : p.equals(d)))
                .sorted().toList();
        assertTrue(outside.isEmpty(), "packages on no floor (add them to Floors): " + outside);
    }

    /** An entry's stored form is built in {@code audit} only: everyone else records typed facts through the recorder. */
    @Test
    void onlyTheAuditBuildsTheStoredFormOfAnEntry() {
        ArchRule rule = com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses()
                .that().resideOutsideOfPackage("jp.mamori.audit")
                .should().callConstructorWhere(com.tngtech.archunit.base.DescribedPredicate.describe(
                        "a constructor of AuditRecord", (com.tngtech.archunit.core.domain.JavaConstructorCall call) ->
                                call.getTargetOwner().isEquivalentTo(jp.mamori.audit.AuditRecord.class)));
        EvaluationResult r = rule.evaluate(server);
        assertFalse(r.hasViolation(), () -> String.join("\n", r.getFailureReport().getDetails()));
    }

    /** Each capability's routes stand alone: what two of them share belongs to the console core or below. */
    @Test
    void noCapabilitysRoutesUseAnothersRoutes() {
        List<String> routes = Floors.ALL.stream().filter(f -> f.name().equals("routes")).findFirst().orElseThrow()
                .packages();
        List<String> found = new ArrayList<>();
        for (String from : routes) {
            for (String to : routes) {
                if (!from.equals(to)) {
                    com.tngtech.archunit.base.DescribedPredicate<com.tngtech.archunit.core.domain.JavaClass> target =
                            com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage(to);
                    if (to.equals("jp.mamori.records.api..")) {
                        // the extension point for operations ($export, ...): a capability's routes implement it
                        target = target.and(com.tngtech.archunit.base.DescribedPredicate.not(
                                com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf(
                                        jp.mamori.records.api.FhirOperation.class,
                                        jp.mamori.records.api.FhirRequest.class)));
                    }
                    EvaluationResult r = com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses()
                            .that().resideInAPackage(from).should().dependOnClassesThat(target)
                            .allowEmptyShould(true).evaluate(server);
                    if (r.hasViolation()) {
                        found.addAll(r.getFailureReport().getDetails());
                    }
                }
            }
        }
        assertTrue(found.isEmpty(), () -> String.join("\n", found));
    }

    @Test
    void theRulesFailOnACircleAndOnAnUpwardDependency() {
        JavaClasses fixture = new ClassFileImporter().importPackagesOf(
                jp.mamori.architecture.fixture.low.LowThing.class, jp.mamori.architecture.fixture.high.HighThing.class);
        EvaluationResult cycle = noCycles("jp.mamori.architecture.fixture").evaluate(fixture);
        assertTrue(cycle.hasViolation(), "a circle between fixture.low and fixture.high was not reported");
        assertTrue(String.join("\n", cycle.getFailureReport().getDetails()).contains("fixture.low"),
                cycle.getFailureReport().toString());

        ArchRule upward = Architectures.layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("low").definedBy("jp.mamori.architecture.fixture.low..")
                .layer("high").definedBy("jp.mamori.architecture.fixture.high..")
                .whereLayer("low").mayNotAccessAnyLayer()
                .whereLayer("high").mayOnlyAccessLayers("low");
        EvaluationResult up = upward.evaluate(fixture);
        assertTrue(up.hasViolation(), "low's use of high was not reported");
        assertTrue(up.getFailureReport().toString().contains("LowThing"), up.getFailureReport().toString());
    }
}
