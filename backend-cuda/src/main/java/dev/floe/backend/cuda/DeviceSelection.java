package dev.floe.backend.cuda;

import dev.floe.spi.BackendOptions;

/**
 * Which device to open: the first of the chosen devices ({@code --devices}, {@link BackendOptions#devices()}), else the
 * {@code cuda.device} option, else the system property, else device 0.
 */
final class DeviceSelection {
    static final String PROPERTY = "cuda.device";

    private DeviceSelection() {
    }

    /** The raw setting from the options, falling back to the system property; null when neither is set. */
    static String setting(BackendOptions options) {
        if (options != null && !options.devices().isEmpty()) return Integer.toString(options.device(0));
        String v = options == null ? null : options.properties().get(PROPERTY);
        return v != null ? v : System.getProperty(PROPERTY);
    }

    /** The ordinal named by {@code value} (null or blank: 0); anything but a non-negative integer is refused. */
    static int parse(String value) {
        if (value == null || value.isBlank()) return 0;
        try {
            int n = Integer.parseInt(value.strip());
            if (n >= 0) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(PROPERTY + "=" + value + " is not a device ordinal (0, 1, ...)");
    }
}
