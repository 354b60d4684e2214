package dev.floe.tck;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.DeviceGroup;
import dev.floe.spi.RouterProvider;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * How to run the kit.
 *
 * @param fixtures        extra golden fixture folders, checked after the bundled ones
 * @param bundledFixtures whether to check the fixtures bundled with Floe ({@code fixtures/tiny-*}, the built-in model)
 * @param root            the Floe checkout holding the bundled fixtures, or null to find it like
 *                        {@code FloeEngine.findBuiltIn()} does
 * @param filter          only checks whose name this finds a match in run (null: all)
 * @param backendOptions  options for opening the backend
 * @param seed            seed of every randomised input (the same seed gives the same inputs)
 * @param backendFactory  opens the backend under test instead of its provider (test doubles), or null
 * @param routers         router providers for the routing checks, or null for those on the module path
 * @param out             where one line per check is printed, or null for silence
 * @param dump            where a failing check's inputs, outputs and oracle values are written ({@link Dump}), or null
 * @param groupFactory    opens a device group of the backend under test ({@code size}, options) instead of its
 *                        provider's {@link dev.floe.spi.BackendProvider#openGroup} (test doubles), or null
 */
public record TckOptions(List<Path> fixtures, boolean bundledFixtures, Path root, Pattern filter,
                         BackendOptions backendOptions, long seed, Function<BackendOptions, Backend> backendFactory,
                         List<RouterProvider> routers, PrintStream out, Path dump,
                         BiFunction<Integer, BackendOptions, DeviceGroup> groupFactory) {
    /** The seed of published reports. */
    public static final long DEFAULT_SEED = 0x5EED_F10EL;

    public TckOptions {
        fixtures = List.copyOf(fixtures);
        routers = routers == null ? null : List.copyOf(routers);
    }

    /** Options without a group factory (the signature of kit 1.1). */
    public TckOptions(List<Path> fixtures, boolean bundledFixtures, Path root, Pattern filter, BackendOptions backendOptions,
                      long seed, Function<BackendOptions, Backend> backendFactory, List<RouterProvider> routers, PrintStream out,
                      Path dump) {
        this(fixtures, bundledFixtures, root, filter, backendOptions, seed, backendFactory, routers, out, dump, null);
    }

    /** Options without a dump folder (the signature of kit 1.0). */
    public TckOptions(List<Path> fixtures, boolean bundledFixtures, Path root, Pattern filter, BackendOptions backendOptions,
                      long seed, Function<BackendOptions, Backend> backendFactory, List<RouterProvider> routers, PrintStream out) {
        this(fixtures, bundledFixtures, root, filter, backendOptions, seed, backendFactory, routers, out, null);
    }

    /** Every check, bundled fixtures, default seed, printing to standard output. */
    public static TckOptions defaults() {
        return new TckOptions(List.of(), true, null, null, BackendOptions.DEFAULTS, DEFAULT_SEED, null, null, System.out, null);
    }

    public TckOptions withFixtures(List<Path> extra) {
        List<Path> all = new ArrayList<>(fixtures);
        all.addAll(extra);
        return new TckOptions(all, bundledFixtures, root, filter, backendOptions, seed, backendFactory, routers, out, dump, groupFactory);
    }

    public TckOptions withBundledFixtures(boolean bundled) {
        return new TckOptions(fixtures, bundled, root, filter, backendOptions, seed, backendFactory, routers, out, dump, groupFactory);
    }

    public TckOptions withRoot(Path floeRoot) {
        return new TckOptions(fixtures, bundledFixtures, floeRoot, filter, backendOptions, seed, backendFactory, routers, out, dump, groupFactory);
    }

    public TckOptions withFilter(String regex) {
        return new TckOptions(fixtures, bundledFixtures, root, regex == null ? null : Pattern.compile(regex),
                backendOptions, seed, backendFactory, routers, out, dump, groupFactory);
    }

    public TckOptions withBackendOptions(BackendOptions options) {
        return new TckOptions(fixtures, bundledFixtures, root, filter, options, seed, backendFactory, routers, out, dump, groupFactory);
    }

    public TckOptions withSeed(long newSeed) {
        return new TckOptions(fixtures, bundledFixtures, root, filter, backendOptions, newSeed, backendFactory, routers, out, dump, groupFactory);
    }

    public TckOptions withBackendFactory(Function<BackendOptions, Backend> factory) {
        return new TckOptions(fixtures, bundledFixtures, root, filter, backendOptions, seed, factory, routers, out, dump, groupFactory);
    }

    /** Opens the device groups of the group checks with {@code factory} (a group with a planted defect). */
    public TckOptions withGroupFactory(BiFunction<Integer, BackendOptions, DeviceGroup> factory) {
        return new TckOptions(fixtures, bundledFixtures, root, filter, backendOptions, seed, backendFactory, routers, out, dump, factory);
    }

    public TckOptions withRouters(List<RouterProvider> providers) {
        return new TckOptions(fixtures, bundledFixtures, root, filter, backendOptions, seed, backendFactory, providers, out, dump, groupFactory);
    }

    public TckOptions withOut(PrintStream stream) {
        return new TckOptions(fixtures, bundledFixtures, root, filter, backendOptions, seed, backendFactory, routers, stream, dump, groupFactory);
    }

    public TckOptions withDump(Path folder) {
        return new TckOptions(fixtures, bundledFixtures, root, filter, backendOptions, seed, backendFactory, routers, out, folder, groupFactory);
    }
}
