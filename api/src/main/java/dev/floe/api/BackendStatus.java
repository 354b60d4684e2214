package dev.floe.api;

import java.util.List;

/**
 * A backend provider as {@code floe backends} shows it.
 *
 * @param name         the name to select it by
 * @param version      the provider's version
 * @param rank         preference when no backend is named (highest available wins)
 * @param available    whether its probe succeeded
 * @param detail       the device it found, or why it is unavailable
 * @param capabilities capability names, the same as in TCK reports
 * @param devices      the devices the provider enumerates (empty when it cannot run here or does not say)
 */
public record BackendStatus(String name, String version, int rank, boolean available, String detail,
                            List<String> capabilities, List<BackendDevice> devices) {
    public BackendStatus {
        capabilities = List.copyOf(capabilities);
        devices = devices == null ? List.of() : List.copyOf(devices);
    }

    /** A status without devices (the form before providers enumerated them). */
    public BackendStatus(String name, String version, int rank, boolean available, String detail, List<String> capabilities) {
        this(name, version, rank, available, detail, capabilities, List.of());
    }
}
