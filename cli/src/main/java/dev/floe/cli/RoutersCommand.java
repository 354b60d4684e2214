package dev.floe.cli;

import dev.floe.runtime.Providers;
import dev.floe.spi.RouterProvider;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code floe routers}: every gating strategy, where it came from and its parameters. */
@Command(name = "routers", mixinStandardHelpOptions = true,
        description = "List gating strategies (--router NAME:key=value,...): description, origin and typed parameters.")
final class RoutersCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        return ProviderListing.print(System.out, "router", Providers.routers(), RouterProvider::description, RouterProvider::parameters);
    }
}
