package dev.floe.runtime.plan;

import dev.floe.api.DType;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.TensorHeader;
import dev.floe.runtime.config.ConfigReader;
import dev.floe.runtime.quantize.Fp8Quantizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Sizes a tensor- and expert-parallel deployment from a checkpoint's {@code config.json} and safetensors headers
 * alone (no tensor data is read or mapped), so it plans a model far larger than the machine it runs on.
 *
 * <p>Per device it counts: the weights of the fullest rank (each tensor divided as {@link Placement} says; experts
 * whole on their expert-parallel rank); the KV cache, sharded by KV head over the tp ranks; and the activation
 * buffers of one forward pass of {@code rows} token rows, sized as the layer graph's scratch is, with attention and
 * MLP widths divided by tp and, under expert parallelism, room for every row's top-k choices landing on one rank.
 */
public final class Planner {
    /** The largest device count a suggestion considers. */
    public static final int MAX_DEVICES = 1024;

    private final ModelConfig config;
    private final List<TensorHeader> tensors;
    private final List<String> warnings;
    private final Map<String, Map<String, Long>> shares = new HashMap<>();
    private final Map<WeightPrecision, List<Placed>> held = new HashMap<>();
    /** The tensors tensor parallelism splits along a dimension that must divide evenly (never the experts). */
    private final List<Placed> split;

    /** A tensor with its placement, classified once (names are matched by pattern). */
    private record Placed(TensorHeader tensor, Placement placement, String category, int expert) {
        static Placed of(TensorHeader t) {
            return new Placed(t, Placement.of(t.name()), Placement.category(t.name()), Placement.expertIndex(t.name()));
        }
    }

    public Planner(ModelConfig config, List<TensorHeader> tensors, List<String> warnings) {
        this.config = config;
        this.tensors = List.copyOf(tensors);
        this.warnings = List.copyOf(warnings);
        this.split = this.tensors.stream().map(Placed::of)
                .filter(p -> p.placement() == Placement.OUTPUT_ROWS || p.placement() == Placement.INPUT_COLUMNS)
                .filter(p -> Checkpoint.weightOfScale(p.tensor().name()) == null && p.tensor().shape().length == 2).toList();
    }

    /** Reads {@code config.json} and the safetensors headers of a model folder. */
    public static Planner open(Path dir) {
        ModelConfig c = ConfigReader.read(dir);
        List<TensorHeader> all = Checkpoint.headers(dir).stream()
                .flatMap(h -> h.tensors().values().stream()).toList();
        List<String> warnings = new ArrayList<>();
        long[] kProj = all.stream().filter(t -> t.name().equals("model.layers.0.self_attn.k_proj.weight"))
                .findFirst().map(TensorHeader::shape).orElse(null);
        c = ConfigReader.reconcileKvHeads(c, kProj, warnings::add);
        return new Planner(c, all, warnings);
    }

    public ModelConfig config() {
        return config;
    }

    /** Corrections made to the config (for example KV heads taken from k_proj's shape). */
    public List<String> warnings() {
        return warnings;
    }

    /** Bytes of tensor data the checkpoint stores. */
    public long storedBytes() {
        return tensors.stream().mapToLong(TensorHeader::bytes).sum();
    }

    /** Why {@code layout} cannot run on {@code devices} devices; empty when it can. */
    public List<String> problems(ParallelLayout layout, int devices) {
        int tp = layout.tp(), ep = layout.ep();
        List<String> out = new ArrayList<>();
        if (devices % tp != 0) out.add("--tp " + tp + " does not divide the " + devices + " devices");
        if (devices % ep != 0) out.add("--ep " + ep + " does not divide the " + devices + " devices");
        if (config.numHeads() % tp != 0) out.add("--tp " + tp + ": the " + config.numHeads() + " attention heads do not split " + tp + " ways");
        int kv = config.numKvHeads();
        if (kv % tp != 0 && tp % kv != 0) {
            out.add("--tp " + tp + ": the " + kv + " KV heads neither split " + tp + " ways nor replicate evenly over " + tp + " ranks");
        }
        if (config.numExperts() % ep != 0) out.add("--ep " + ep + ": the " + config.numExperts() + " experts do not split " + ep + " ways");
        if (out.isEmpty()) {
            for (Placed p : split) {
                TensorHeader t = p.tensor();
                int dim = p.placement() == Placement.OUTPUT_ROWS ? 0 : 1;
                if (t.shape()[dim] % tp != 0) {
                    out.add("--tp " + tp + ": " + t.name() + " has " + t.shape()[dim] + (dim == 0 ? " rows" : " columns")
                            + ", which do not split " + tp + " ways");
                    break;
                }
            }
        }
        return out;
    }

