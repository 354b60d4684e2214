/** Scheduling policies. */
package dev.floe.scheduler;
