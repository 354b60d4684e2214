package dev.floe.runtime;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The FP8 fixtures in each published scale layout (per-tensor; 48x48 blocks as {@code weight_scale_inv}; 32x64 blocks
 * in a compressed-tensors config) reproduce their float64 goldens on cpu-vector, with both expert stores: the checks
 * of {@link GoldenFixturesTest}.
 */
class Fp8FixturesTest {
    @ParameterizedTest
    @ValueSource(strings = {"fixtures/tiny-arctic-fp8-tensor", "fixtures/tiny-arctic-fp8-block", "fixtures/tiny-arctic-fp8-ct-block"})
    void reproducesGoldens(String folder) {
        new GoldenFixturesTest().reproducesGoldens(folder);
    }
}
