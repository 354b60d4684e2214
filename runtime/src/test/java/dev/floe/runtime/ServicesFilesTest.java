package dev.floe.runtime;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.module.ModuleDescriptor;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The test-only {@code META-INF/services} files (read only when tests run on the class path, as PIT runs them) list
 * exactly the providers that the {@code provides} clauses of their modules' {@code module-info} declare.
 */
class ServicesFilesTest {
    private static final Path SERVICES = Path.of(System.getProperty("floe.root", "."), "runtime", "src", "test",
            "resources", "META-INF", "services");

    @Test
    void eachServicesFileMatchesTheModuleDescriptors() throws Exception {
        try (Stream<Path> files = Files.list(SERVICES)) {
            for (Path file : files.toList()) {
                String service = file.getFileName().toString();
                Set<String> listed = new TreeSet<>(Files.readAllLines(file).stream()
                        .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList());
                assertFalse(listed.isEmpty(), file.toString());
                Set<String> declared = new TreeSet<>();
                for (String provider : listed) {
                    descriptorOf(Class.forName(provider)).provides().stream().filter(p -> p.service().equals(service))
                            .forEach(p -> declared.addAll(p.providers()));
                }
                assertEquals(declared, listed, service + ": " + file + " vs. module-info provides");
            }
        }
    }

    private static ModuleDescriptor descriptorOf(Class<?> c) throws IOException, URISyntaxException {
        Path where = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (Files.isDirectory(where)) {
            try (InputStream in = Files.newInputStream(where.resolve("module-info.class"))) {
                return ModuleDescriptor.read(in);
            }
        }
        try (JarFile jar = new JarFile(where.toFile()); InputStream in = jar.getInputStream(jar.getEntry("module-info.class"))) {
            return ModuleDescriptor.read(in);
        }
    }
}
