package dev.floe.runtime;

import dev.floe.api.BackendStatus;
import dev.floe.api.Engine;
import dev.floe.api.ExpertStore;
import dev.floe.api.FloeException;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.Model;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFormatException;
import dev.floe.api.ModelOptions;
import dev.floe.api.Router;
import dev.floe.api.Tokenizer;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.InMemoryTensors;
import dev.floe.runtime.config.ConfigReader;
import dev.floe.runtime.experts.ExpertStores;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.model.SinkWindow;
import dev.floe.runtime.tokenizer.HfTokenizer;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Communicator;
import dev.floe.spi.DeviceGroup;
import dev.floe.spi.ExpertStoreProvider;
import dev.floe.spi.TensorSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * The runtime's {@link Engine}: reads a model folder, picks a backend, router and expert store, and assembles a
 * {@link FloeModel}. Options in {@link ModelOptions#properties()} that the runtime itself reads: {@code kv.blocks}
 * (KV pool size in blocks), {@code kv.block-size} (tokens per block, default 16), {@code attention.window} with
 * {@code attention.sink} (attention-sink generation past the context, see {@link SinkWindow}), and
 * {@code parallel.tp} with {@code parallel.ep} (tensor- and expert-parallel ranks, see
 * {@link ModelOptions#withParallel}).
 */
public final class FloeEngine implements Engine {
    private static final System.Logger LOG = System.getLogger("dev.floe.runtime");
    /** Folder name of the built-in model under the Floe home. */
    public static final String BUILT_IN = "models/arctic-tiny-code";

    @Override
    public Model load(Path modelDir, ModelOptions options) {
        return load(modelDir, options, layer -> { });
    }

    /** Loads a folder, reporting each placed layer to {@code progress}. */
    public static FloeModel load(Path modelDir, ModelOptions options, IntConsumer progress) {
        return load(modelDir, options, progress, null, null);
    }

    /**
     * Loads a folder onto a backend the caller opened (a test double, or a backend kept for SPI compatibility tests)
     * with a router the caller made; null for either means the options' choice. The model closes the backend.
     */
    public static FloeModel load(Path modelDir, ModelOptions options, IntConsumer progress, Backend backend, Router router) {
        return load(modelDir, options, progress, backend, router, null);
    }

    /**
     * Loads a folder onto the ranks of a group the caller opened (a test double, or the group of a TCK run), split as
     * the options' {@link ModelOptions#withParallel} asks; the group must have {@code max(tp, ep)} ranks. The model
     * closes the group, as does a load that fails.
     */
    public static FloeModel load(Path modelDir, ModelOptions options, IntConsumer progress, DeviceGroup group) {
        try {
            return load(modelDir, options, progress, null, null, java.util.Objects.requireNonNull(group, "group"));
        } catch (RuntimeException e) {
            group.close(); // idempotent where the model already closed it
            throw e;
        }
    }

    /**
     * Loads this process's rank of a group of processes (one per device) on {@code backend}, joined to the others by
     * {@code comm}, split as the options' {@link ModelOptions#withParallel} asks. Rank 0 returns the model its
     * callers use, which sends every pass to the other ranks; any other rank runs those passes and returns null once
     * rank 0 closes its model. The model (or the follower, when it returns) closes the backend, not the communicator.
     */
    public static FloeModel loadRank(Path modelDir, ModelOptions options, IntConsumer progress, Backend backend, Communicator comm) {
        return load(modelDir, options, progress, java.util.Objects.requireNonNull(backend, "backend"), null, null,
                java.util.Objects.requireNonNull(comm, "comm"));
    }

    private static FloeModel load(Path modelDir, ModelOptions options, IntConsumer progress, Backend backend, Router router,
                                  DeviceGroup group) {
        return load(modelDir, options, progress, backend, router, group, null);
    }

    private static FloeModel load(Path modelDir, ModelOptions options, IntConsumer progress, Backend backend, Router router,
                                  DeviceGroup group, Communicator comm) {
        if (!Files.isDirectory(modelDir)) throw new ModelFormatException(modelDir + ": not a model folder");
        ModelConfig config = ConfigReader.read(modelDir);
        Checkpoint checkpoint = Checkpoint.open(modelDir);
        try {
            config = ConfigReader.reconcileKvHeads(config, checkpoint.shapeOf("model.layers.0.self_attn.k_proj.weight"),
                    msg -> LOG.log(System.Logger.Level.WARNING, modelDir + ": " + msg));
            Tokenizer tokenizer = Files.exists(modelDir.resolve("tokenizer.json"))
                    ? HfTokenizer.load(modelDir) : new MissingTokenizer(modelDir, config.vocabSize());
            if (options.router() == null) options = options.withRouter(ConfigReader.routerSpec(modelDir).orElse(null));
            if (!weightsInMemory(options.properties())) {
                return assemble(config, checkpoint, tokenizer, modelDir, options, List.of(checkpoint), progress, backend, router, group, comm);
            }
            InMemoryTensors copy = InMemoryTensors.copyOf(checkpoint, modelDir.toString());
            try {
                return assemble(config, copy, tokenizer, modelDir, options, List.of(copy, checkpoint), progress, backend, router, group, comm);
            } catch (RuntimeException e) {
                copy.close();
                throw e;
            }
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    /**
     * Builds a model from tensors that need not come from a folder (the benchmark's synthetic model).
     *
     * @param owned closed with the model
     */
    public static FloeModel assemble(ModelConfig config, TensorSource tensors, Tokenizer tokenizer, Path source,
                                     ModelOptions options, List<AutoCloseable> owned, IntConsumer progress) {
        return assemble(config, tensors, tokenizer, source, options, owned, progress, null, null, null, null);
    }

    private static FloeModel assemble(ModelConfig config, TensorSource tensors, Tokenizer tokenizer, Path source,
                                      ModelOptions options, List<AutoCloseable> owned, IntConsumer progress,
                                      Backend given, Router givenRouter, DeviceGroup givenGroup, Communicator comm) {
        String where = source.toString();
        ExpertStores.checkShapes(config, tensors, where);
        Router router = givenRouter != null ? givenRouter : Routers.create(options.router(), config);
        int blockSize = intProperty(options, "kv.block-size", 16, 1, 4096);
        long bytesPerBlock = 2L * config.numLayers() * blockSize * config.numKvHeads() * config.headDim() * Float.BYTES;
        long perSequence = ((long) config.maxPositions() + blockSize - 1) / blockSize;
        // room for 8 full-context sequences, within 512 MB unless asked for more, and never less than one sequence
        long wanted = Math.max(perSequence, Math.min(8 * perSequence, (512L << 20) / bytesPerBlock));
        int fallback = (int) Math.min(Integer.MAX_VALUE, wanted);
        int blocks = intProperty(options, "kv.blocks", fallback, 1, Integer.MAX_VALUE);
        int tp = intProperty(options, ModelOptions.TENSOR_PARALLEL, 1, 1, 4096);
        int ep = intProperty(options, ModelOptions.EXPERT_PARALLEL, 1, 1, 4096);
        BackendOptions backendOptions = new BackendOptions(options.threads(), options.properties(), options.devices());
        if (tp * ep > 1 || givenGroup != null || comm != null) {
            if (given != null && comm == null) throw new InvalidRequestException("a backend given by the caller cannot run --tp " + tp + " --ep " + ep);
            dev.floe.runtime.parallel.Shard.check(config, tp, ep, where);
            ExpertStore store = expertStore(options.expertStore()).open(config, tensors);
            try {
                if (tokenizer == null) tokenizer = new MissingTokenizer(source, config.vocabSize());
                if (comm != null) {
                    var parts = new FloeModel.Parts(config, tokenizer, source, given, tensors, store, router, blocks, blockSize,
                            new ArrayList<>(owned), sinkWindow(options), expertCacheBytes(options));
                    if (comm.rank() == 0) return FloeModel.lead(parts, comm, tp, ep, progress);
                    FloeModel.follow(parts, comm, tp, ep); // closes the store, the backend and what it owns
                    return null;
                }
                DeviceGroup group = givenGroup != null ? givenGroup : Backends.openGroup(options.backend(), Math.max(tp, ep), backendOptions);
                return FloeModel.create(new FloeModel.Parts(config, tokenizer, source, group.backend(0), tensors, store, router,
                        blocks, blockSize, new ArrayList<>(owned), sinkWindow(options), expertCacheBytes(options)), group, tp, ep, progress);
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
        }
        Backend backend = given != null ? given : Backends.open(options.backend(), backendOptions);
        ExpertStore store = null;
        try {
            store = expertStore(options.expertStore()).open(config, tensors);
            List<AutoCloseable> all = new ArrayList<>(owned);
            if (tokenizer == null) tokenizer = new MissingTokenizer(source, config.vocabSize());
            return FloeModel.create(new FloeModel.Parts(config, tokenizer, source, backend, tensors, store, router, blocks,
                    blockSize, all, sinkWindow(options), expertCacheBytes(options)), progress);
        } catch (RuntimeException e) {
            if (store != null) store.close();
            backend.close();
            throw e;
        }
    }

    /** {@code experts.cache-bytes=N}: the most bytes of experts kept placed on the backend (default: no limit). */
    private static long expertCacheBytes(ModelOptions o) {
        String v = o.properties().get("experts.cache-bytes");
        if (v == null) return Long.MAX_VALUE;
        try {
            long n = Long.parseLong(v.trim());
            if (n < 1) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("option experts.cache-bytes=" + v + " must be a positive number of bytes");
        }
    }

    /** {@code attention.window=N} (and {@code attention.sink}, default 4) turn on attention-sink generation. */
    private static SinkWindow sinkWindow(ModelOptions o) {
        if (!o.properties().containsKey("attention.window")) {
            if (o.properties().containsKey("attention.sink")) {
                throw new InvalidRequestException("option attention.sink needs attention.window as well");
            }
            return null;
        }
        return new SinkWindow(intProperty(o, "attention.sink", 4, 0, Integer.MAX_VALUE),
                intProperty(o, "attention.window", 1, 1, Integer.MAX_VALUE));
    }

    /**
     * {@code weights.in-memory=true}: every tensor is copied into memory (on huge pages where allowed) at load instead
     * of read in place from the mapped files; see {@link InMemoryTensors}.
     */
    public static final String WEIGHTS_IN_MEMORY = "weights.in-memory";

    /** Whether {@code properties} ask for {@link #WEIGHTS_IN_MEMORY}; a value other than true or false is refused. */
    public static boolean weightsInMemory(java.util.Map<String, String> properties) {
        String key = WEIGHTS_IN_MEMORY, v = properties.get(key);
        if (v == null) return false;
        return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidRequestException("option " + key + "=" + v + " must be true or false");
        };
    }

    private static int intProperty(ModelOptions o, String key, int fallback, int min, int max) {
        String v = o.properties().get(key);
        if (v == null) return fallback;
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("option " + key + "=" + v + " must be an integer in [" + min + ", " + max + "]");
        }
    }

    /** The expert store provider of that name ({@code mapped} when null). */
    public static ExpertStoreProvider expertStore(String name) {
        String wanted = name == null || name.isBlank() ? "mapped" : name;
        return Providers.named(Providers.expertStores(), "expert store", wanted).provider();
    }

    @Override
    public List<BackendStatus> backends() {
        return Backends.statuses();
    }

    @Override
    public Path builtInModel() {
        return findBuiltIn();
    }

    /**
     * The built-in model: under {@code floe.home} (set by the launcher), {@code floe.root} (set in tests), or the first
     * parent of the working directory that holds it.
     */
    public static Path findBuiltIn() {
        for (String prop : new String[]{"floe.home", "floe.root"}) {
            String home = System.getProperty(prop);
            if (home != null && Files.exists(Path.of(home, BUILT_IN, "config.json"))) return Path.of(home, BUILT_IN);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(BUILT_IN).resolve("config.json"))) return p.resolve(BUILT_IN);
        }
        throw new FloeException("the built-in model " + BUILT_IN + " was not found: set -Dfloe.home=<Floe checkout> or pass --model DIR");
    }
}
