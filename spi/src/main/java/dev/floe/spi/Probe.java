package dev.floe.spi;

/** The answer of {@link BackendProvider#probe()}: a backend is available on a device, or unavailable for a reason. */
public sealed interface Probe {
    /** The backend can open; {@code device} describes what it found. */
    record Available(String device) implements Probe {
    }

    /** The backend cannot open here; {@code reason} says why (for example a missing driver library). */
    record Unavailable(String reason) implements Probe {
    }

    default boolean available() {
        return this instanceof Available;
    }

    /** The device or the reason. */
    default String detail() {
        return switch (this) {
            case Available a -> a.device();
            case Unavailable u -> u.reason();
        };
    }
}
