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
 */
public record BackendStatus(String name, String version, int rank, boolean available, String detail,
                            List<String> capabilities) {
    public BackendStatus {
        capabilities = List.copyOf(capabilities);
    }
}
