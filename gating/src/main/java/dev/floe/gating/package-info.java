/**
 * Gating strategies, each a {@link dev.floe.spi.RouterProvider} found by name: {@code softmax-topk} (the default, the
 * Arctic/Mixtral router), {@code sigmoid-topk}, {@code capacity-topk}, {@code expert-choice}, {@code hash} and
 * {@code random}; {@link dev.floe.gating.Parameters} for their typed parameters; and
 * {@link dev.floe.gating.RoutingTelemetry}, a forward observer that measures what a router did. See
 * {@code docs/gating.md}.
 */
package dev.floe.gating;
