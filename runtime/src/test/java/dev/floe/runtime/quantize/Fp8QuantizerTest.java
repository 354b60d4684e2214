package dev.floe.runtime.quantize;

import dev.floe.api.DType;
import dev.floe.api.ModelOptions;
import dev.floe.api.TensorData;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Quantising tiny-arctic reproduces the tiny-arctic-fp8 fixture, whose goldens then pass. */
class Fp8QuantizerTest {
    static final Path ROOT = Path.of(System.getProperty("floe.root", "."));

    @TempDir
    Path out;

    @Test
    void reproducesTheFp8Fixture() throws IOException {
        Fp8Quantizer.Report r = Fp8Quantizer.quantise(ROOT.resolve("fixtures/tiny-arctic"), out, i -> { });
        assertTrue(r.quantised() > 0);
        Path reference = ROOT.resolve("fixtures/tiny-arctic-fp8");
        try (Checkpoint ours = Checkpoint.open(out); Checkpoint theirs = Checkpoint.open(reference)) {
            assertEquals(theirs.names(), ours.names().stream().filter(theirs.names()::contains).collect(java.util.stream.Collectors.toCollection(java.util.LinkedHashSet::new)));
            int fp8 = 0;
            for (String name : theirs.names()) {
                TensorData a = ours.tensor(name), b = theirs.tensor(name);
                assertEquals(b.dtype(), a.dtype(), name);
                if (b.dtype() != DType.F8_E4M3) continue;
                fp8++;
                byte[] x = a.data().toArray(ValueLayout.JAVA_BYTE), y = b.data().toArray(ValueLayout.JAVA_BYTE);
                int differ = 0;
                for (int i = 0; i < x.length; i++) if (x[i] != y[i]) differ++;
                assertEquals(0, differ, name + ": codes that differ from the fixture");
                float[] sa = a.scale().data().toArray(ValueLayout.JAVA_FLOAT), sb = b.scale().data().toArray(ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < sa.length; i++) assertEquals(sb[i], sa[i], Math.ulp(sb[i]) * 2, name + " scale " + i);
            }
            assertTrue(fp8 > 100, "fp8 tensors compared: " + fp8);
        }
        for (String f : List.of("golden.safetensors", "golden.json")) Files.copy(reference.resolve(f), out.resolve(f));
        try (FloeModel m = FloeEngine.load(out, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            List<CheckResult> results = GoldenChecks.run(m, GoldenFixture.load(out), "quantised", x -> { });
            assertEquals(List.of(), results.stream().filter(x -> !x.passed()).map(CheckResult::line).toList());
        }
    }

    @Test
    void refusesToOverwriteItsInput() {
        Path in = ROOT.resolve("fixtures/tiny-arctic");
        org.junit.jupiter.api.Assertions.assertThrows(dev.floe.api.ModelFormatException.class, () -> Fp8Quantizer.quantise(in, in, i -> { }));
    }
}
