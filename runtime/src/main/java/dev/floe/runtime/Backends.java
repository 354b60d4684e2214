package dev.floe.runtime;

import dev.floe.api.BackendStatus;
import dev.floe.api.BackendUnavailableException;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * Finds backend providers on the module path and picks one: the named one, or the available provider of highest
 * rank. The environment variable {@code FLOE_BACKEND} or the system property {@code floe.backend} name a default.
 */
public final class Backends {
    private Backends() {
    }

    /** Every provider that loads, highest rank first. A provider that fails to load is reported, not fatal. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> out = new ArrayList<>();
        ServiceLoader<BackendProvider> loader = ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader());
        var it = loader.iterator();
        while (true) {
            try {
                if (!it.hasNext()) break;
                out.add(it.next());
            } catch (ServiceConfigurationError | LinkageError e) {
                System.getLogger("dev.floe.runtime").log(System.Logger.Level.WARNING, "a backend provider failed to load: " + e);
            }
        }
        out.sort(Comparator.comparingInt(BackendProvider::rank).reversed());
        return out;
    }

    /** The probe of every provider; never throws. */
    public static List<BackendStatus> statuses() {
        List<BackendStatus> out = new ArrayList<>();
        for (BackendProvider p : providers()) {
            Probe probe = safeProbe(p);
            out.add(new BackendStatus(p.name(), p.version(), p.rank(), probe.available(), probe.detail(),
                    p.capabilities().stream().map(Capability::id).sorted().toList()));
        }
        return out;
    }

    static Probe safeProbe(BackendProvider p) {
        String incompatible = dev.floe.spi.SpiVersion.incompatibility(p.name(), p.spiVersion());
        if (incompatible != null) return new Probe.Unavailable(incompatible);
        try {
            Probe probe = p.probe();
            return probe == null ? new Probe.Unavailable("probe returned nothing") : probe;
        } catch (RuntimeException | LinkageError e) {
            return new Probe.Unavailable("probe failed: " + e);
        }
    }

    /** The name asked for explicitly, by option, system property or environment, or null. */
    static String requested(String option) {
        if (option != null && !option.isBlank() && !option.equals("auto")) return option;
        String prop = System.getProperty("floe.backend");
        if (prop != null && !prop.isBlank()) return prop;
        String env = System.getenv("FLOE_BACKEND");
        return env != null && !env.isBlank() ? env : null;
    }

    /** Opens the named backend (or the best available one when {@code name} is null or "auto"). */
    public static Backend open(String name, BackendOptions options) {
        String wanted = requested(name);
        List<BackendProvider> providers = providers();
        if (wanted != null) {
            BackendProvider p = providers.stream().filter(x -> x.name().equals(wanted)).findFirst().orElseThrow(() ->
                    new BackendUnavailableException("no backend named '" + wanted + "' (installed: "
                            + providers.stream().map(BackendProvider::name).toList() + ")"));
            Probe probe = safeProbe(p);
            if (!probe.available()) throw new BackendUnavailableException("backend " + wanted + " is unavailable: " + probe.detail());
            return p.open(options);
        }
        StringBuilder reasons = new StringBuilder();
        for (BackendProvider p : providers) {
            Probe probe = safeProbe(p);
            if (probe.available()) return p.open(options);
            reasons.append("\n  ").append(p.name()).append(": ").append(probe.detail());
        }
        throw new BackendUnavailableException("no backend is available:" + (reasons.isEmpty() ? " none installed" : reasons));
    }
}
