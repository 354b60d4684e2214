package dev.floe.tck.model;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.kv.SequenceKv;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.model.ForwardBatch;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.kernel.Tolerances;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Whole models on the backend: the golden checks of each fixture folder ({@link GoldenChecks}: prompt and decode
 * logits, layer outputs, expert choices, greedy tokens) and "a batch of several sequences gives each sequence the
 * logits it gets alone".
 */
public final class ModelChecks {
    static final String CATEGORY = "model";

    private ModelChecks() {
    }

    /** Two checks per fixture folder. */
    public static List<Check> all(List<Path> fixtures) {
        List<Check> checks = new ArrayList<>();
        for (Path dir : fixtures) {
            String label = dir.getFileName().toString();
            checks.add(new Check(CATEGORY, "model.golden." + label, ctx -> golden(ctx, dir, label)));
            String batch = "model.batch-prefill." + label;
            checks.add(new Check(CATEGORY, batch, ctx -> batchEqualsSingle(ctx, dir, batch)));
        }
        return checks;
    }

    /** Loads a model folder on the backend under test. */
    public static FloeModel load(TckContext ctx, Path dir) {
        if (!ctx.providerBackend()) {
            throw new Check.Skip("models load backends by provider name; this run tests a backend factory");
        }
        ctx.markExercised();
        ModelOptions options = ModelOptions.DEFAULTS.withBackend(ctx.backendName())
                .withThreads(ctx.options().backendOptions().threads())
                .withProperties(ctx.options().backendOptions().properties());
        return FloeEngine.load(dir, options, layer -> { });
    }

    /** Every golden check of the folder; the measured error is the worst logit error, any mismatch fails. */
    static Measurement golden(TckContext ctx, Path dir, String label) {
        if (!GoldenFixture.isFixture(dir)) throw new Check.Skip(dir + " holds no golden.safetensors");
        GoldenFixture fixture = GoldenFixture.load(dir);
        try (FloeModel model = load(ctx, dir)) {
            return golden(model, fixture, label);
        }
    }

    /** Every golden check of {@code fixture} on {@code model}; the measured error is the worst logit error, any mismatch fails. */
    public static Measurement golden(FloeModel model, GoldenFixture fixture, String label) {
        List<CheckResult> results = GoldenChecks.run(model, fixture, label, r -> { });
        double worst = 0;
        List<String> failures = new ArrayList<>();
        for (CheckResult r : results) {
            if (r.name().endsWith("logits")) worst = Math.max(worst, r.measured());
            if (!r.passed()) failures.add(r.name() + " (" + String.format(Locale.ROOT, "%.3e", r.measured()) + (r.message().isEmpty() ? "" : ": " + r.message()) + ")");
        }
        String message = results.size() + " golden checks" + (failures.isEmpty() ? " pass" : ", failing: " + String.join("; ", failures));
        return new Measurement(worst, GoldenChecks.LOGIT_TOLERANCE, failures.isEmpty() && worst <= GoldenChecks.LOGIT_TOLERANCE, message);
    }

    /**
     * Sequences of different lengths in one {@link FloeModel#forward} pass (rows interleaved, each sequence with its own
     * block table) give the logits each gets alone.
     */
    static Measurement batchEqualsSingle(TckContext ctx, Path dir, String name) {
        try (FloeModel model = load(ctx, dir)) {
            SplittableRandom random = ctx.random(name);
            int vocab = model.config().vocabSize();
            int[] lengths = {7, 1, 12, 4};
            for (int i = 0; i < lengths.length; i++) lengths[i] = Math.min(lengths[i], model.config().maxPositions());
            int[][] tokens = new int[lengths.length][];
            for (int s = 0; s < lengths.length; s++) tokens[s] = random.ints(lengths[s], 0, vocab).toArray();

            float[][][] alone = new float[lengths.length][][];
            for (int s = 0; s < lengths.length; s++) {
                try (SequenceKv kv = model.newSequenceKv()) {
                    kv.ensureCapacity(lengths[s]);
                    alone[s] = model.forward(ForwardBatch.single(tokens[s], 0, kv.table(), ForwardBatch.range(lengths[s])), null);
                }
            }

            List<SequenceKv> kvs = new ArrayList<>();
            try {
                int[][] tables = new int[lengths.length][];
                for (int s = 0; s < lengths.length; s++) {
                    SequenceKv kv = model.newSequenceKv();
                    kvs.add(kv);
                    kv.ensureCapacity(lengths[s]);
                    tables[s] = kv.table();
                }
                // round-robin over the sequences, so that neighbouring rows belong to different sequences
                int total = 0;
                for (int l : lengths) total += l;
                int[] tok = new int[total], pos = new int[total], seq = new int[total];
                int r = 0;
                for (int p = 0; r < total; p++) {
                    for (int s = 0; s < lengths.length; s++) {
                        if (p < lengths[s]) {
                            tok[r] = tokens[s][p];
                            pos[r] = p;
                            seq[r] = s;
                            r++;
                        }
                    }
                }
                float[][] batched = model.forward(new ForwardBatch(tok, pos, seq, tables, ForwardBatch.range(total)), null);
                double worst = 0;
                String where = "";
                for (int s = 0; s < lengths.length; s++) {
                    float[][] mine = new float[lengths[s]][];
                    for (int i = 0; i < total; i++) if (seq[i] == s) mine[pos[i]] = batched[i];
                    double e = GoldenChecks.relativeError(mine, alone[s]);
                    if (e > worst || where.isEmpty()) {
                        if (e >= worst) where = "worst: sequence " + s + " of " + lengths[s] + " tokens";
                        worst = Math.max(worst, e);
                    }
                }
                return Measurement.ofError(worst, Tolerances.BATCH_VS_SINGLE, lengths.length + " sequences of " + java.util.Arrays.toString(lengths) + " tokens in one pass; " + where);
            } finally {
                kvs.forEach(SequenceKv::close);
            }
        }
    }
}
