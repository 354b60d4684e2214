package dev.floe.backend.cuda;

/**
 * What the driver says about one device.
 *
 * @param ordinal     the device index ({@code cuda.device})
 * @param name        the product name
 * @param major       compute capability, major
 * @param minor       compute capability, minor
 * @param totalMemory bytes of device memory
 * @param smCount     streaming multiprocessors
 */
record DeviceInfo(int ordinal, String name, int major, int minor, long totalMemory, int smCount) {
    /** Compute capability as one number: 90 for 9.0. */
    int capability() {
        return major * 10 + minor;
    }

    String describe() {
        return "CUDA device " + ordinal + ": " + name + ", compute capability " + major + "." + minor + ", "
                + (totalMemory >> 20) + " MiB, " + smCount + " SMs";
    }
}
