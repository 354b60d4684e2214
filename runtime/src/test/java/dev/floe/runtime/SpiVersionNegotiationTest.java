package dev.floe.runtime;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;
import dev.floe.spi.SpiVersion;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** A provider states its SPI version; older ones down to SPI 1 load, a newer one is refused with a message. */
class SpiVersionNegotiationTest {
    private record Stub(int spiVersion) implements BackendProvider {
        @Override public String name() { return "stub"; }
        @Override public String version() { return "0"; }
        @Override public int rank() { return 0; }
        @Override public Probe probe() { return new Probe.Available("stub device"); }
        @Override public Set<Capability> capabilities() { return Set.of(Capability.WEIGHTS_F32); }
        @Override public Backend open(BackendOptions options) { throw new UnsupportedOperationException(); }
    }

    @Test
    void spi1AndSpi2ProvidersLoad() {
        assertTrue(Backends.safeProbe(new Stub(1)).available());
        assertTrue(Backends.safeProbe(new Stub(SpiVersion.CURRENT)).available());
    }

    @Test
    void aProviderBuiltAgainstANewerSpiIsRefusedWithAMessage() {
        Probe p = Backends.safeProbe(new Stub(SpiVersion.CURRENT + 1));
        assertFalse(p.available());
        assertTrue(p.detail().contains("SPI version " + (SpiVersion.CURRENT + 1)) && p.detail().contains("stub"), p.detail());
        Probe zero = Backends.safeProbe(new Stub(0));
        assertFalse(zero.available());
        assertTrue(zero.detail().contains("loads versions 1 to " + SpiVersion.CURRENT), zero.detail());
    }

    @Test
    void requireThrowsForAnIncompatibleProvider() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SpiVersion.require(new Stub(99)));
        assertTrue(e.getMessage().contains("99"), e.getMessage());
        SpiVersion.require(new Stub(1));
    }
}
