import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFamily;
import dev.floe.api.RoutingInput;
import dev.floe.spi.RouterProvider;

import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.SplittableRandom;

/**
 * Cost of the routing decision alone (no model): every RouterProvider on the module path routes batches of random
 * logits shaped like the built-in model's (16 experts, k = 2). Prints nanoseconds per token, best of 7 rounds.
 * Run from the repository root after a build (see docs/gating.md).
 */
public class RouterBench {
    public static void main(String[] args) {
        int tokens = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int experts = 16;
        var config = new ModelConfig(ModelFamily.ARCTIC, 4096, 256, 128, 4, 8, 2, 32, experts, 2, 1, true, 10000, 1e-5,
                1024, false, 1, List.of(2), "bfloat16", null);
        SplittableRandom random = new SplittableRandom(1);
        RoutingInput[] batches = new RoutingInput[16];
        for (int b = 0; b < batches.length; b++) {
            float[][] logits = new float[tokens][experts];
            int[] ids = new int[tokens];
            for (int t = 0; t < tokens; t++) {
                ids[t] = random.nextInt(4096);
                for (int e = 0; e < experts; e++) logits[t][e] = (float) random.nextGaussian();
            }
            batches[b] = new RoutingInput(b % 4, logits, ids, new int[tokens], 2, true);
        }
        System.out.printf("%-14s %12s   (batches of %d tokens, %d experts, k = 2)%n", "router", "ns/token", tokens, experts);
        for (RouterProvider p : ServiceLoader.load(RouterProvider.class)) {
            var router = p.create(config, Map.of());
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 7; round++) {
                long t0 = System.nanoTime();
                int calls = 0;
                while (System.nanoTime() - t0 < 300_000_000L) {
                    router.route(batches[calls++ % batches.length]);
                }
                best = Math.min(best, (System.nanoTime() - t0) / ((double) calls * tokens));
            }
            System.out.printf("%-14s %12.1f%n", p.name(), best);
        }
    }
}
