package dev.floe.backend.cuda;

/**
 * The few driver queries the probe needs, behind an interface so that the probe's decisions can be tested without
 * a driver ({@link JCudaDriverApi} is the real one). Failures throw {@link dev.floe.spi.BackendException} naming
 * the driver call.
 */
interface DriverApi {
    /** {@code cuInit(0)}. */
    void init();

    /** {@code cuDriverGetVersion}: 1000 * major + 10 * minor of the newest CUDA the driver supports. */
    int driverVersion();

    /** {@code cuDeviceGetCount}. */
    int deviceCount();

    /** Name, capability and memory of device {@code ordinal}. */
    DeviceInfo device(int ordinal);

    /**
     * Free bytes of device {@code ordinal} ({@code cuMemGetInfo} in the device's primary context, retained for the
     * query and released after), or {@link dev.floe.api.BackendDevice#UNKNOWN} where the binding cannot say.
     */
    default long freeMemory(int ordinal) {
        return dev.floe.api.BackendDevice.UNKNOWN;
    }
}
