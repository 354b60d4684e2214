package dev.floe.runtime.quantize;

import dev.floe.api.DType;
import dev.floe.api.ModelOptions;
import dev.floe.api.TensorData;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.SafetensorsWriter;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import dev.floe.api.Quantization;
import dev.floe.runtime.config.ConfigReader;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.ScaleLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

    /**
     * Each scale layout and config convention: the config reads back as written, every FP8 weight's scale has the
     * expected name and layout, dequantising gives the original weights within E4M3's rounding, each scale is tight
     * (its group's largest value becomes 448), and the forms committed as fixtures are reproduced byte for byte.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"tensor, FP8, tiny-arctic-fp8-tensor", "block:48x48, FP8, tiny-arctic-fp8-block",
            "block:32x64, COMPRESSED_TENSORS, tiny-arctic-fp8-ct-block", "channel, COMPRESSED_TENSORS, ",
            "tensor, COMPRESSED_TENSORS, ", "block:128x128, FP8, ", "block:16x40, FP8, "})
    void roundTrips(String scales, Fp8Quantizer.Format format, String fixture) throws IOException {
        ScaleLayout layout = switch (scales) {
            case "tensor" -> new ScaleLayout.Tensor();
            case "channel" -> new ScaleLayout.Channel();
            default -> ScaleLayout.Block.parse(scales.substring("block:".length()));
        };
        Path in = ROOT.resolve("fixtures/tiny-arctic");
        Fp8Quantizer.quantise(in, out, new Fp8Quantizer.Options(layout, format), i -> { });
        Quantization q = ConfigReader.read(out).quantization();
        assertEquals(format == Fp8Quantizer.Format.FP8 ? "fp8" : "compressed-tensors", q.method());
        assertEquals(layout instanceof ScaleLayout.Block b ? List.of(b.rows(), b.cols()) : List.of(), q.weightBlockSize());
        ScaleLayout.Block block = layout instanceof ScaleLayout.Block b ? b : null;
        String suffix = format == Fp8Quantizer.Format.FP8 && block != null ? "_scale_inv" : "_scale";
        int fp8 = 0;
        try (Checkpoint ours = Checkpoint.open(out); Checkpoint original = Checkpoint.open(in)) {
            for (String name : ours.names()) {
                TensorData t = ours.tensor(name);
                if (t.dtype() != DType.F8_E4M3) continue;
                fp8++;
                assertEquals(name + suffix, t.scale().name());
                ScaleLayout read = ScaleLayout.of(t, block);
                // a 1x1 grid (128x128 blocks on a 64-wide weight) is one scale, which also reads as per-tensor
                if (!(block != null && t.scale().numel() == 1)) assertEquals(layout, read, name);
                float[] deq = FloatFormats.toFloats(t, read);
                float[] orig = FloatFormats.toFloats(original.tensor(name));
                java.util.Map<Long, Float> groupMax = new java.util.HashMap<>();
                long cols = t.cols();
                for (int i = 0; i < deq.length; i++) {
                    float scale = ScaleLayout.scaleAt(t, read, i / cols, i % cols);
                    double bound = Math.abs(orig[i]) * 0x1p-4 + scale * 0x1p-10;
                    assertTrue(Math.abs(deq[i] - orig[i]) <= bound, name + "[" + i + "]: " + deq[i] + " vs " + orig[i]);
                    groupMax.merge(read.index(i / cols, i % cols, cols), Math.abs(deq[i]) / scale, Math::max);
                }
                for (var e : groupMax.entrySet()) assertEquals(448f, e.getValue(), 448f * 0x1p-20, name + " group " + e.getKey());
            }
            assertTrue(fp8 > 100, "fp8 tensors: " + fp8);
            if (fixture == null) return;
            try (Checkpoint committed = Checkpoint.open(ROOT.resolve("fixtures").resolve(fixture))) {
                assertEquals(committed.names(), ours.names());
                for (String name : committed.names()) {
                    TensorData a = ours.tensor(name), b = committed.tensor(name);
                    assertEquals(b.dtype(), a.dtype(), name);
                    assertArrayEquals(b.data().toArray(ValueLayout.JAVA_BYTE), a.data().toArray(ValueLayout.JAVA_BYTE), name);
                }
            }
        }
    }

    /**
     * {@code --head} quantises lm_head too: one more FP8 weight (with its row scales), the config no longer lists the
     * head as kept, and the model computes the logits of its dequantised head: those of the same checkpoint with
     * lm_head written back in F32 from the FP8 codes and scales, on prompts of several lengths.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Fp8Quantizer.Format.class)
    void quantisesTheHeadWhenAsked(Fp8Quantizer.Format format) throws IOException {
        Path in = ROOT.resolve("fixtures/tiny-arctic"), fp8 = out.resolve("fp8"), withHead = out.resolve("head"), deq = out.resolve("deq");
        ScaleLayout rows = new ScaleLayout.Channel();
        int kept = Fp8Quantizer.quantise(in, fp8, new Fp8Quantizer.Options(rows, format), i -> { }).quantised();
        assertEquals(kept + 1, Fp8Quantizer.quantise(in, withHead, new Fp8Quantizer.Options(rows, format, true), i -> { }).quantised());
        assertTrue(ConfigReader.read(fp8).quantization().modulesNotConverted().contains("lm_head"));
        assertTrue(!ConfigReader.read(withHead).quantization().modulesNotConverted().contains("lm_head"));
        List<TensorData> tensors = new java.util.ArrayList<>();
        try (Checkpoint ck = Checkpoint.open(withHead)) {
            TensorData head = ck.tensor("lm_head.weight");
            assertEquals(DType.F8_E4M3, head.dtype());
            assertEquals(head.rows(), head.scale().numel(), "one scale per vocabulary row");
            float[] values = FloatFormats.toFloats(head, rows);
            var seg = java.lang.foreign.Arena.ofAuto().allocate((long) values.length * 4);
            for (int i = 0; i < values.length; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, values[i]);
            tensors.add(new TensorData("lm_head.weight", DType.F32, head.shape(), seg, null));
            for (String name : ck.names()) {
                TensorData t = ck.tensor(name);
                if (!name.startsWith("lm_head") && !ck.isScale(name)) {
                    tensors.add(t.withScale(null));
                    if (t.scale() != null) tensors.add(t.scale());
                }
            }
            Files.createDirectories(deq);
            SafetensorsWriter.write(deq.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        }
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json")) {
            if (Files.exists(withHead.resolve(f))) Files.copy(withHead.resolve(f), deq.resolve(f));
        }
        ModelOptions cpu = ModelOptions.DEFAULTS.withBackend("cpu-vector");
        try (FloeModel quantised = FloeEngine.load(withHead, cpu, l -> { }); FloeModel reference = FloeEngine.load(deq, cpu, l -> { })) {
            for (int length : new int[]{1, 5, 23}) {
                int[] prompt = java.util.stream.IntStream.range(0, length).map(i -> (i * 37 + 11) % 512).toArray();
                float[] got, want;
                try (var s = quantised.newSession(64)) {
                    got = s.prefillLast(prompt);
                }
                try (var s = reference.newSession(64)) {
                    want = s.prefillLast(prompt);
                }
                float scale = 0;
                for (float w : want) scale = Math.max(scale, Math.abs(w));
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], scale * 1e-5f, "prompt of " + length + ", logit " + i);
                }
            }
        }
    }

    /** 128x128 blocks as DeepSeek-V3 ships them, on a weight whose last blocks are ragged both ways. */
    @Test
    void blockScalesOf128x128OnARaggedWeight() {
        int rows = 300, cols = 260;
        float[] w = new float[rows * cols];
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int i = 0; i < w.length; i++) w[i] = (float) random.nextGaussian() * (1 + i / cols / 128);
        w[299 * cols + 259] = 1000f; // the last element, in the ragged corner block, sets that block's scale
        var seg = java.lang.foreign.Arena.ofAuto().allocate((long) w.length * 4);
        for (int i = 0; i < w.length; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, w[i]);
        TensorData t = new TensorData("w", DType.F32, new long[]{rows, cols}, seg, null);
        ScaleLayout.Block b = new ScaleLayout.Block(128, 128);
        float[] s = Fp8Quantizer.scales(t, b);
        assertEquals(9, s.length, "a 3x3 grid");
        for (int gr = 0; gr < 3; gr++) {
            for (int gc = 0; gc < 3; gc++) {
                float max = 0;
                for (int r = gr * 128; r < Math.min(rows, gr * 128 + 128); r++) {
                    for (int c = gc * 128; c < Math.min(cols, gc * 128 + 128); c++) max = Math.max(max, Math.abs(w[r * cols + c]));
                }
                assertEquals(max / 448f, s[gr * 3 + gc], "block " + gr + "," + gc);
            }
        }
        assertEquals(1000f / 448f, s[8]);
    }

    @Test
    void refusesToOverwriteItsInput() {
        Path in = ROOT.resolve("fixtures/tiny-arctic");
        org.junit.jupiter.api.Assertions.assertThrows(dev.floe.api.ModelFormatException.class, () -> Fp8Quantizer.quantise(in, in, i -> { }));
    }
}
