package dev.floe.cli;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The dependency rules of DESIGN.md, checked on the compiled classes of every module. */
class ArchitectureTest {
    static JavaClasses floe;

    @BeforeAll
    static void importClasses() {
        floe = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.floe");
    }

    /** api exposes no third-party type: it depends on java.* and itself only. */
    static final ArchRule API_IS_SELF_CONTAINED = classes().that().resideInAPackage("dev.floe.api..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("dev.floe.api..", "java..");

    /** spi builds on api only, and exposes no backend type. */
    static final ArchRule SPI_ON_API_ONLY = classes().that().resideInAPackage("dev.floe.spi..")
            .should().onlyDependOnClassesThat().resideInAnyPackage("dev.floe.spi..", "dev.floe.api..", "java..");

    /** Nothing depends on a backend: backends are found through ServiceLoader. */
    static final ArchRule NOTHING_DEPENDS_ON_BACKENDS = noClasses().that().resideOutsideOfPackage("dev.floe.backend..")
            .should().dependOnClassesThat().resideInAPackage("dev.floe.backend..");

    /** Backends implement kernels; they do not know the runtime, the model graph, routers or schedulers. */
    static final ArchRule BACKENDS_ON_SPI_ONLY = noClasses().that().resideInAPackage("dev.floe.backend..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.floe.runtime..", "dev.floe.gating..",
                    "dev.floe.scheduler..", "dev.floe.tck..", "dev.floe.cli..");

    /** The runtime finds routers and schedulers by name, never by class. */
    static final ArchRule RUNTIME_FINDS_PLUGINS_BY_NAME = noClasses().that().resideInAPackage("dev.floe.runtime..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.floe.gating..", "dev.floe.scheduler..", "dev.floe.tck..", "dev.floe.cli..");

    /** Plug-ins build on api and spi. */
    static final ArchRule PLUGINS_ON_API_AND_SPI = noClasses().that().resideInAnyPackage("dev.floe.gating..", "dev.floe.scheduler..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.floe.runtime..", "dev.floe.cli..", "dev.floe.tck..");

    @Test
    void apiIsSelfContained() {
        API_IS_SELF_CONTAINED.check(floe);
    }

    @Test
    void spiDependsOnApiOnly() {
        SPI_ON_API_ONLY.check(floe);
    }

    @Test
    void nothingDependsOnBackends() {
        NOTHING_DEPENDS_ON_BACKENDS.check(floe);
    }

    @Test
    void backendsDependOnSpiOnly() {
        BACKENDS_ON_SPI_ONLY.check(floe);
    }

    @Test
    void runtimeFindsPluginsByName() {
        RUNTIME_FINDS_PLUGINS_BY_NAME.check(floe);
    }

    @Test
    void pluginsDependOnApiAndSpi() {
        PLUGINS_ON_API_AND_SPI.check(floe);
    }

    /** The rules can fail: classes that break them, imported on their own, are rejected. */
    @Test
    void rulesRejectViolations() {
        // imported by package, from bytecode: the test module need not read the modules these classes name
        JavaClasses bad = new ClassFileImporter().importPackages("dev.floe.api.leak", "dev.floe.runtime.leak", "dev.floe.backend.leak");
        assertThrows(AssertionError.class, () -> API_IS_SELF_CONTAINED.check(bad));
        assertThrows(AssertionError.class, () -> NOTHING_DEPENDS_ON_BACKENDS.check(bad));
        assertThrows(AssertionError.class, () -> RUNTIME_FINDS_PLUGINS_BY_NAME.check(bad));
    }
}
