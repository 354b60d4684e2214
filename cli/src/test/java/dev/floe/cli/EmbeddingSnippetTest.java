package dev.floe.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's embedding snippet, taken from the README itself, runs in a fresh JVM both on the class path (as Spring
 * Boot and fat jars run, where only {@code META-INF/services} declares providers) and on the module path.
 */
class EmbeddingSnippetTest {
    private static final Path ROOT = CommandsTest.ROOT;

    @Test
    void theReadmeSnippetRunsOnTheClassPath(@TempDir Path tmp) throws Exception {
        String out = run(tmp, "-cp", "--add-modules", "jdk.incubator.vector");
        assertTrue(out.contains("GenerationResult[text=\""), out);
    }

    @Test
    void theReadmeSnippetRunsOnTheModulePath(@TempDir Path tmp) throws Exception {
        String out = run(tmp, "--module-path", "--add-modules", "ALL-MODULE-PATH");
        assertTrue(out.contains("GenerationResult[text=\""), out);
    }

    private static String run(Path tmp, String pathOption, String... flags) throws IOException, InterruptedException {
        Matcher m = Pattern.compile("## Embedding Floe\\s+```java\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(ROOT.resolve("README.md")));
        assertTrue(m.find(), "README.md has no java snippet under 'Embedding Floe'");
        Path source = tmp.resolve("Embed.java");
        Files.writeString(source, """
                import dev.floe.api.*;
                import java.nio.file.Path;
                public class Embed {
                    public static void main(String[] args) {
                %s        System.out.println();
                    }
                }
                """.formatted(m.group(1).replace("System.out.print(token.text())", "System.out.print(token.text())")
                .replaceFirst("\\}\\s*$", "    System.out.println(r);\n}\n")));
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(List.of(flags));
        command.addAll(List.of("--enable-native-access=ALL-UNNAMED", pathOption, floePath(), source.toString()));
        Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes());
        }
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + out);
        assertEquals(0, p.exitValue(), String.join(" ", command) + "\n" + out);
        return out;
    }

    /** Floe's jars (or class folders) and their dependencies from this test's own path, without the test tools. */
    private static String floePath() {
        String path = System.getProperty("jdk.module.path", "");
        if (path.isEmpty()) path = System.getProperty("java.class.path");
        return Stream.of(path.split(File.pathSeparator))
                .filter(e -> Stream.of("junit", "opentest4j", "apiguardian", "archunit", "slf4j-nop", "test-classes", "surefire")
                        .noneMatch(e::contains))
                .reduce((a, b) -> a + File.pathSeparator + b).orElseThrow();
    }
}