    /** The memory of one device under {@code layout}; the error lists why the layout is impossible. */
    public MemoryPlan plan(ParallelLayout layout, WeightPrecision weights, PlanRequest r) {
        List<String> problems = problems(layout, r.devices().count());
        if (!problems.isEmpty()) throw new InvalidRequestException(String.join("; ", problems));
        Map<String, Long> share = weightShare(layout, weights);
        long weightBytes = share.values().stream().mapToLong(Long::longValue).sum();
        return new MemoryPlan(layout, weights, share, weightBytes, kvCacheBytes(layout, r), activationBytes(layout, r.rows()),
                r.usableBytes());
    }

    /** A plan and, when it does not fit, what would. */
    public record Advice(MemoryPlan plan, List<Suggestion> suggestions) {
    }

    /** A deployment that fits: these devices, this plan. */
    public record Suggestion(DeviceSpec devices, MemoryPlan plan) {
    }

    /**
     * Plans the requested layout (or, where tp or ep is 0, the best one on the devices: the one that fits with the
     * least memory, fewer tp ranks first on a tie) and, if it does not fit, suggests the best layout that fits on the
     * same devices (with the requested weights, else in FP8), or else the fewest such devices that fit.
     */
    public Advice advise(PlanRequest r) {
        int n = r.devices().count();
        List<ParallelLayout> layouts = layouts(n).stream()
                .filter(l -> (r.tp() == 0 || l.tp() == r.tp()) && (r.ep() == 0 || l.ep() == r.ep())).toList();
        if (layouts.isEmpty()) {
            ParallelLayout asked = new ParallelLayout(r.tp() == 0 ? 1 : r.tp(), r.ep() == 0 ? 1 : r.ep());
            List<String> problems = problems(asked, n);
            throw new InvalidRequestException(problems.isEmpty() ? "no tp x ep layout divides " + n + " devices" : String.join("; ", problems));
        }
        MemoryPlan chosen = best(layouts, r.weights(), r).orElseThrow();
        List<Suggestion> suggestions = new ArrayList<>();
        if (!chosen.fits()) {
            List<WeightPrecision> precisions = r.weights() == WeightPrecision.FP8 ? List.of(r.weights()) : List.of(r.weights(), WeightPrecision.FP8);
            Optional<MemoryPlan> here = precisions.stream().map(w -> best(layouts(n), w, r).filter(MemoryPlan::fits))
                    .flatMap(Optional::stream).findFirst();
            if (here.isPresent()) {
                suggestions.add(new Suggestion(r.devices(), here.get()));
            } else {
                for (WeightPrecision w : precisions) fewestDevices(w, r).ifPresent(suggestions::add);
            }
        }
        return new Advice(chosen, suggestions);
    }

    /** The smallest device count, above the requested one, on which some layout fits. */
    private Optional<Suggestion> fewestDevices(WeightPrecision w, PlanRequest r) {
        for (int n = r.devices().count() + 1; n <= MAX_DEVICES; n++) {
            PlanRequest more = new PlanRequest(r.devices().withCount(n), w, 0, 0, r.context(), r.batch(), r.kvDtype(), r.rows(), r.reserve());
            Optional<MemoryPlan> p = best(layouts(n), w, more).filter(MemoryPlan::fits);
            if (p.isPresent()) return Optional.of(new Suggestion(more.devices(), p.get()));
        }
        return Optional.empty();
    }

    /** The fitting plan with the least memory per device, else the smallest plan; fewer tp then ep ranks on a tie. */
    private Optional<MemoryPlan> best(List<ParallelLayout> layouts, WeightPrecision w, PlanRequest r) {
        Comparator<MemoryPlan> order = Comparator.comparing((MemoryPlan p) -> !p.fits())
                .thenComparingLong(MemoryPlan::totalBytes)
                .thenComparingInt(p -> p.layout().tp())
                .thenComparingInt(p -> p.layout().ep());
        return layouts.stream().map(l -> plan(l, w, r)).min(order);
    }

    /** Every valid layout on {@code n} devices. */
    List<ParallelLayout> layouts(int n) {
        List<ParallelLayout> out = new ArrayList<>();
        int[] divisors = IntStream.rangeClosed(1, n).filter(d -> n % d == 0).toArray();
        for (int tp : divisors) {
            for (int ep : divisors) {
                ParallelLayout l = new ParallelLayout(tp, ep);
                if (problems(l, n).isEmpty()) out.add(l);
            }
        }
        return out;
    }

    /** Weight bytes of the fullest rank by category (memoised: it depends only on tp, ep and the precision). */
    private Map<String, Long> weightShare(ParallelLayout layout, WeightPrecision w) {
        return shares.computeIfAbsent(layout.tp() + "x" + layout.ep() + ":" + w, k -> computeShare(layout, w));
    }

