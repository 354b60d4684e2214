package dev.floe.backend.cuda;

import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.ModelOptions;
import dev.floe.api.SamplingParams;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The gpu-check step for CUDA graphs on real passes: each fixture is loaded twice, with plans captured as CUDA graphs
 * (the default) and interpreted ({@code cuda.graphs=false}). Both must pass the golden checks, and greedy generation
 * of every golden prompt must give the same tokens in both; the backend's dispatches per generated token are printed
 * for both (with graphs a decode step should be a graph launch plus the logits' few kernels). Exit status 1 on any
 * failure, 3 without a GPU.
 */
public final class GraphReplayCheck {
    static final int TOKENS = 24;

    private GraphReplayCheck() {
    }

    record Run(List<int[]> tokens, double dispatchesPerToken) {
    }

    public static void main(String[] args) {
        CudaProvider cuda = NcclGroupCheck.providerOrExit();
        Path root = Path.of(System.getProperty("floe.root", "."));
        int failures = 0;
        for (String folder : args.length > 0 ? args : new String[]{"fixtures/tiny-arctic", "fixtures/tiny-mixtral",
                "fixtures/tiny-arctic-fp8"}) {
            Path dir = root.resolve(folder);
            try {
                GoldenFixture golden = GoldenFixture.load(dir);
                Run graphs = run(cuda, dir, golden, true), eager = run(cuda, dir, golden, false);
                failures += graphs == null ? 1 : 0;
                failures += eager == null ? 1 : 0;
                if (graphs == null || eager == null) continue;
                boolean same = true;
                for (int p = 0; p < graphs.tokens().size(); p++) same &= Arrays.equals(graphs.tokens().get(p), eager.tokens().get(p));
                System.out.printf("%s: graphs vs eager greedy tokens %s; dispatches per token %.1f with graphs, %.1f eager%n",
                        folder, same ? "PASS (identical)" : "FAIL (differ)", graphs.dispatchesPerToken(), eager.dispatchesPerToken());
                if (!same) failures++;
                if (!(graphs.dispatchesPerToken() < eager.dispatchesPerToken())) {
                    System.out.println(folder + ": FAIL graphs did not cut the dispatches: the graph path was not taken");
                    failures++;
                }
            } catch (RuntimeException e) {
                System.out.println(folder + ": FAIL " + e);
                failures++;
            }
        }
        System.out.println(failures == 0 ? "all passed" : failures + " failed");
        System.exit(failures == 0 ? 0 : 1);
    }

    /** The golden checks and greedy generations on one load; null when a golden check failed. */
    private static Run run(CudaProvider cuda, Path dir, GoldenFixture golden, boolean graphs) {
        Backend b = cuda.open(new BackendOptions(0, Map.of(CudaBackend.GRAPHS_PROPERTY, String.valueOf(graphs))));
        String mode = graphs ? "graphs" : "eager";
        try (FloeModel m = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cuda"), l -> { }, b, null)) {
            System.out.println("# " + dir.getFileName() + " on " + m.device() + " (" + mode + ")");
            boolean passed = true;
            for (CheckResult r : GoldenChecks.run(m, golden, mode + "/" + dir.getFileName(), r -> { })) {
                System.out.println(r.line());
                passed &= r.passed();
            }
            List<int[]> tokens = new ArrayList<>();
            long dispatches = 0, generated = 0;
            for (GoldenFixture.Prompt p : golden.prompts()) {
                long before = b.dispatches();
                GenerationResult g = m.generate(GenerationRequest.ofIds(p.ids(), TOKENS).withSampling(SamplingParams.GREEDY)
                        .withIgnoreEos(true), t -> { });
                dispatches += b.dispatches() - before;
                generated += g.tokens().length;
                tokens.add(g.tokens());
            }
            return passed ? new Run(tokens, (double) dispatches / Math.max(1, generated)) : null;
        }
    }
}
