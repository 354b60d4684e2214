package dev.floe.runtime;

import dev.floe.api.InvalidRequestException;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.ExpertStoreProvider;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.RouterProvider;
import dev.floe.spi.SchedulerProvider;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.jar.Attributes;
import java.util.jar.JarFile;

/**
 * The one lookup of named providers (backends, routers, schedulers, expert stores, and any other service a module
 * asks for, such as the TCK's router oracles), through {@link ServiceLoader} over Floe's own modules and the
 * {@link Plugins plugin path}, with one rule for names: <b>a name belongs to one provider</b>. Looking up a name that
 * two providers share fails, naming where each came from, rather than letting the order of the path decide; listings
 * show both. A provider that fails to load is logged and left out; it never stops the others.
 */
public final class Providers {
    private static final System.Logger LOG = System.getLogger("dev.floe.runtime");

    private Providers() {
    }

    /**
     * A provider and where it came from.
     *
     * @param kind     what it provides, for messages: {@code backend}, {@code router}, ...
     * @param name     the name users select it by
     * @param origin   the jar or folder and the version it came from
     */
    public record Found<P>(String kind, String name, P provider, Origin origin) {
    }

    /**
     * Where a provider's class was loaded from.
     *
     * @param module   its module name, or {@code (class path)}
     * @param location the jar or folder
     * @param version  the module's version, else the jar's {@code Implementation-Version}, else {@code -}
     * @param plugin   whether it came from the plugin path rather than Floe's own path
     */
    public record Origin(String module, String location, String version, boolean plugin) {
        /** {@code dev.floe.gating 0.1.0 (floe-gating-0.1.0.jar)} or the same with {@code plugin} in front. */
        public String describe() {
            return (plugin ? "plugin " : "") + module + " " + version + " (" + location + ")";
        }

        static Origin of(Class<?> type) {
            Module m = type.getModule();
            Optional<URI> where = Optional.empty();
            String version = null;
            if (m.isNamed() && m.getLayer() != null) {
                where = m.getLayer().configuration().findModule(m.getName()).flatMap(r -> r.reference().location());
                version = m.getDescriptor().rawVersion().orElse(null);
            } else {
                CodeSource cs = type.getProtectionDomain().getCodeSource();
                if (cs != null && cs.getLocation() != null) {
                    try {
                        where = Optional.of(cs.getLocation().toURI());
                    } catch (URISyntaxException e) {
                        // no location to show
                    }
                }
            }
            Path path = where.filter(u -> u.getScheme().equals("file")).map(Path::of).orElse(null);
            if (version == null && path != null) version = manifestVersion(path);
            boolean plugin = path != null && Plugins.path().stream().anyMatch(path::startsWith);
            return new Origin(m.isNamed() ? m.getName() : "(class path)",
                    path != null ? path.toString() : where.map(URI::toString).orElse("?"), version == null ? "-" : version, plugin);
        }

        private static String manifestVersion(Path path) {
            if (!Files.isRegularFile(path)) return null;
            try (JarFile jar = new JarFile(path.toFile())) {
                return jar.getManifest() == null ? null : jar.getManifest().getMainAttributes().getValue(Attributes.Name.IMPLEMENTATION_VERSION);
            } catch (IOException e) {
                return null;
            }
        }
    }

    /** Every backend provider, highest rank first. */
    public static List<Found<BackendProvider>> backends() {
        List<Found<BackendProvider>> all = new ArrayList<>(all("backend", BackendProvider.class, BackendProvider::name));
        all.sort(Comparator.comparingInt((Found<BackendProvider> f) -> f.provider().rank()).reversed());
        return all;
    }

    /** Every router provider, by name. */
    public static List<Found<RouterProvider>> routers() {
        return all("router", RouterProvider.class, RouterProvider::name);
    }

    /** Every scheduler provider, by name. */
    public static List<Found<SchedulerProvider>> schedulers() {
        return all("scheduler", SchedulerProvider.class, SchedulerProvider::name);
    }

    /** Every expert store provider, by name. */
    public static List<Found<ExpertStoreProvider>> expertStores() {
        return all("expert store", ExpertStoreProvider.class, ExpertStoreProvider::name);
    }

    /**
     * Every provider of a service on Floe's path and the plugin path, sorted by name. Any module's service may be
     * asked for: the runtime declares the use itself.
     */
    public static <P> List<Found<P>> all(String kind, Class<P> service, Function<P, String> nameOf) {
        Module me = Providers.class.getModule();
        me.addReads(service.getModule());
        me.addUses(service);
        List<Found<P>> out = new ArrayList<>();
        var it = ServiceLoader.load(service, Plugins.classLoader()).iterator();
        while (true) {
            try {
                if (!it.hasNext()) break;
                P p = it.next();
                out.add(new Found<>(kind, nameOf.apply(p), p, Origin.of(p.getClass())));
            } catch (ServiceConfigurationError | LinkageError e) {
                LOG.log(System.Logger.Level.WARNING, "a " + kind + " provider failed to load: " + e);
            }
        }
        out.sort(Comparator.comparing(Found::name));
        return out;
    }

    /**
     * The provider of that name among {@code all}: unknown names and names two providers share are errors that say
     * what is installed and where from.
     */
    public static <P> Found<P> named(List<Found<P>> all, String kind, String name) {
        List<Found<P>> matches = all.stream().filter(f -> f.name().equals(name)).toList();
        if (matches.isEmpty()) {
            throw new InvalidRequestException("unknown " + kind + " '" + name + "' (known: "
                    + all.stream().map(Found::name).distinct().sorted().toList() + ")");
        }
        return unique(matches);
    }

    /** The one provider of a name, or an error naming every origin when several share it. */
    public static <P> Found<P> unique(List<Found<P>> sameName) {
        if (sameName.size() == 1) return sameName.getFirst();
        Found<P> first = sameName.getFirst();
        throw new InvalidRequestException(sameName.size() + " " + first.kind() + " providers are named '" + first.name()
                + "'; a name must belong to one provider, remove all but one of: "
                + sameName.stream().map(f -> f.provider().getClass().getName() + " from " + f.origin().describe()).toList());
    }

    /** Whether another provider of the list has this one's name. */
    public static <P> boolean duplicated(List<Found<P>> all, Found<P> one) {
        return all.stream().filter(f -> f.name().equals(one.name())).count() > 1;
    }

    /** A parameter list as {@code floe routers} and {@code floe schedulers} print it, one per line. */
    public static List<String> describe(List<ParameterSpec> parameters) {
        return parameters.stream().map(ParameterSpec::describe).toList();
    }
}
