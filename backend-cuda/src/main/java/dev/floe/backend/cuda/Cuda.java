package dev.floe.backend.cuda;

import dev.floe.spi.BackendException;
import jcuda.driver.CUresult;

/** Result checking for driver calls: a failure becomes a {@link BackendException} naming the call and its code. */
final class Cuda {
    private Cuda() {
    }

    /** Throws unless {@code result} is {@code CUDA_SUCCESS}. */
    static void check(String call, int result) {
        if (result != CUresult.CUDA_SUCCESS) throw failure(call, result);
    }

    static BackendException failure(String call, int result) {
        return new BackendException(call + " failed: " + CUresult.stringFor(result) + " (" + result + ")");
    }
}
