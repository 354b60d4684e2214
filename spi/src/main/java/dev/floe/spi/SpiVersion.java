package dev.floe.spi;

import dev.floe.api.TensorData;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Version negotiation between Floe and a backend provider. A provider states the SPI version it was built against
 * ({@link BackendProvider#spiVersion()}); Floe loads every version from {@link #OLDEST} to {@link #CURRENT}, because
 * each version only adds optional operations (a capability plus a runtime decomposition). A provider built against a
 * newer SPI, or one that states no valid version, is refused at load with {@link #incompatibility}'s message, never
 * with an {@link AbstractMethodError} at call time.
 */
public final class SpiVersion {
    /**
     * The SPI of this Floe. 2 added step metadata, the fused MoE operation, plans and dispatch counters; 3 adds
     * block-scaled weights ({@link ScaleLayout}, {@code Backend.weight(TensorData, ScaleLayout)}) and device groups
     * that join a multi-process launch ({@code groupId}, {@code joinGroup}). A backend that uses them states 3, so that
     * a Floe of SPI 2 refuses it with a message instead of failing to link.
     */
    public static final int CURRENT = 3;
    /** The oldest SPI whose backends still load: 1, the per-operation SPI with host arrays. */
    public static final int OLDEST = 1;

    private SpiVersion() {
    }

    /** Why a provider stating {@code stated} cannot be loaded, or null when it can. */
    public static String incompatibility(String provider, int stated) {
        if (stated > CURRENT) {
            return "backend " + provider + " was built against SPI version " + stated + ", newer than this Floe's "
                    + CURRENT + "; upgrade Floe or use a build of the backend for SPI " + CURRENT;
        }
        if (stated < OLDEST) {
            return "backend " + provider + " states SPI version " + stated + "; this Floe loads versions " + OLDEST
                    + " to " + CURRENT;
        }
        return null;
    }

    /**
     * The capabilities of {@code b} that it can honour: an SPI 2 capability counts only when the backend's class
     * implements its operations. A wrapper written against SPI 1 that forwards {@link Backend#capabilities()} of a
     * newer delegate would otherwise claim operations it does not forward; the runtime uses the SPI 1 path for it.
     */
    public static Set<Capability> effectiveCapabilities(Backend b) {
        Set<Capability> declared = b.capabilities();
        EnumSet<Capability> out = declared.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(declared);
        Class<?> type = b.getClass();
        if (!implemented(type, "step", StepMetadata.class) || !implemented(type, "rope", Buffer.class, int.class, Step.class)
                || !implemented(type, "embed", Weight.class, Step.class, Buffer.class)
                || !implemented(type, "storeKv", KvCache.class, int.class, Buffer.class, Buffer.class, Step.class)
                || !implemented(type, "attention", Buffer.class, KvCache.class, int.class, Step.class, Buffer.class)) {
            out.remove(Capability.STEP_METADATA);
        }
        if (!implemented(type, "moe", MoeCall.class)) out.remove(Capability.FUSED_MOE);
        if (!implemented(type, "compile", Plan.class)) out.remove(Capability.PLANS);
        if (!implemented(type, "dispatches")) out.remove(Capability.DISPATCH_COUNTER);
        if (!implemented(type, "weight", TensorData.class, ScaleLayout.class)) out.remove(Capability.WEIGHTS_BLOCK_SCALES);
        return Collections.unmodifiableSet(out);
    }

    private static boolean implemented(Class<?> type, String method, Class<?>... parameters) {
        try {
            return type.getMethod(method, parameters).getDeclaringClass() != Backend.class;
        } catch (NoSuchMethodException e) {
            return false;
        }
    }

    /** Refuses an incompatible provider with the message of {@link #incompatibility}. */
    public static void require(BackendProvider p) {
        String why = incompatibility(p.name(), p.spiVersion());
        if (why != null) throw new IllegalStateException(why);
    }
}
