package dev.floe.tck.kernel;

import dev.floe.spi.FloatFormats;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.oracle.Formats;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The scalar conversions every backend must agree with bit for bit ({@link FloatFormats}), against the independent
 * decoders of {@link Formats} and the tables of {@code fixtures/fp8-tables.safetensors}.
 */
final class FormatChecks {
    private FormatChecks() {
    }

    static List<Check> all() {
        List<Check> checks = new ArrayList<>();
        for (boolean e4m3 : new boolean[]{true, false}) {
            String fmt = e4m3 ? "fp8-e4m3" : "fp8-e5m2";
            checks.add(new Check(KernelChecks.CATEGORY, "kernel.formats." + fmt + ".decode-table", ctx -> decodeTable(ctx, e4m3)));
            checks.add(new Check(KernelChecks.CATEGORY, "kernel.formats." + fmt + ".encode-table", ctx -> encodeTable(ctx, e4m3)));
            checks.add(new Check(KernelChecks.CATEGORY, "kernel.formats." + fmt + ".saturation", ctx -> saturation(e4m3)));
        }
        checks.add(new Check(KernelChecks.CATEGORY, "kernel.formats.bf16.rounding", FormatChecks::bf16Rounding));
        checks.add(new Check(KernelChecks.CATEGORY, "kernel.formats.f16-bf16.decode-all-codes", ctx -> decode16()));
        return checks;
    }

    private static Path tables(TckContext ctx) {
        Path p = ctx.root() == null ? null : ctx.root().resolve("fixtures/fp8-tables.safetensors");
        if (p == null || !Files.exists(p)) throw new Check.Skip("fixtures/fp8-tables.safetensors not found (no Floe checkout)");
        return p;
    }

    private static boolean same(double a, double b) {
        return Double.isNaN(a) ? Double.isNaN(b) : Double.compare(a, b) == 0;
    }

    /** Every code's value in the fixture, FloatFormats and the oracle. */
    static Measurement decodeTable(TckContext ctx, boolean e4m3) {
        float[] table = Fp8Tables.read(tables(ctx)).floats(e4m3 ? "e4m3fn.decode" : "e5m2.decode");
        int mismatches = 0;
        String first = "";
        for (int c = 0; c < 256; c++) {
            double fixture = table[c];
            double ours = e4m3 ? FloatFormats.e4m3ToFloat(c) : FloatFormats.e5m2ToFloat(c);
            double oracle = e4m3 ? Formats.e4m3(c) : Formats.e5m2(c);
            if (!same(fixture, ours) || !same(fixture, oracle)) {
                if (mismatches++ == 0) first = String.format("code 0x%02X: fixture %s, FloatFormats %s, oracle %s", c, fixture, ours, oracle);
            }
        }
        return Measurement.ofMismatches(mismatches, mismatches == 0 ? "256 codes" : first);
    }

    /** Round-to-nearest-even encoding of the fixture's inputs, by FloatFormats and by exhaustive search. */
    static Measurement encodeTable(TckContext ctx, boolean e4m3) {
        String prefix = e4m3 ? "e4m3fn" : "e5m2";
        Fp8Tables tables = Fp8Tables.read(tables(ctx));
        float[] inputs = tables.floats(prefix + ".encode.input");
        int[] codes = tables.codes(prefix + ".encode.code");
        int mismatches = 0;
        String first = "";
        for (int i = 0; i < inputs.length; i++) {
            float x = inputs[i];
            int expected = codes[i];
            int ours = e4m3 ? FloatFormats.floatToE4m3(x, true) : FloatFormats.floatToE5m2(x, true);
            int oracle = Formats.nearestFp8(x, e4m3);
            if (ours != expected || oracle != expected) {
                if (mismatches++ == 0) first = String.format("input %s: fixture 0x%02X, FloatFormats 0x%02X, oracle 0x%02X", x, expected, ours, oracle);
            }
        }
        return Measurement.ofMismatches(mismatches, mismatches == 0 ? inputs.length + " inputs" : first);
    }

