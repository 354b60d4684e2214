package dev.floe.runtime;

import dev.floe.api.FloeException;

import java.io.File;
import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.module.ResolutionException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The plugin path: folders of jars (or exploded modules, or single jars) that add backends, routers, schedulers and
 * expert stores without copying anything into Floe. Read once from the system property {@code floe.plugin.path}
 * (which {@code floe --plugin-path} sets) or else the environment variable {@code FLOE_PLUGIN_PATH}; entries are
 * separated by {@link File#pathSeparator}.
 *
 * <p>When Floe runs on the module path, the plugins become a child {@link ModuleLayer} of Floe's own layer (explicit
 * modules with their {@code provides}, plain jars as automatic modules with their {@code META-INF/services}). On the
 * class path they are a child {@link URLClassLoader} read through {@code META-INF/services}. Either way
 * {@link #classLoader()} is the loader that sees Floe's own providers and the plugins' together.
 */
public final class Plugins {
    /** The system property {@code floe --plugin-path} sets. */
    public static final String PROPERTY = "floe.plugin.path";
    /** The environment variable read when the property is not set. */
    public static final String ENVIRONMENT = "FLOE_PLUGIN_PATH";

    private static volatile Loaded loaded;

    private Plugins() {
    }

    /** What the plugin path made: the loader to find services through and the entries it came from. */
    private record Loaded(String spec, ClassLoader loader, List<Path> entries) {
    }

    /** The plugin path in effect (empty when none is set). */
    public static List<Path> path() {
        return current().entries();
    }

    /** The class loader to find providers through: Floe's own, or a child that also sees the plugins. */
    public static ClassLoader classLoader() {
        return current().loader();
    }

    private static Loaded current() {
        String spec = System.getProperty(PROPERTY);
        if (spec == null) spec = System.getenv(ENVIRONMENT);
        if (spec == null) spec = "";
        Loaded l = loaded;
        if (l != null && l.spec().equals(spec)) return l;
        synchronized (Plugins.class) {
            if (loaded == null || !loaded.spec().equals(spec)) loaded = load(spec);
            return loaded;
        }
    }

    private static Loaded load(String spec) {
        List<Path> entries = parse(spec);
        ClassLoader own = Plugins.class.getClassLoader();
        if (entries.isEmpty()) return new Loaded(spec, own, entries);
        Module me = Plugins.class.getModule();
        ClassLoader loader = me.isNamed() && me.getLayer() != null ? moduleLayer(me.getLayer(), entries, spec) : classPath(entries, own);
        return new Loaded(spec, loader, entries);
    }

    /** Splits the path; every entry must exist, and the error names the one that does not. */
    static List<Path> parse(String spec) {
        List<Path> out = new ArrayList<>();
        for (String part : spec.split(File.pathSeparator)) {
            if (part.isBlank()) continue;
            Path p = Path.of(part.trim()).toAbsolutePath().normalize();
            if (!Files.exists(p)) throw new FloeException("plugin path entry " + part + " does not exist (plugin path: " + spec + ")");
            out.add(p);
        }
        return List.copyOf(out);
    }

    private static ClassLoader moduleLayer(ModuleLayer parent, List<Path> entries, String spec) {
        ModuleFinder finder = ModuleFinder.of(entries.toArray(Path[]::new));
        Set<String> own = parent.modules().stream().map(Module::getName).collect(Collectors.toSet());
        try {
            // every module on the plugin path is a root, except copies of modules Floe already has (a plugin folder
            // made with copy-dependencies holds floe-spi and floe-api too): those are Floe's, from the parent layer
            Set<ModuleReference> found = finder.findAll();
            List<String> roots = found.stream().map(r -> r.descriptor().name()).filter(n -> !own.contains(n)).toList();
            ModuleFinder without = ModuleFinder.of(found.stream().filter(r -> !own.contains(r.descriptor().name()))
                    .flatMap(r -> r.location().stream()).map(Path::of).toArray(Path[]::new));
            Configuration cf = parent.configuration().resolveAndBind(without, ModuleFinder.of(), roots);
            ModuleLayer layer = parent.defineModulesWithOneLoader(cf, Plugins.class.getClassLoader());
            return roots.isEmpty() ? Plugins.class.getClassLoader() : layer.findLoader(roots.getFirst());
        } catch (FindException | ResolutionException | LayerInstantiationException e) {
            throw new FloeException("plugin path " + spec + ": " + e.getMessage(), e);
        }
    }

    private static ClassLoader classPath(List<Path> entries, ClassLoader parent) {
        List<URL> urls = new ArrayList<>();
        try {
            for (Path e : entries) {
                if (Files.isDirectory(e) && !Files.isDirectory(e.resolve("META-INF"))) {
                    try (Stream<Path> jars = Files.list(e)) {
                        for (Path jar : jars.filter(j -> j.toString().endsWith(".jar")).sorted().toList()) urls.add(jar.toUri().toURL());
                    }
                } else {
                    urls.add(e.toUri().toURL());
                }
            }
        } catch (IOException e) {
            throw new FloeException("plugin path: " + e.getMessage(), e);
        }
        return new URLClassLoader("floe-plugins", urls.toArray(URL[]::new), parent);
    }
}
