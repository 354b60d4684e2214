/** The Floe technology compatibility kit. */
package dev.floe.tck;
