package dev.floe.cli;

import dev.floe.api.BackendDevice;
import dev.floe.api.BackendStatus;
import dev.floe.api.Floe;
import picocli.CommandLine.Command;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code floe backends}: every provider, its probe result and capabilities. */
@Command(name = "backends", mixinStandardHelpOptions = true, description = "List backends, whether each can run here and why not.")
final class BackendsCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        var all = Floe.backends();
        if (all.isEmpty()) {
            System.out.println("no backend provider on the module path");
            return 1;
        }
        for (BackendStatus s : all) {
            System.out.printf("%-11s %-7s rank %-4d %s: %s%n", s.name(), s.version(), s.rank(),
                    s.available() ? "available" : "unavailable", s.detail());
            System.out.println("            capabilities: " + String.join(", ", s.capabilities()));
            for (BackendDevice d : s.devices()) {
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