    private Map<String, Long> computeShare(ParallelLayout layout, WeightPrecision w) {
        Map<String, Long> out = new LinkedHashMap<>();
        Placement.CATEGORIES.forEach(c -> out.put(c, 0L));
        Map<Integer, Long> perExpert = new HashMap<>();
        for (Placed p : held.computeIfAbsent(w, k -> held(k).stream().map(Placed::of).toList())) {
            if (p.placement() == Placement.EXPERT) {
                perExpert.merge(p.expert(), p.tensor().bytes(), Long::sum);
            } else {
                out.merge(p.category(), shard(p.tensor(), p.placement(), layout.tp()), Long::sum);
            }
        }
        int experts = perExpert.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        int perRank = (experts + layout.ep() - 1) / layout.ep();
        long fullest = 0;
        for (int rank = 0; rank < layout.ep(); rank++) {
            long sum = 0;
            for (int e = rank * perRank; e < Math.min(experts, (rank + 1) * perRank); e++) sum += perExpert.getOrDefault(e, 0L);
            fullest = Math.max(fullest, sum);
        }
        out.put("experts", fullest);
        return out;
    }

    /** Bytes of one tensor on the fullest tp rank. */
    private long shard(TensorHeader t, Placement p, int tp) {
        long[] shape = t.shape();
        return switch (p) {
            case REPLICATED, EXPERT -> t.bytes();
            case VOCAB, OUTPUT_ROWS -> split(t, 0, tp);
            case KV_HEADS -> split(t, 0, Math.min(tp, config.numKvHeads()));
            case INPUT_COLUMNS -> shape.length == 2 && shape[1] > 1 ? split(t, 1, tp) : t.bytes();
        };
    }

    /** Bytes of the largest of {@code parts} slices of {@code t} along {@code dim}. */
    private static long split(TensorHeader t, int dim, int parts) {
        long[] shape = t.shape();
        if (shape.length <= dim || shape[dim] == 0) return t.bytes();
        return t.bytes() / shape[dim] * ((shape[dim] + parts - 1) / parts);
    }

    /**
     * The tensors as the deployment holds them: as stored; all floats in BF16 (scales of FP8 weights dropped); or the
     * linear weights {@link Fp8Quantizer#quantises quantised} to FP8 with an F32 scale per output row.
     */
    private List<TensorHeader> held(WeightPrecision w) {
        if (w == WeightPrecision.STORED) return tensors;
        Set<String> names = new HashSet<>();
        tensors.forEach(t -> names.add(t.name()));
        List<TensorHeader> out = new ArrayList<>();
        for (TensorHeader t : tensors) {
            String scaled = Checkpoint.weightOfScale(t.name());
            boolean isScale = scaled != null && names.contains(scaled);
            if (w == WeightPrecision.BF16) {
                if (!isScale) out.add(t.dtype().isFloat() ? with(t, DType.BF16) : t);
            } else if (!isScale && Fp8Quantizer.quantises(t.name(), t.shape(), t.dtype())) {
                out.add(with(t, DType.F8_E4M3));
                long rows = t.shape()[0];
                out.add(new TensorHeader(t.name() + "_scale", DType.F32, new long[]{rows, 1}, 0, rows * DType.F32.bytes()));
            } else {
                out.add(t);
            }
        }
        return out;
    }

    /** The same tensor held as {@code dtype}. */
    private static TensorHeader with(TensorHeader t, DType dtype) {
        return new TensorHeader(t.name(), dtype, t.shape(), 0, t.numel() * dtype.bytes());
    }

    /** KV heads one tp rank holds: its share, or one replicated head when there are more ranks than heads. */
    private int kvHeadsPerRank(int tp) {
        return Math.max(1, config.numKvHeads() / tp);
    }

    /** Keys and values of every layer for {@code batch} sequences of {@code context} tokens, this rank's KV heads. */
    long kvCacheBytes(ParallelLayout l, PlanRequest r) {
        long context = r.context() == 0 ? config.maxPositions() : r.context();
        return 2L * config.numLayers() * context * r.batch() * kvHeadsPerRank(l.tp()) * config.headDim() * r.kvDtype().bytes();
    }

    /**
     * F32 activations of one pass of {@code rows} rows, buffer by buffer as the layer graph's scratch allocates them:
     * six hidden-wide rows (residual stream, attention output, two norm outputs, MLP output, expert sum), q and the
     * attention output over this rank's heads, k and v over its KV heads, two dense-MLP intermediates of this rank's
     * width, the router logits, the expert input and output (top-k of them per row under expert parallelism, where
     * every row's choices may land on one rank), two expert intermediates, and the logits.
     */
    long activationBytes(ParallelLayout l, int rows) {
        long h = config.hiddenSize(), d = config.headDim(), tp = l.tp();
        long q = ceil((long) config.numHeads() * d, tp);
        long kv = (long) kvHeadsPerRank(l.tp()) * d;
        long mlp = ceil(Math.max(config.intermediateSize(), config.hiddenSize()), tp);
        long expertRows = l.ep() > 1 ? config.topK() : 1;
        long floats = 6 * h + 2 * q + 2 * kv + 2 * mlp + config.numExperts() + 2 * expertRows * h
                + 2L * config.intermediateSize() + config.vocabSize();
        return rows * floats * Float.BYTES;
    }

    private static long ceil(long a, long b) {
        return (a + b - 1) / b;
    }
}
