/**
 * Step schedulers for the serving engine. Every policy is first-come-first-served, never plans a chunk needing more
 * KV blocks than are free, and preempts by recomputation (evicting the most recently admitted sequence) when a
 * running sequence needs a block that is not there.
 */
package dev.floe.scheduler;
