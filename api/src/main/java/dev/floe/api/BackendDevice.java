package dev.floe.api;

/**
 * One device a backend can run on, as its provider enumerates it ({@code floe backends}, {@code --devices}).
 *
 * @param index       the number to choose it by ({@link ModelOptions#devices()}, {@code --devices})
 * @param name        what the device is, e.g. {@code NVIDIA H100 80GB HBM3} or {@code host CPU (16 cores, amd64)}
 * @param memoryBytes memory the device offers (device memory, or the host's physical memory for a CPU)
 * @param freeBytes   memory free when asked, or {@link #UNKNOWN} where the platform cannot say (OpenCL)
 */
public record BackendDevice(int index, String name, long memoryBytes, long freeBytes) {
    /** {@link #freeBytes} when the platform does not report free memory. */
    public static final long UNKNOWN = -1;

    public BackendDevice {
        if (index < 0) throw new IllegalArgumentException("device index must be >= 0, got " + index);
        if (name == null || name.isBlank()) throw new IllegalArgumentException("device " + index + " has no name");
        if (memoryBytes < 0) throw new IllegalArgumentException("device " + index + ": memory " + memoryBytes + " is negative");
        if (freeBytes < UNKNOWN) throw new IllegalArgumentException("device " + index + ": free memory " + freeBytes + " is negative");
    }

    public boolean freeKnown() {
        return freeBytes != UNKNOWN;
    }
}
