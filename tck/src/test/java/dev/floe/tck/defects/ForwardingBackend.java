package dev.floe.tck.defects;

import dev.floe.spi.Backend;
import dev.floe.tck.spi1.Spi1Backend;

/** A backend that delegates every SPI 1 call (the SPI 1 fixture); each planted defect overrides one method. */
class ForwardingBackend extends Spi1Backend {
    ForwardingBackend(Backend delegate) {
        super(delegate);
    }
}
