package dev.floe.runtime.golden;

import dev.floe.api.ForwardObserver;
import dev.floe.api.Model;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.api.Session;
import dev.floe.runtime.generate.Sampler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Runs a model against a {@link GoldenFixture} at the tolerances of {@code fixtures/README.md}: relative logit error
 * (max |ours - golden| / max |golden| over a whole tensor) below 1e-4 in float32, identical expert choices,
 * identical greedy tokens and, where the fixture gives it, identical greedy text.
 */
public final class GoldenChecks {
    /** Float32 arithmetic over fp32/bf16/fp8 weights: below 1e-4 (typically 1e-6). */
    public static final double LOGIT_TOLERANCE = 1e-4;
    /** Layer outputs and router weights, same arithmetic. */
    public static final double HIDDEN_TOLERANCE = 1e-4;

    private GoldenChecks() {
    }

    /** Runs every check, reporting each result to {@code sink} as it completes. */
    public static List<CheckResult> run(Model model, GoldenFixture golden, String label, Consumer<CheckResult> sink) {
        List<CheckResult> results = new ArrayList<>();
        Consumer<CheckResult> add = r -> {
            results.add(r);
            sink.accept(r);
        };
        for (GoldenFixture.Prompt p : golden.prompts()) {
            String name = label + "/prompt." + p.index();
            try (Session s = model.newSession(Math.min(model.config().maxPositions(), p.ids().length + p.decodeIds().length + 1))) {
                Capture capture = p.index() == 0 ? new Capture() : null;
                s.observer(capture);
                float[][] logits = s.prefill(p.ids());
                s.observer(null);
                add.accept(CheckResult.ofError(name + ".logits", relativeError(logits, p.logits()), LOGIT_TOLERANCE));
                if (capture != null) layerChecks(golden, label, capture, add);
                float[][] decode = new float[p.decodeIds().length][];
                for (int t = 0; t < decode.length; t++) decode[t] = s.next(p.decodeIds()[t]);
                add.accept(CheckResult.ofError(name + ".decode.logits", relativeError(decode, p.decodeLogits()), LOGIT_TOLERANCE));
            }
            add.accept(greedy(model, p, name));
        }
        return results;
    }

    /** Runs greedy generation from the prompt and compares the tokens (and text, if given). */
    private static CheckResult greedy(Model model, GoldenFixture.Prompt p, String name) {
        int[] expected = p.decodeIds();
        int[] ours = new int[expected.length];
        try (Session s = model.newSession(Math.min(model.config().maxPositions(), p.ids().length + expected.length + 1))) {
            float[] logits = s.prefillLast(p.ids());
            for (int t = 0; t < expected.length; t++) {
                ours[t] = Sampler.argmax(logits);
                if (t + 1 < expected.length) logits = s.next(ours[t]);
            }
        }
        int mismatches = 0, first = -1;
        for (int t = 0; t < expected.length; t++) {
            if (ours[t] != expected[t]) {
                mismatches++;
                if (first < 0) first = t;
            }
        }
        String detail = first < 0 ? expected.length + " tokens" : "first mismatch at step " + first + ": " + ours[first] + " vs " + expected[first];
        if (first < 0 && p.greedyText().isPresent()) {
            String text = model.tokenizer().decode(ours, true);
            if (!text.equals(p.greedyText().get())) {
                return new CheckResult(name + ".greedy", 1, 0, false, "text differs: " + quote(text) + " vs " + quote(p.greedyText().get()));
            }
            detail += ", text identical";
        }
        return CheckResult.ofMatch(name + ".greedy", mismatches, detail);
    }

    private static String quote(String s) {
        return "\"" + s.replace("\n", "\\n") + "\"";
    }

    private static void layerChecks(GoldenFixture golden, String label, Capture capture, Consumer<CheckResult> add) {
        for (GoldenFixture.Layer layer : golden.layers()) {
            String name = label + "/prompt.0.layer." + layer.index();
            float[][] hidden = capture.hidden.get(layer.index());
            if (hidden == null) {
                // a layer the fixture checks but the model never reported is a failure, not a check less
                add.accept(new CheckResult(name + ".hidden", 1, 0, false, "the model reported no output for layer "
                        + layer.index() + " (it reported layers " + capture.hidden.keySet() + ")"));
            } else {
                add.accept(CheckResult.ofError(name + ".hidden", relativeError(hidden, layer.hidden()), HIDDEN_TOLERANCE));
            }
            if (layer.experts() == null) continue;
            RoutingDecision d = capture.routes[layer.index()];
            if (d == null) {
                add.accept(new CheckResult(name + ".experts", 1, 0, false, "the model did not route this layer"));
                continue;
            }
            int mismatches = 0;
            String first = "";
            float[][] weights = new float[d.tokens()][];
            for (int t = 0; t < d.tokens(); t++) {
                if (!Arrays.equals(d.experts()[t], layer.experts()[t])) {
                    if (mismatches++ == 0) first = "token " + t + ": " + Arrays.toString(d.experts()[t]) + " vs " + Arrays.toString(layer.experts()[t]);
                }
                weights[t] = d.weights()[t];
            }
            add.accept(CheckResult.ofMatch(name + ".experts", mismatches, first));
            if (mismatches == 0) add.accept(CheckResult.ofError(name + ".weights", relativeError(weights, layer.weights()), HIDDEN_TOLERANCE));
        }
    }

    /** max |a - b| / max |b| over whole tensors; infinite on a shape mismatch or NaN. */
    public static double relativeError(float[][] ours, float[][] golden) {
        if (ours.length != golden.length) return Double.POSITIVE_INFINITY;
        double maxDiff = 0, maxRef = 0;
        for (int r = 0; r < golden.length; r++) {
            if (ours[r].length != golden[r].length) return Double.POSITIVE_INFINITY;
            for (int c = 0; c < golden[r].length; c++) {
                double diff = Math.abs((double) ours[r][c] - golden[r][c]);
                if (Double.isNaN(diff)) return Double.POSITIVE_INFINITY;
                maxDiff = Math.max(maxDiff, diff);
                maxRef = Math.max(maxRef, Math.abs(golden[r][c]));
            }
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }

    /** Records layer outputs and routing decisions of one pass. */
    private static final class Capture implements ForwardObserver {
        /** By layer index, as the model reports them (a list would shift every layer after a missing one). */
        final Map<Integer, float[][]> hidden = new TreeMap<>();
        final RoutingDecision[] routes = new RoutingDecision[256];

        @Override
        public void onRouting(int layer, RoutingInput input, RoutingDecision decision) {
            routes[layer] = decision;
        }

        @Override
        public void onLayerOutput(int layer, float[] out, int rows) {
            int cols = out.length / rows;
            float[][] m = new float[rows][];
            for (int r = 0; r < rows; r++) m[r] = Arrays.copyOfRange(out, r * cols, (r + 1) * cols);
            hidden.put(layer, m);
        }

        @Override
        public boolean wantsLayerOutputs() {
            return true;
        }
    }
}
