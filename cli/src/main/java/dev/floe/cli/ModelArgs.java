package dev.floe.cli;

import dev.floe.api.Floe;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.launch.Launch;
import dev.floe.runtime.launch.LaunchEnv;
import dev.floe.runtime.model.FloeModel;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options shared by the commands that load a model. */
final class ModelArgs {
    @Option(names = "--model", paramLabel = "DIR", description = "model folder (default: the built-in arctic-tiny-code)")
    Path model;

    @Option(names = "--backend", paramLabel = "NAME", description = "cpu-vector, opencl, cuda (default: best available)")
    String backend;

    @Option(names = "--router", paramLabel = "SPEC", description = "gating strategy NAME[:key=value,...] (default: softmax-topk)")
    String router;

    @Option(names = "--expert-store", paramLabel = "NAME", description = "mapped (default) or memory")
    String expertStore;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads for CPU kernels (default: all cores)")
    int threads;

    @Option(names = "--devices", paramLabel = "INDEX[,INDEX...]", split = ",",
            description = "the backend's devices to run on, as `floe backends` numbers them (default: the backend's choice)")
    List<Integer> devices = new ArrayList<>();

    @Option(names = "--tp", paramLabel = "N", defaultValue = "1",
            description = "tensor-parallel ranks: attention heads and the dense MLPs split N ways (default: 1)")
    int tp = 1;

    @Option(names = "--ep", paramLabel = "M", defaultValue = "1",
            description = "expert-parallel ranks: the experts split M ways (default: 1); with --tp, the same ranks")
    int ep = 1;

    @Option(names = {"-D", "--option"}, paramLabel = "KEY=VALUE", description = "backend or runtime option, e.g. kv.blocks=64, opencl.device=0")
    Map<String, String> properties = new LinkedHashMap<>();

    /** A rank other than 0 of a launch ran rank 0's passes until it closed the model: the command is done, quietly. */
    static final class Followed extends RuntimeException {
        Followed() {
            super("followed rank 0 until it closed the model", null, false, false);
        }
    }

    Path modelDir() {
        return model != null ? model : Floe.engine().builtInModel();
    }

    ModelOptions options() {
        if (tp < 1) throw new dev.floe.api.InvalidRequestException("--tp " + tp + " must be a positive number of ranks");
        if (ep < 1) throw new dev.floe.api.InvalidRequestException("--ep " + ep + " must be a positive number of ranks");
        ModelOptions o = new ModelOptions(backend, router, expertStore, threads, properties, devices);
        return tp == 1 && ep == 1 ? o : o.withParallel(tp, ep);
    }

    /** Loads the model, showing per-layer progress on a terminal. */
    FloeModel load() {
        return load(modelDir());
    }

    /**
     * Loads the model; in a multi-process launch (torchrun's variables, WORLD_SIZE above 1) this process's rank of it:
     * rank 0 gets the model, the other ranks follow its passes and end the command with {@link Followed} once rank 0
     * closes the model.
     */
    FloeModel load(Path dir) {
        Progress progress = new Progress("loading " + dir.getFileName());
        try {
            if (Launch.launched(System.getenv())) {
                FloeModel m = Launch.load(dir, options(), progress::step, LaunchEnv.from(System.getenv()));
                if (m == null) throw new Followed();
                return m;
            }
            return FloeEngine.load(dir, options(), progress::step);
        } finally {
            progress.done();
        }
    }
}
