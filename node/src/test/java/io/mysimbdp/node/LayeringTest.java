package io.mysimbdp.node;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAnyPackage;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The node's packages depend one way (docs/architecture.md, "Layers"): the front ends ({@code http},
 * {@code monitoring}, {@code health}) → the tenant entity ({@code entity}: the actor, its workers'
 * wiring, its reporting) → the balancer and the ingestion work ({@code stream}, {@code batch}) → the
 * pipeline pieces ({@code pipeline}) → the tenant's functions ({@code functions}) → the base
 * ({@code report}, {@code tenant}, {@code broker}, {@code coredms}, {@code embedded}, {@code errors}).
 * {@code Main} and {@code Node} wire them all; the root package's settings and serialization marker
 * are base.
 */
class LayeringTest {

  private static JavaClasses classes;

  @BeforeAll
  static void importClasses() {
    classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.mysimbdp.node");
  }

  @Test
  void packagesDependOneWay() {
    layeredArchitecture()
        .consideringOnlyDependenciesInLayers()
        .layer("Wiring").definedBy(belongToAnyOf(Main.class, Node.class))
        .layer("Front").definedBy("io.mysimbdp.node.http..", "io.mysimbdp.node.monitoring..", "io.mysimbdp.node.health..")
        .layer("Entity").definedBy("io.mysimbdp.node.entity..")
        .layer("Balancer").definedBy("io.mysimbdp.node.balance..")
        .layer("Work").definedBy("io.mysimbdp.node.stream..", "io.mysimbdp.node.batch..")
        .layer("Pipeline").definedBy("io.mysimbdp.node.pipeline..")
        .layer("Functions").definedBy("io.mysimbdp.node.functions..")
        .layer("Base").definedBy(
            resideInAnyPackage(
                    "io.mysimbdp.node.report..", "io.mysimbdp.node.tenant..", "io.mysimbdp.node.broker..",
                    "io.mysimbdp.node.coredms..", "io.mysimbdp.node.embedded..", "io.mysimbdp.node.errors..")
                .or(belongToAnyOf(CborSerializable.class, NodeSettings.class, CommonPoolParallelism.class, DaemonThreads.class)))
        .whereLayer("Wiring").mayNotBeAccessedByAnyLayer()
        .whereLayer("Front").mayOnlyBeAccessedByLayers("Wiring")
        .whereLayer("Entity").mayOnlyBeAccessedByLayers("Wiring", "Front")
        .whereLayer("Balancer").mayOnlyBeAccessedByLayers("Wiring", "Front", "Entity")
        .whereLayer("Work").mayOnlyBeAccessedByLayers("Wiring", "Front", "Entity")
        .whereLayer("Pipeline").mayOnlyBeAccessedByLayers("Wiring", "Front", "Entity", "Work")
        .whereLayer("Functions").mayOnlyBeAccessedByLayers("Wiring", "Front", "Entity", "Work", "Pipeline")
        .check(classes);
  }

  @Test
  void theBalancerImportsNoIngestionClass() {
    noClasses().that().resideInAPackage("io.mysimbdp.node.balance..")
        .should().dependOnClassesThat().resideInAnyPackage(
            "io.mysimbdp.node.entity..", "io.mysimbdp.node.stream..", "io.mysimbdp.node.batch..",
            "io.mysimbdp.node.pipeline..", "io.mysimbdp.node.functions..")
        .check(classes);
  }

  @Test
  void theBasePackagesKnowNothingAboveThem() {
    slices().matching("io.mysimbdp.node.(*)..").should().beFreeOfCycles().check(classes);
  }
}
