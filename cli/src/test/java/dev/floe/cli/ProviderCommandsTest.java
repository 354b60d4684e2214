package dev.floe.cli;

import dev.floe.runtime.Plugins;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** floe routers, floe schedulers, floe backends with origins, --plugin-path, generate --trace-routing. */
class ProviderCommandsTest {
    @Test
    void routersAndSchedulersListOriginsAndTypedParameters() {
        CommandsTest.Run r = CommandsTest.run("routers");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("softmax-topk  ") && r.out().contains("    from dev.floe.gating "), r.out());
        assertTrue(r.out().contains("    capacity_factor (double, default 1.0): "), r.out());
        CommandsTest.Run s = CommandsTest.run("schedulers");
        assertEquals(0, s.status(), s.err());
        assertTrue(s.out().contains("splitfuse  Dynamic SplitFuse") && s.out().contains("min-chunk (int, default 16)"), s.out());
        CommandsTest.Run b = CommandsTest.run("backends");
        assertTrue(b.out().contains("SPI version 2, from dev.floe.backend.cpu "), b.out());
    }

    @Test
    void aMissingPluginFolderIsNamedOnAnyCommand() {
        try {
            for (List<String> args : List.of(List.of("--plugin-path", "/no/such/dir", "routers"), List.of("backends", "--plugin-path", "/no/such/dir"))) {
                CommandsTest.Run r = CommandsTest.run(args.toArray(String[]::new));
                assertEquals(2, r.status(), r.out());
                assertTrue(r.err().contains("--plugin-path: plugin path entry /no/such/dir does not exist"), r.err());
            }
        } finally {
            System.clearProperty(Plugins.PROPERTY);
        }
    }

    @Test
    void generateWritesTheRoutingTraceAsJsonLines(@TempDir Path dir) throws Exception {
        Path trace = dir.resolve("routing.jsonl");
        CommandsTest.Run r = CommandsTest.run("generate", "def f(x):", "-n", "3", "--quiet-stats", "--trace-routing", trace.toString());
        assertEquals(0, r.status(), r.err());
        List<String> lines = Files.readAllLines(trace);
        assertTrue(r.err().contains(lines.size() + " routing decisions written to " + trace), r.err());
        assertTrue(lines.getFirst().matches("\\{\"pass\":0,\"layer\":\\d+,\"position\":0,\"token\":\\d+,\"experts\":\\[\\d+,\\d+],\"weights\":\\[.*]}"),
                lines.getFirst());
        assertTrue(lines.getLast().startsWith("{\"pass\":2,"), lines.getLast());
    }
}
