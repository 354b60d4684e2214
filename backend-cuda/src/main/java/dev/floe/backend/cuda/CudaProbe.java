package dev.floe.backend.cuda;

import dev.floe.spi.Probe;

import java.util.function.Supplier;

/**
 * Decides whether the CUDA backend can run here, in the order the failures occur: the driver library loads
 * (JCuda's native library needs {@code libcuda.so.1}; its absence is a {@link LinkageError}), {@code cuInit}
 * succeeds, a device exists, the selected device exists, the driver is new enough for the PTX ISA of the
 * committed kernels, and the device's compute capability is at least 8.0. Never throws.
 */
final class CudaProbe {
    /** Lowest compute capability the kernels target (compute_80 PTX). */
    static final int MIN_CAPABILITY = 80;

    private final Supplier<DriverApi> driver;
    private final int requiredDriver;

    /**
     * @param driver         loads the driver; may throw {@link LinkageError} when a native library is missing
     * @param requiredDriver the oldest acceptable {@code cuDriverGetVersion} value
     */
    CudaProbe(Supplier<DriverApi> driver, int requiredDriver) {
        this.driver = driver;
        this.requiredDriver = requiredDriver;
    }

    /** What {@link #find} learns. */
    sealed interface Result permits Found, Missing {
    }

    /** The driver works and the chosen device qualifies. */
    record Found(DriverApi driver, DeviceInfo device, int driverVersion) implements Result {
    }

    /** The backend cannot run; the reason says why. */
    record Missing(String reason) implements Result {
    }

    /** Probes for the device with ordinal {@code deviceProperty} (null: device 0). */
    Probe probe(String deviceProperty) {
        try {
            return switch (find(deviceProperty)) {
                case Found f -> new Probe.Available(f.device().describe() + ", driver CUDA " + version(f.driverVersion()));
                case Missing m -> new Probe.Unavailable(m.reason());
            };
        } catch (RuntimeException e) {
            return new Probe.Unavailable("CUDA probe failed: " + e.getMessage());
        }
    }

    /** Loads the driver and checks the device; never throws for a missing library or device. */
    Result find(String deviceProperty) {
        int ordinal;
        try {
            ordinal = DeviceSelection.parse(deviceProperty);
        } catch (IllegalArgumentException e) {
            return new Missing(e.getMessage());
        }
        DriverApi api;
        try {
            api = driver.get();
            api.init();
        } catch (LinkageError e) {
            return new Missing("CUDA driver library cannot be loaded: " + rootMessage(e));
        } catch (RuntimeException e) {
            return new Missing("CUDA driver cannot initialise: " + e.getMessage());
        }
        try {
            int version = api.driverVersion();
            int count = api.deviceCount();
            if (count == 0) return new Missing("no CUDA device (driver CUDA " + version(version) + ")");
            if (ordinal >= count) {
                return new Missing("cuda.device=" + ordinal + " but only " + count + " CUDA device(s) exist");
            }
            if (version < requiredDriver) {
                return new Missing("CUDA driver supports CUDA " + version(version) + " but the kernels need "
                        + version(requiredDriver) + " or newer (update the NVIDIA driver)");
            }
            DeviceInfo device = api.device(ordinal);
            if (device.capability() < MIN_CAPABILITY) {
                return new Missing(device.name() + " has compute capability " + device.major() + "."
                        + device.minor() + "; the CUDA backend needs 8.0 or newer");
            }
            return new Found(api, device, version);
        } catch (LinkageError e) {
            return new Missing("CUDA driver call failed to link: " + rootMessage(e));
        }
    }

    static String version(int v) {
        return (v / 1000) + "." + (v % 1000) / 10;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) t = t.getCause();
        String m = t.getMessage() == null ? t.getClass().getName() : t.getMessage();
        // JCuda's message holds a multi-line report with stack traces: keep the line that names the library
        for (String line : m.split("\\R")) {
            if (line.contains("libcuda") || line.contains("cannot open shared object")) return line.strip();
        }
        return m.lines().findFirst().orElse(m).strip();
    }
}
