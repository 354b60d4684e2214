package dev.floe.spi;

import dev.floe.api.BackendDevice;

import java.util.List;
import java.util.Set;

/**
 * Entry point of a backend module, found through {@link java.util.ServiceLoader}. Implementations must be cheap to
 * construct and free of side effects until {@link #open}.
 */
public interface BackendProvider {
    /**
     * The SPI version this interface describes ({@link SpiVersion#CURRENT}). Providers built against an older version
     * down to {@link SpiVersion#OLDEST} still load; a newer one is refused with a message.
     */
    int SPI_VERSION = SpiVersion.CURRENT;

    /** The name to select the backend by: {@code cpu-vector}, {@code opencl}, {@code cuda}. */
    String name();

    /** The provider's own version. */
    String version();

    /** Preference when no backend is named: the available provider with the highest rank is chosen. */
    int rank();

    /**
     * The SPI version the provider was built against. Override it to state the version explicitly: the default
     * answers the version of the SPI on the module path at run time.
     */
    default int spiVersion() {
        return SPI_VERSION;
    }

    /**
     * Finds out whether the backend can run here. Never throws and never crashes the JVM: a missing native library,
     * driver or device is an {@link Probe.Unavailable} answer with the reason. May be called repeatedly.
     */
    Probe probe();

    /**
     * The devices the backend can open here, numbered as {@link BackendOptions#devices()} chooses them, with their
     * memory and free memory. Like {@link #probe()} it never throws: an unavailable backend answers an empty list.
     * Providers written before devices were enumerated inherit this default, which says nothing.
     */
    default List<BackendDevice> devices() {
        return List.of();
    }

    /**
     * Opens {@code size} ranks, each with its own backend instance and memory, joined by communicators
     * ({@link Capability#COLLECTIVES}). Providers without collectives inherit this default, which refuses.
     */
    default DeviceGroup openGroup(int size, BackendOptions options) {
        throw new UnsupportedOperationException("backend " + name() + " offers no device groups (no " + Capability.COLLECTIVES.id() + ")");
    }

    /**
     * The unique id of a new group of processes (NCCL's {@code ncclGetUniqueId}), made by rank 0 and handed to every
     * rank at the launch's rendezvous. Providers that cannot join groups of processes inherit this default, which
     * refuses naming the backend.
     */
    default byte[] groupId(BackendOptions options) {
        throw new UnsupportedOperationException("backend " + name() + " cannot join a group of processes"
                + " (cpu-vector's groups are ranks in one process: run without WORLD_SIZE, with --tp/--ep)");
    }

    /**
     * Joins a group of {@code size} processes as {@code rank}, on the device {@code options} names, with the id rank 0
     * made by {@link #groupId}; blocks until every rank has joined. Providers that cannot inherit this default, which
     * refuses naming the backend.
     */
    default GroupMember joinGroup(int rank, int size, byte[] groupId, BackendOptions options) {
        throw new UnsupportedOperationException("backend " + name() + " cannot join a group of processes");
    }

    /** What the backend offers once open. */
    Set<Capability> capabilities();

    /** Opens the backend on its device. */
    Backend open(BackendOptions options);
}
