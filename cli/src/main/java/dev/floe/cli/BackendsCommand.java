package dev.floe.cli;

import dev.floe.runtime.Backends;
import dev.floe.runtime.Providers;
import dev.floe.api.BackendDevice;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;
import picocli.CommandLine.Command;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code floe backends}: every provider, where it came from, its probe result and capabilities. */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = "List backends: whether each can run here and why not, its version, capabilities and origin.")
final class BackendsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        List<Providers.Found<BackendProvider>> all = Providers.backends();
        if (all.isEmpty()) {
            System.out.println("no backend provider on the module path or the plugin path");
            return 1;
        }
        for (Providers.Found<BackendProvider> f : all) {
            BackendProvider p = f.provider();
            Probe probe = Backends.safeProbe(p);
            System.out.printf("%-11s %-7s rank %-4d %s: %s%n", f.name(), p.version(), p.rank(),
                    probe.available() ? "available" : "unavailable", probe.detail());
            System.out.println("            capabilities: " + String.join(", ", p.capabilities().stream().map(Capability::id).sorted().toList()));
            System.out.println("            SPI version " + p.spiVersion() + ", from " + f.origin().describe()
                    + (Providers.duplicated(all, f) ? "  [DUPLICATE NAME: not selectable]" : ""));
            for (BackendDevice d : probe.available() ? Backends.safeDevices(p) : List.<BackendDevice>of()) {
                System.out.printf(Locale.ROOT, "            device %d: %s, %.1f GiB%s%n", d.index(), d.name(), gib(d.memoryBytes()),
                        d.freeKnown() ? String.format(Locale.ROOT, ", %.1f GiB free", gib(d.freeBytes())) : ", free memory not reported");
            }
        }
        return 0;
    }

    private static double gib(long bytes) {
        return bytes / (double) (1L << 30);
    }
}
