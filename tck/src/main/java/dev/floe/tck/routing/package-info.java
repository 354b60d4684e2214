/**
 * Router conformance: float64 reference implementations ({@link dev.floe.tck.routing.RouterOracle}) of every shipped
 * gating strategy, and {@link dev.floe.tck.routing.RouterConformance}, which checks the routers found on the module
 * path against them.
 */
package dev.floe.tck.routing;
