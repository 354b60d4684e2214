package dev.floe.tck;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import dev.floe.spi.BackendOptions;

/**
 * What a check sees: the backend under test (one shared instance for kernel checks, fresh ones on demand), seeded
 * randomness and the fixture folders.
 */
public final class TckContext implements AutoCloseable {
    private final String backendName;
    private final BackendProvider provider;
    private final TckOptions options;
    private final Function<BackendOptions, Backend> opener;
    private final List<Path> fixtures;
    private final Path root;
    private Backend shared;
    private boolean exercised;

    TckContext(String backendName, BackendProvider provider, TckOptions options, Path root, List<Path> fixtures) {
        this.root = root;
        this.backendName = backendName;
        this.provider = provider;
        this.options = options;
        this.opener = options.backendFactory() != null ? options.backendFactory() : provider::open;
        this.fixtures = List.copyOf(fixtures);
    }

    /** The name the backend was selected by (model checks load models with it). */
    public String backendName() {
        return backendName;
    }

    public TckOptions options() {
        return options;
    }

    /** The backend shared by the kernel checks, opened on first use. */
    public Backend backend() {
        exercised = true;
        if (shared == null) shared = openBackend();
        return shared;
    }

    /** A fresh backend instance; the caller closes it. */
    public Backend openBackend() {
        exercised = true;
        return opener.apply(options.backendOptions());
    }

    /** Records that the running check reaches the backend another way (a model loaded by the backend's name). */
    public void markExercised() {
        exercised = true;
    }

    /** Whether the check now running has reached the backend; {@link Tck} resets it before each check. */
    boolean exercised(boolean reset) {
        boolean was = exercised;
        if (reset) exercised = false;
        return was;
    }

    /** The capabilities the provider declares (what {@code floe backends} shows before anything is opened). */
    public Set<Capability> capabilities() {
        return provider.capabilities();
    }

    /**
     * The capabilities of the opened backend under test: what the runtime reads to decide which weights to dequantise,
     * hence what the dtype checks follow. {@code behaviour.capabilities.agree} demands they equal {@link #capabilities()}.
     */
    public Set<Capability> backendCapabilities() {
        return backend().capabilities();
    }

    /** The provider under test. */
    public BackendProvider provider() {
        return provider;
    }

    /** Randomness for one check: the same seed and check name give the same stream. */
    public SplittableRandom random(String checkName) {
        return new SplittableRandom(options.seed() * 31 + checkName.hashCode());
    }

    /** Golden fixture folders to check, bundled ones first. */
    public List<Path> fixtures() {
        return fixtures;
    }

    /** The Floe checkout holding {@code fixtures/}, or null when none was found. */
    public Path root() {
        return root;
    }

    /**
     * A group of {@code size} ranks of the backend under test: from the options' group factory, else from the provider
     * when it advertises {@link Capability#COLLECTIVES}. The caller closes it.
     *
     * @throws Check.Skip when the backend offers no groups, or this run tests a backend factory without a group factory
     */
    public dev.floe.spi.DeviceGroup openGroup(int size) {
        if (options.groupFactory() != null) {
            exercised = true;
            return options.groupFactory().apply(size, options.backendOptions());
        }
        if (!providerBackend()) throw new Check.Skip("groups are opened by the provider; this run tests a backend factory");
        if (!provider.capabilities().contains(Capability.COLLECTIVES)) {
            throw new Check.Skip("backend " + backendName + " does not advertise " + Capability.COLLECTIVES.id());
        }
        exercised = true;
        return provider.openGroup(size, options.backendOptions());
    }

    /** Whether checks run on the provider's own backend (model checks only mean something then). */
    public boolean providerBackend() {
        return options.backendFactory() == null;
    }

    @Override
    public void close() {
        if (shared != null) {
            shared.close();
            shared = null;
        }
    }
}
