package dev.floe.runtime.serving;

import dev.floe.api.ForwardObserver;
import dev.floe.api.GenerationRequest;
import dev.floe.api.ModelOptions;
import dev.floe.api.RoutingDecision;
import dev.floe.api.RoutingInput;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A request's routing observer sees its own rows, as Model.generate shows them, however the scheduler batches it. */
class ServingRoutingObserverTest {
    /** One routed row: "layer position token experts", and its weights. */
    record Row(String key, float[] weights) {
    }

    /** Every routed row, in arrival order. */
    static final class Recorder implements ForwardObserver {
        final List<Row> rows = new ArrayList<>();

        @Override
        public synchronized void onRouting(int layer, RoutingInput in, RoutingDecision d) {
            for (int t = 0; t < in.tokens(); t++) {
                rows.add(new Row(String.format("%d %5d %d %s", layer, in.positions()[t], in.tokenIds()[t], Arrays.toString(d.experts()[t])),
                        d.weights()[t]));
            }
        }
    }

    @Test
    void eachRequestSeesItsOwnRoutingInABatch() throws Exception {
        try (FloeModel model = FloeEngine.load(FloeEngine.findBuiltIn(), ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            Recorder alone = new Recorder();
            GenerationRequest a = GenerationRequest.of("def fibonacci(n):", 6).withIgnoreEos(true);
            model.generate(a.withObserver(alone));
            Recorder batched = new Recorder();
            // a small token budget: splitfuse splits the prompts and mixes both requests' rows in one pass
            try (ServingEngine engine = new ServingEngine(model, Schedulers.create("splitfuse"), new ServingConfig(8, 2, 8))) {
                RequestHandle ha = engine.submit(a.withObserver(batched), t -> { });
                RequestHandle hb = engine.submit(GenerationRequest.of("class Stack:\n    def push(self, x):", 6).withIgnoreEos(true), t -> { });
                ha.result().get(60, TimeUnit.SECONDS);
                hb.result().get(60, TimeUnit.SECONDS);
            }
            List<Row> expected = new ArrayList<>(alone.rows), actual = new ArrayList<>(batched.rows);
            expected.sort(java.util.Comparator.comparing(Row::key));
            actual.sort(java.util.Comparator.comparing(Row::key));
            assertEquals(expected.stream().map(Row::key).toList(), actual.stream().map(Row::key).toList());
            for (int i = 0; i < expected.size(); i++) {
                // a batched pass may round differently from a single one (the TCK's batch-vs-single tolerance)
                for (int j = 0; j < expected.get(i).weights().length; j++) {
                    assertEquals(expected.get(i).weights()[j], actual.get(i).weights()[j], 1e-5, expected.get(i).key());
                }
            }
        }
    }
}
