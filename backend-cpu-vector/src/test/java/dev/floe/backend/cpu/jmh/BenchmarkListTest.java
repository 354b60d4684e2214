package dev.floe.backend.cpu.jmh;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JMH finds benchmarks only through the list its annotation processor writes when the test classes compile; javac
 * runs no processor it is not given, so a build change can silently leave {@code jmh.sh} with nothing to run.
 */
class BenchmarkListTest {
    @Test
    void everyBenchmarkIsListedForJmh() throws IOException {
        String list;
        try (InputStream in = BenchmarkListTest.class.getClassLoader().getResourceAsStream("META-INF/BenchmarkList")) {
            assertNotNull(in, "META-INF/BenchmarkList is missing: the JMH annotation processor did not run");
            list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        for (Class<?> c : List.of(GemmBenchmark.class, MatvecBenchmark.class, KernelRateBenchmark.class, MultiplyAddPeakBenchmark.class,
                MicroKernelBenchmark.class)) {
            assertTrue(list.contains(c.getName()), c.getName() + " is not in META-INF/BenchmarkList");
        }
    }
}
