/**
 * The SIMD CPU reference backend, {@code cpu-vector}, built on the incubating Vector API.
 *
 * <ul>
 *   <li>Activations are float32 heap arrays ({@code float[]}): kernel loads from them need no liveness checks and the
 *       arrays are small next to the weights.</li>
 *   <li>Weights are zero-copy: a weight wraps its tensor's memory segment (normally a slice of the memory-mapped
 *       checkpoint) and the matmul kernels dequantise F32, F16, BF16, FP8 E4M3 and FP8 E5M2 (with per-row or scalar
 *       scales) inside the dot-product loop. Only per-row scales and small RMSNorm vectors are copied.</li>
 *   <li>Batch-1 decode is bound by how many cache misses a core keeps in flight, so the matvec streams each block of
 *       weight rows into L1 with a one-load-per-line loop, then runs the dequantise-and-FMA loop from the cache.</li>
 *   <li>Kernels run on a dedicated pool of {@code BackendOptions.threads()} threads (default: one per processor);
 *       small kernels stay on the calling thread.</li>
 * </ul>
 *
 * <p>{@link dev.floe.backend.cpu.MemoryBandwidth} is public so that benchmarks can relate tokens per second to the
 * machine's measured read bandwidth (model bandwidth utilisation).
 */
package dev.floe.backend.cpu;
