package example.backend;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;

import java.util.Set;

/** The provider Floe finds through ServiceLoader: cheap to construct, probe never throws. */
public final class ScalarProvider implements BackendProvider {
    @Override
    public String name() {
        return "example-scalar";
    }

    @Override
    public String version() {
        return "1.0.0";
    }

    @Override
    public int rank() {
        return 1; // below cpu-vector: chosen only when named
    }

    @Override
    public Probe probe() {
        return new Probe.Available("scalar Java on " + System.getProperty("os.arch"));
    }

    @Override
    public Set<Capability> capabilities() {
        return ScalarBackend.CAPABILITIES;
    }

    @Override
    public Backend open(BackendOptions options) {
        return new ScalarBackend();
    }
}