    /** Beyond the largest finite value: saturating gives +-max, otherwise NaN (E4M3) or infinity (E5M2). */
    static Measurement saturation(boolean e4m3) {
        float[] beyond = e4m3 ? new float[]{480f, 500f, 1e6f, Float.POSITIVE_INFINITY, 3e38f}
                : new float[]{65536f, 1e6f, Float.POSITIVE_INFINITY, 3e38f};
        int max = e4m3 ? 0x7E : 0x7B;
        int overflow = e4m3 ? 0x7F : 0x7C;
        int mismatches = 0;
        StringBuilder first = new StringBuilder();
        for (float v : beyond) {
            for (float x : new float[]{v, -v}) {
                int sign = x < 0 ? 0x80 : 0;
                int sat = e4m3 ? FloatFormats.floatToE4m3(x, true) : FloatFormats.floatToE5m2(x, true);
                int raw = e4m3 ? FloatFormats.floatToE4m3(x, false) : FloatFormats.floatToE5m2(x, false);
                if (sat != (sign | max) || raw != (sign | overflow)) {
                    if (mismatches++ == 0) first.append(String.format("%s: saturating 0x%02X, plain 0x%02X", x, sat, raw));
                }
            }
        }
        // the largest finite value itself and NaN
        double maxValue = e4m3 ? Formats.e4m3(max) : Formats.e5m2(max);
        if (maxValue != (e4m3 ? FloatFormats.E4M3_MAX : FloatFormats.E5M2_MAX)) mismatches++;
        int nan = e4m3 ? FloatFormats.floatToE4m3(Float.NaN, true) : FloatFormats.floatToE5m2(Float.NaN, true);
        if (!Double.isNaN(e4m3 ? Formats.e4m3(nan) : Formats.e5m2(nan))) {
            if (mismatches++ == 0) first.append(String.format("NaN encodes to 0x%02X, not a NaN code", nan));
        }
        return Measurement.ofMismatches(mismatches, first.toString());
    }

    /** FloatFormats.floatToBf16 against the nearest-even BF16: random values, exact ties, subnormals, near overflow. */
    static Measurement bf16Rounding(TckContext ctx) {
        SplittableRandom random = ctx.random("kernel.formats.bf16.rounding");
        int mismatches = 0;
        String first = "";
        for (int i = 0; i < 200_000; i++) {
            int bits = switch (i % 5) {
                case 0 -> random.nextInt();
                case 1 -> (random.nextInt() & 0xFFFF0000) | 0x8000;                 // exact tie
                case 2 -> random.nextInt() & 0x807FFFFF;                             // subnormal
                case 3 -> 0x7F7F0000 | (random.nextInt() & 0xFFFF) | (random.nextBoolean() ? 0x80000000 : 0); // near max
                default -> Float.floatToRawIntBits((float) random.nextGaussian());
            };
            float f = Float.intBitsToFloat(bits);
            int ours = FloatFormats.floatToBf16(f) & 0xFFFF;
            boolean ok = Float.isNaN(f) ? Double.isNaN(Formats.bf16(ours)) : ours == Formats.nearestBf16(f);
            if (!ok && mismatches++ == 0) {
                first = String.format("%s (0x%08X): FloatFormats 0x%04X, nearest-even 0x%04X", f, bits, ours, Formats.nearestBf16(f));
            }
        }
        return Measurement.ofMismatches(mismatches, mismatches == 0 ? "200000 values" : first);
    }

    /** Every F16 and BF16 code decodes to the oracle's value. */
    static Measurement decode16() {
        int mismatches = 0;
        String first = "";
        for (int c = 0; c < 65536; c++) {
            if (!same(FloatFormats.f16ToFloat((short) c), Formats.f16(c)) || !same(FloatFormats.bf16ToFloat((short) c), Formats.bf16(c))) {
                if (mismatches++ == 0) first = String.format("code 0x%04X", c);
            }
        }
        return Measurement.ofMismatches(mismatches, mismatches == 0 ? "65536 codes each" : first);
    }
}
