/**
 * Serving: an engine thread that runs a pluggable {@link dev.floe.api.Scheduler}'s plans as batched forward passes
 * over many requests sharing the paged KV pool, with streaming, cancellation, preemption and metrics.
 */
package dev.floe.runtime.serving;
