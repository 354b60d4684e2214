package dev.floe.spi;

import dev.floe.api.RopeScaling;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RopeTable's float32 rows for every rope_scaling type against the float64 numpy reference
 * ({@code fixtures/tools/rope_table_reference.py} writes {@code rope-reference.txt} from {@code reference.py}, an
 * implementation of transformers' formulas that shares no code with this one), including the published configs of
 * Llama 3.1 and Qwen2.5-style YaRN. The tolerances are float32 rounding: inverse frequencies within 2e-6 relative,
 * cos/sin within a few ulps of the float32 angle.
 */
class RopeTableTest {
    /** One case of the reference file: how Floe spells its scaling, and the values numpy computed. */
    private record Case(String name, int headDim, float theta, RopeScaling scaling, List<double[]> inv, List<Integer> invLengths,
                        double attention, List<double[]> rows) {
    }

    private static RopeScaling scaling(String name) {
        return switch (name) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling.Linear(4);
            case "linear-2.5" -> new RopeScaling.Linear(2.5);
            case "dynamic" -> new RopeScaling.Dynamic(4, 32);
            case "dynamic-128" -> new RopeScaling.Dynamic(2, 4096);
            case "yarn" -> new RopeScaling.Yarn(4, 32, 32, 1, 0, 0, Double.NaN, true);
            case "yarn-qwen" -> new RopeScaling.Yarn(4, 32768, 32, 1, 0, 0, Double.NaN, true);
            case "yarn-mscale" -> new RopeScaling.Yarn(40, 4096, 32, 1, 1.0, 0.707, Double.NaN, true);
            case "yarn-attention-factor" -> new RopeScaling.Yarn(2, 4096, 16, 2, 0, 0, 1.25, true);
            case "yarn-no-truncate" -> new RopeScaling.Yarn(2, 4096, 32, 1, 0, 0, Double.NaN, false);
            case "llama3" -> new RopeScaling.Llama3(4, 1, 4, 32);
            case "llama3.1" -> new RopeScaling.Llama3(8, 1, 4, 8192);
            default -> throw new IllegalArgumentException("rope-reference.txt: unknown case " + name);
        };
    }

    private static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        try (var in = new BufferedReader(new InputStreamReader(Objects.requireNonNull(
                RopeTableTest.class.getResourceAsStream("/rope-reference.txt"), "rope-reference.txt"), StandardCharsets.UTF_8))) {
            Case c = null;
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "case" -> {
                        c = new Case(f[1], Integer.parseInt(f[2]), Float.parseFloat(f[3]), scaling(f[1]), new ArrayList<>(),
                                new ArrayList<>(), 0, new ArrayList<>());
                        cases.add(c);
                    }
                    case "inv" -> {
                        c.invLengths().add(Integer.parseInt(f[1]));
                        c.inv().add(numbers(f, 2));
                    }
                    case "attention" -> cases.set(cases.size() - 1, c = new Case(c.name(), c.headDim(), c.theta(), c.scaling(),
                            c.inv(), c.invLengths(), Double.parseDouble(f[1]), c.rows()));
                    case "row" -> c.rows().add(numbers(f, 1));
                    default -> throw new IllegalStateException("rope-reference.txt: " + line);
                }
            }
        }
        return cases;
    }

    private static double[] numbers(String[] f, int from) {
        return Arrays.stream(f, from, f.length).mapToDouble(Double::parseDouble).toArray();
    }

    @Test
    void inverseFrequenciesMatchTheFloat64Reference() throws IOException {
        List<Case> cases = cases();
        assertEquals(12, cases.size());
        for (Case c : cases) {
            for (int i = 0; i < c.inv().size(); i++) {
                double[] ref = c.inv().get(i);
                float[] ours = RopeTable.inverseFrequencies(c.headDim(), c.theta(), c.scaling(), c.invLengths().get(i));
                assertEquals(ref.length, ours.length, c.name());
                for (int j = 0; j < ref.length; j++) {
                    assertTrue(Math.abs(ours[j] - ref[j]) <= 2e-6 * ref[j], c.name() + " length " + c.invLengths().get(i)
                            + " inv_freq[" + j + "]: " + ours[j] + " vs " + ref[j]);
                }
            }
            assertEquals(c.attention(), RopeTable.attentionFactor(c.scaling()), 1e-7 * c.attention(), c.name() + " attention factor");
        }
    }

    @Test
    void rowsMatchTheFloat64Reference() throws IOException {
        int rows = 0;
        for (Case c : cases()) {
            int half = c.headDim() / 2;
            for (double[] row : c.rows()) {
                int position = (int) row[0], length = (int) row[1];
                float[][] ours = RopeTable.rows(new int[]{position}, new int[]{length}, c.headDim(), c.theta(), c.scaling());
                double[] inv = c.inv().get(c.invLengths().indexOf(length));
                for (int j = 0; j < half; j++) {
                    double angle = position * inv[j];
                    // float32 angle: its rounding, plus the inverse frequency's 2e-6, turn into cos/sin errors of that size
                    double tolerance = c.attention() * (4 * Math.ulp((float) angle) + 2e-6 * angle + 2e-7);
                    String where = c.name() + " position " + position + " length " + length + " j " + j;
                    assertEquals(row[2 + j], ours[0][j], tolerance, where + " cos");
                    assertEquals(row[2 + half + j], ours[1][j], tolerance, where + " sin");
                }
                rows++;
            }
        }
        assertTrue(rows > 100, rows + " rows");
    }

    @Test
    void dynamicNtkTakesEachSequencesOwnLength() {
        // rows 0-1 are sequence 0 at positions 40, 41 (length 42 > 32); row 2 is sequence 1 at position 5 (length 6)
        int[] positions = {40, 41, 5}, sequence = {0, 0, 1};
        int[] lengths = RopeTable.sequenceLengths(positions, sequence);
        assertEquals(List.of(42, 42, 6), Arrays.stream(lengths).boxed().toList());
        RopeScaling dynamic = new RopeScaling.Dynamic(4, 32);
        float[][] batched = RopeTable.rows(positions, lengths, 16, 1e6f, dynamic);
        float[][] alone = RopeTable.rows(new int[]{5}, new int[]{6}, 16, 1e6f, RopeScaling.NONE);
        // the short sequence keeps the unscaled rotation whatever it is batched with
        assertEquals(Arrays.toString(alone[0]), Arrays.toString(Arrays.copyOfRange(batched[0], 16, 24)));
        float[][] longer = RopeTable.rows(new int[]{40}, new int[]{100}, 16, 1e6f, dynamic);
        assertTrue(longer[0][1] != batched[0][1], "the base grows with the sequence length");
    }

    @Test
    void withoutScalingTheRowsAreThoseOfTheThetaOnlyTable() {
        int[] positions = {0, 3, 77, 4000};
        float[][] plain = RopeTable.rows(positions, 64, 1e4f);
        float[][] none = RopeTable.rows(positions, new int[4], 64, 1e4f, RopeScaling.NONE);
        assertTrue(Arrays.equals(plain[0], none[0]) && Arrays.equals(plain[1], none[1]));
        assertTrue(!new RopeScaling.Default().scales() && new RopeScaling.Linear(1).scales(), "default never scales, whichever instance");
    }
}
