package dev.floe.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every provider is declared twice, for the module path ({@code provides} in {@code module-info.java}) and for the
 * class path ({@code META-INF/services}), so that applications on the class path (Spring Boot, fat jars) find them
 * too. The two must name the same classes, in every module of the build and every example.
 */
class ServiceDeclarationsTest {
    private static final Path ROOT = CommandsTest.ROOT;
    private static final Pattern PROVIDES = Pattern.compile("provides\\s+([\\w.]+)\\s+with\\s+([\\w.,\\s]+);");

    @Test
    void metaInfServicesMatchModuleInfoProvides() throws IOException {
        List<Path> modules = new ArrayList<>();
        try (Stream<Path> files = Files.walk(ROOT, 6)) {
            files.filter(p -> p.endsWith(Path.of("src/main/java/module-info.java")))
                    .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/.git/")).forEach(modules::add);
        }
        assertTrue(modules.size() >= 10, "found only " + modules);
        int declared = 0;
        for (Path moduleInfo : modules) {
            Path moduleDir = moduleInfo.getParent().getParent().getParent().getParent();
            Map<String, List<String>> provides = provides(Files.readString(moduleInfo));
            Map<String, List<String>> services = services(moduleDir.resolve("src/main/resources/META-INF/services"));
            assertEquals(provides, services, ROOT.relativize(moduleDir) + ": META-INF/services must list what module-info provides");
            declared += provides.size();
        }
        assertTrue(declared >= 7, "only " + declared + " services declared");
    }

    static Map<String, List<String>> provides(String moduleInfo) {
        String code = moduleInfo.replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
        Map<String, List<String>> out = new TreeMap<>();
        Matcher m = PROVIDES.matcher(code);
        while (m.find()) {
            out.put(m.group(1), Stream.of(m.group(2).split(",")).map(String::strip).sorted().toList());
        }
        return out;
    }

    private static Map<String, List<String>> services(Path dir) throws IOException {
        Map<String, List<String>> out = new TreeMap<>();
        if (!Files.isDirectory(dir)) return out;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                // binary names (Outer$Inner) in the file, source names in module-info
                out.put(f.getFileName().toString(), Files.readAllLines(f).stream().map(l -> l.replaceAll("#.*", "").strip())
                        .filter(l -> !l.isEmpty()).map(l -> l.replace('$', '.')).sorted().toList());
            }
        }
        return out;
    }
}
