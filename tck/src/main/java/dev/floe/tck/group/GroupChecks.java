package dev.floe.tck.group;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.checkpoint.UnshardableTensorException;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.parallel.RankThreads;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Communicator;
import dev.floe.spi.DeviceGroup;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.model.ModelChecks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Device groups, for a backend that advertises {@link dev.floe.spi.Capability#COLLECTIVES}: each collective of its
 * {@link Communicator} against the same sums and copies on the host, and the golden fixtures on a group of ranks in
 * the tensor-, expert- and combined parallel layouts against the float64 goldens (the checks one device passes:
 * logits, expert choices, greedy tokens). A backend without collectives has every check skipped, naming the reason.
 */
public final class GroupChecks {
    static final String CATEGORY = "group";
    /** Ranks of the collective checks: more than two, so that rank order and offsets matter. */
    static final int RANKS = 3;
    /** Sums may associate differently from the host's rank-order sum (NCCL's ring); copies are exact. */
    static final double SUM_TOLERANCE = 1e-6;

    /** A layout of the model checks. */
    record Layout(String name, int tp, int ep) {
    }

    static final List<Layout> LAYOUTS = List.of(new Layout("tp2", 2, 1), new Layout("ep2", 1, 2), new Layout("tp2-ep2", 2, 2));

    private GroupChecks() {
    }

    /** The collective checks. */
    public static List<Check> collectives() {
        return List.of(
                new Check(CATEGORY, "group.all-reduce", GroupChecks::allReduce),
                new Check(CATEGORY, "group.all-gather", GroupChecks::allGather),
                new Check(CATEGORY, "group.reduce-scatter", GroupChecks::reduceScatter),
                new Check(CATEGORY, "group.all-to-all", GroupChecks::allToAll),
                new Check(CATEGORY, "group.broadcast", GroupChecks::broadcast));
    }

    /** One check per fixture folder and layout. */
    public static List<Check> models(List<Path> fixtures) {
        List<Check> checks = new ArrayList<>();
        for (Path dir : fixtures) {
            String label = dir.getFileName().toString();
            for (Layout l : LAYOUTS) {
                checks.add(new Check(CATEGORY, "group.model." + l.name() + "." + label, ctx -> model(ctx, dir, label, l)));
            }
        }
        return checks;
    }

    /** What each rank contributes: {@code n} floats drawn from the check's seed and the rank. */
    private static float[][] inputs(TckContext ctx, String check, int ranks, int n) {
        SplittableRandom random = ctx.random(check);
        float[][] in = new float[ranks][n];
        for (float[] row : in) for (int i = 0; i < n; i++) row[i] = (float) random.nextDouble(-1, 1);
        return in;
    }

    /** What one rank does with its backend and communicator; returns what it read back. */
    @FunctionalInterface
    private interface RankBody {
        float[] run(Backend b, Communicator c, int rank);
    }

    private static List<float[]> onRanks(TckContext ctx, RankBody body) {
        try (DeviceGroup g = ctx.openGroup(RANKS)) {
            if (g.size() != RANKS) throw new IllegalStateException("asked for " + RANKS + " ranks, the group has " + g.size());
            return RankThreads.run(g, r -> body.run(g.backend(r), g.communicator(r), r));
        }
    }

    private static Buffer upload(Backend b, float[] values, long capacity) {
        Buffer buf = b.allocate(capacity);
        b.upload(values, 0, buf, 0, values.length);
        return buf;
    }

    private static float[] download(Backend b, Buffer buf, int n) {
        float[] out = new float[n];
        b.download(buf, 0, out, 0, n);
        return out;
    }

    static Measurement allReduce(TckContext ctx) {
        int n = 1000;
        float[][] in = inputs(ctx, "group.all-reduce", RANKS, n);
        List<float[]> out = onRanks(ctx, (b, c, r) -> {
            try (Buffer buf = upload(b, in[r], n)) {
                c.allReduceSum(buf, n);
                return download(b, buf, n);
            }
        });
        float[] expected = new float[n];
        for (float[] row : in) for (int i = 0; i < n; i++) expected[i] += row[i];
        return sumResult(out, List.of(expected), "sum of " + n + " floats over " + RANKS + " ranks, the same bits on every rank");
    }

    static Measurement reduceScatter(TckContext ctx) {
        int n = 300;
        float[][] in = inputs(ctx, "group.reduce-scatter", RANKS, RANKS * n);
        List<float[]> out = onRanks(ctx, (b, c, r) -> {
            try (Buffer send = upload(b, in[r], (long) RANKS * n); Buffer recv = b.allocate(n)) {
                c.reduceScatterSum(send, n, recv);
                return download(b, recv, n);
            }
        });
        List<float[]> expected = new ArrayList<>();
        for (int r = 0; r < RANKS; r++) {
            float[] e = new float[n];
            for (float[] row : in) for (int i = 0; i < n; i++) e[i] += row[r * n + i];
            expected.add(e);
        }
        return sumResult(out, expected, "rank r keeps the sum of share r (" + n + " floats)");
    }

    /** Each rank's result against its expected sums; with one expected row, every rank must also agree bitwise. */
    private static Measurement sumResult(List<float[]> out, List<float[]> expected, String what) {
        double worst = 0;
        for (int r = 0; r < out.size(); r++) {
            float[] e = expected.get(expected.size() == 1 ? 0 : r), got = out.get(r);
            for (int i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(got[i] - e[i]) / Math.max(1, Math.abs(e[i])));
        }
        if (expected.size() == 1) {
            for (int r = 1; r < out.size(); r++) {
                if (!Arrays.equals(out.get(r), out.getFirst())) {
                    return Measurement.ofCondition(false, what + ": rank " + r + " differs from rank 0 (the layer graph needs every"
                            + " rank to hold the same hidden states)");
                }
            }
        }
        return Measurement.ofError(worst, SUM_TOLERANCE, what);
    }

    static Measurement allGather(TckContext ctx) {
        int n = 257;
        float[][] in = inputs(ctx, "group.all-gather", RANKS, n);
        List<float[]> out = onRanks(ctx, (b, c, r) -> {
            try (Buffer send = upload(b, in[r], n); Buffer recv = b.allocate((long) RANKS * n)) {
                c.allGather(send, n, recv);
                return download(b, recv, RANKS * n);
            }
        });
        float[] expected = new float[RANKS * n];
        for (int r = 0; r < RANKS; r++) System.arraycopy(in[r], 0, expected, r * n, n);
        return copies(out, r -> expected, "rank j's " + n + " floats at offset j * " + n);
    }

    static Measurement broadcast(TckContext ctx) {
        int n = 129, root = RANKS - 1;
        float[][] in = inputs(ctx, "group.broadcast", RANKS, n);
        List<float[]> out = onRanks(ctx, (b, c, r) -> {
            try (Buffer buf = upload(b, in[r], n)) {
                c.broadcast(buf, n, root);
                return download(b, buf, n);
            }
        });
        return copies(out, r -> in[root], n + " floats of rank " + root + " on every rank");
    }

    /**
     * Rank i sends {@code i + j + 1} floats to rank j, packed in rank order; rank j receives them packed in rank order
     * (the expert-parallel dispatch: counts differ per pair, so a wrong offset shows).
     */
    static Measurement allToAll(TckContext ctx) {
        int width = 0; // the most any rank sends: rank RANKS - 1
        for (int j = 0; j < RANKS; j++) width += RANKS + j;
        float[][] in = inputs(ctx, "group.all-to-all", RANKS, width);
        List<float[]> out = onRanks(ctx, (b, c, r) -> {
            long[] sendOff = new long[RANKS], sendCount = new long[RANKS], recvOff = new long[RANKS], recvCount = new long[RANKS];
            long so = 0, ro = 0;
            for (int j = 0; j < RANKS; j++) {
                sendOff[j] = so;
                sendCount[j] = r + j + 1;
                so += sendCount[j];
                recvOff[j] = ro;
                recvCount[j] = j + r + 1;
                ro += recvCount[j];
            }
            try (Buffer send = upload(b, Arrays.copyOf(in[r], (int) so), so); Buffer recv = b.allocate(Math.max(1, ro))) {
                c.allToAll(send, sendOff, sendCount, recv, recvOff, recvCount);
                return download(b, recv, (int) ro);
            }
        });
        return copies(out, r -> {
            float[] e = new float[0];
            for (int i = 0; i < RANKS; i++) {
                int offset = 0;
                for (int j = 0; j < r; j++) offset += i + j + 1;
                float[] part = Arrays.copyOfRange(in[i], offset, offset + i + r + 1);
                float[] joined = Arrays.copyOf(e, e.length + part.length);
                System.arraycopy(part, 0, joined, e.length, part.length);
                e = joined;
            }
            return e;
        }, "rank i sends i + j + 1 floats to rank j");
    }

    private static Measurement copies(List<float[]> out, java.util.function.IntFunction<float[]> expected, String what) {
        int mismatches = 0;
        String first = "";
        for (int r = 0; r < out.size(); r++) {
            float[] e = expected.apply(r), got = out.get(r);
            for (int i = 0; i < e.length; i++) {
                if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(e[i])) {
                    if (mismatches++ == 0) first = "; first: rank " + r + " float " + i + " is " + got[i] + ", expected " + e[i];
                }
            }
        }
        return Measurement.ofMismatches(mismatches, what + first);
    }

    static Measurement model(TckContext ctx, Path dir, String label, Layout layout) {
        if (!GoldenFixture.isFixture(dir)) throw new Check.Skip(dir + " holds no golden.safetensors");
        GoldenFixture fixture = GoldenFixture.load(dir);
        DeviceGroup group = ctx.openGroup(Math.max(layout.tp(), layout.ep()));
        ModelOptions options = ModelOptions.DEFAULTS.withBackend(ctx.backendName())
                .withThreads(ctx.options().backendOptions().threads())
                .withProperties(ctx.options().backendOptions().properties())
                .withParallel(layout.tp(), layout.ep());
        try (FloeModel model = FloeEngine.load(dir, options, layer -> { }, group)) {
            return ModelChecks.golden(model, fixture, label + " on " + layout.name());
        } catch (RuntimeException e) {
            // a layout this checkpoint cannot take (its FP8 scale blocks straddle a shard edge) says nothing of the backend
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof UnshardableTensorException u) throw new Check.Skip(label + " cannot be split " + layout.name() + ": " + u.getMessage());
            }
            throw e;
        }
    }
}
