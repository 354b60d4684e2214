package dev.floe.cli;

import dev.floe.runtime.Providers;
import dev.floe.spi.SchedulerProvider;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code floe schedulers}: every scheduling policy, where it came from and its parameters. */
@Command(name = "schedulers", mixinStandardHelpOptions = true,
        description = "List scheduling policies (serve --scheduler NAME:key=value,...): description, origin and typed parameters.")
final class SchedulersCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return ProviderListing.print(System.out, "scheduler", Providers.schedulers(), SchedulerProvider::description,
                SchedulerProvider::parameters);
    }
}
