package dev.floe.runtime;

import dev.floe.api.BackendDevice;
import dev.floe.api.BackendStatus;
import dev.floe.api.BackendUnavailableException;
import dev.floe.api.InvalidRequestException;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds backend providers ({@link Providers}: Floe's path and the plugin path) and picks one: the named one, or the available provider of highest
 * rank. The environment variable {@code FLOE_BACKEND} or the system property {@code floe.backend} name a default.
 */
public final class Backends {
    private Backends() {
    }

    /** Every provider that loads, highest rank first ({@link Providers#backends()}). */
    public static List<BackendProvider> providers() {
        return Providers.backends().stream().map(Providers.Found::provider).toList();
    }

    /** The probe of every provider; never throws. */
    public static List<BackendStatus> statuses() {
        List<BackendStatus> out = new ArrayList<>();
        for (BackendProvider p : providers()) {
            Probe probe = safeProbe(p);
            out.add(new BackendStatus(p.name(), p.version(), p.rank(), probe.available(), probe.detail(),
                    p.capabilities().stream().map(Capability::id).sorted().toList(), probe.available() ? safeDevices(p) : List.of()));
        }
        return out;
    }

    /** The provider's probe, never throwing: a provider of an incompatible SPI version or a throwing probe is unavailable. */
    public static Probe safeProbe(BackendProvider p) {
        String incompatible = dev.floe.spi.SpiVersion.incompatibility(p.name(), p.spiVersion());
        if (incompatible != null) return new Probe.Unavailable(incompatible);
        try {
            Probe probe = p.probe();
            return probe == null ? new Probe.Unavailable("probe returned nothing") : probe;
        } catch (RuntimeException | LinkageError e) {
            return new Probe.Unavailable("probe failed: " + e);
        }
    }

    /** The provider's devices; a provider that breaks the never-throw promise answers none. */
    public static List<BackendDevice> safeDevices(BackendProvider p) {
        try {
            List<BackendDevice> devices = p.devices();
            return devices == null ? List.of() : devices;
        } catch (RuntimeException | LinkageError e) {
            System.getLogger("dev.floe.runtime").log(System.Logger.Level.WARNING, p.name() + ": devices() failed: " + e);
            return List.of();
        }
    }

    /**
     * Refuses device indices the provider does not list, naming them and the devices there are. A provider that lists
     * no devices (one written before devices were enumerated) is left to judge the indices itself.
     */
    static void checkDevices(BackendProvider p, BackendOptions options) {
        if (options == null || options.devices().isEmpty()) return;
        List<BackendDevice> devices = safeDevices(p);
        if (devices.isEmpty()) return;
        for (int d : options.devices()) {
            if (devices.stream().noneMatch(x -> x.index() == d)) {
                throw new InvalidRequestException("--devices: " + p.name() + " has no device " + d + " (devices: "
                        + devices.stream().map(x -> x.index() + " " + x.name()).toList() + ")");
            }
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
        return choose(name, options, false).open(options);
    }

    /**
     * Opens a group of {@code size} ranks on the named backend (or the best available one with
     * {@link Capability#COLLECTIVES} when {@code name} is null or "auto").
     *
     * @throws InvalidRequestException naming the backend when it offers no collectives
     */
    public static dev.floe.spi.DeviceGroup openGroup(String name, int size, BackendOptions options) {
        BackendProvider p = choose(name, options, true);
        if (!p.capabilities().contains(Capability.COLLECTIVES)) {
            throw new InvalidRequestException("backend " + p.name() + " offers no device groups (it lacks the "
                    + Capability.COLLECTIVES.id() + " capability), so it cannot run " + size + " ranks for --tp/--ep;"
                    + " cpu-vector runs them as in-process ranks");
        }
        return p.openGroup(size, options);
    }

    /** The provider {@link #open} would open: the one named, else the available one of highest rank. */
    public static BackendProvider provider(String name, BackendOptions options) {
        return choose(name, options, false);
    }

    /**
     * The provider to open: the one named, else the available one of highest rank (with collectives, when
     * {@code collectives} asks for them and one has them).
     */
    private static BackendProvider choose(String name, BackendOptions options, boolean collectives) {
        String wanted = requested(name);
        List<Providers.Found<BackendProvider>> all = Providers.backends();
        if (wanted != null) {
            List<Providers.Found<BackendProvider>> named = all.stream().filter(f -> f.name().equals(wanted)).toList();
            if (named.isEmpty()) {
                throw new BackendUnavailableException("no backend named '" + wanted + "' (installed: "
                        + all.stream().map(Providers.Found::name).toList() + ")");
            }
            BackendProvider p = uniqueOrUnavailable(named);
            Probe probe = safeProbe(p);
            if (!probe.available()) throw new BackendUnavailableException("backend " + wanted + " is unavailable: " + probe.detail());
            checkDevices(p, options);
            return p;
        }
        if (collectives) {
            for (Providers.Found<BackendProvider> f : all) {
                if (f.provider().capabilities().contains(Capability.COLLECTIVES) && safeProbe(f.provider()).available()) {
                    return choose(f.name(), options, false);
                }
            }
        }
        StringBuilder reasons = new StringBuilder();
        for (Providers.Found<BackendProvider> f : all) {
            Probe probe = safeProbe(f.provider());
            if (probe.available()) {
                BackendProvider p = uniqueOrUnavailable(all.stream().filter(x -> x.name().equals(f.name())).toList());
                checkDevices(p, options);
                return p;
            }
            reasons.append("\n  ").append(f.name()).append(": ").append(probe.detail());
        }
        throw new BackendUnavailableException("no backend is available:" + (reasons.isEmpty() ? " none installed" : reasons));
    }

    private static BackendProvider uniqueOrUnavailable(List<Providers.Found<BackendProvider>> sameName) {
        try {
            return Providers.unique(sameName).provider();
        } catch (InvalidRequestException e) {
            throw new BackendUnavailableException(e.getMessage());
        }
    }
}
