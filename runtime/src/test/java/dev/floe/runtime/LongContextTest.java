package dev.floe.runtime;

import dev.floe.api.ModelOptions;
import dev.floe.api.Session;
import dev.floe.runtime.model.FloeModel;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Logits deep into the context agree whether the prompt is fed in passes of 256 rows or one token at a time. */
class LongContextTest {
    @Test
    void chunkedPrefillEqualsTokenByTokenFeedingBeyondFiveHundredPositions() {
        try (FloeModel m = FloeEngine.load(LoadingErrorsTest.BUILT_IN, ModelOptions.DEFAULTS.withBackend("cpu-vector"), l -> { })) {
            int n = 700;
            int[] ids = new int[n];
            for (int i = 0; i < n; i++) ids[i] = 3 + (i * 131 + i * i) % 4000;
            float[][] chunked;
            try (Session s = m.newSession()) {
                chunked = s.prefill(ids);
            }
            try (Session s = m.newSession()) {
                s.prefill(Arrays.copyOf(ids, 500));
                for (int p = 500; p < n; p++) {
                    float[] step = s.next(ids[p]);
                    double maxDiff = 0, maxRef = 0;
                    for (int v = 0; v < step.length; v++) {
                        maxDiff = Math.max(maxDiff, Math.abs(step[v] - chunked[p][v]));
                        maxRef = Math.max(maxRef, Math.abs(chunked[p][v]));
                    }
                    assertTrue(maxDiff / maxRef < 1e-4, "position " + p + ": relative difference " + maxDiff / maxRef);
                }
            }
        }
    }
}
