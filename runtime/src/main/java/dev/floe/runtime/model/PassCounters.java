package dev.floe.runtime.model;

/**
 * What the layer graph has asked of its backend since the model was loaded: host/backend synchronisations (every
 * wait for the backend: downloads and explicit synchronisations), backend dispatches (kernel launches or pool jobs;
 * counted by the backend when it offers {@link dev.floe.spi.Capability#DISPATCH_COUNTER}, else one per kernel call),
 * bytes copied between host and backend, forward passes, MoE layers run and the dispatches of the MoE layers the
 * runtime ran itself (a compiled plan's MoE layers run inside the backend and are not among them).
 *
 * @param dispatchesCounted whether the backend counted its dispatches itself
 */
public record PassCounters(long syncs, long dispatches, long bytesCopied, long passes, long moeLayers,
                           long moeDispatches, boolean dispatchesCounted) {
    /** The counts between {@code earlier} and this. */
    public PassCounters since(PassCounters earlier) {
        return new PassCounters(syncs - earlier.syncs, dispatches - earlier.dispatches, bytesCopied - earlier.bytesCopied,
                passes - earlier.passes, moeLayers - earlier.moeLayers, moeDispatches - earlier.moeDispatches, dispatchesCounted);
    }
}
