/**
 * The service-provider interface of Floe.
 *
 * <h2>Backends</h2>
 * A vendor ships a module that {@code provides dev.floe.spi.BackendProvider}. The runtime finds every provider with
 * {@link java.util.ServiceLoader}, calls {@link dev.floe.spi.BackendProvider#probe()} (which must never throw and
 * never crash the JVM: a missing driver library is an {@link dev.floe.spi.Probe.Unavailable} answer), and opens the
 * chosen one. A {@link dev.floe.spi.Backend} owns device memory ({@link dev.floe.spi.Buffer},
 * {@link dev.floe.spi.Weight}, {@link dev.floe.spi.KvCache}) and implements the kernels the layer graph needs.
 * Backends do not know the model: the Arctic/Mixtral layer graph is written once in the runtime against this
 * interface.
 *
 * <p>Kernels are called in program order from one thread per backend instance (a backend may run them
 * asynchronously, as long as {@link dev.floe.spi.Backend#download} and {@link dev.floe.spi.Backend#synchronize}
 * observe every earlier kernel). All activations are float32, row-major. Weights keep their checkpoint dtype; a
 * backend declares the dtypes it reads natively as {@link dev.floe.spi.Capability capabilities}, and the runtime
 * dequantises any other weight to F32 on the host before {@link dev.floe.spi.Backend#weight} (the fallback).
 *
 * <h2>Other providers</h2>
 * {@link dev.floe.spi.RouterProvider}, {@link dev.floe.spi.SchedulerProvider} and
 * {@link dev.floe.spi.ExpertStoreProvider} are found by name, so a research module can add a gating strategy,
 * scheduler or expert store without changing Floe.
 */
package dev.floe.spi;
