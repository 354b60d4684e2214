package dev.floe.cli;

import dev.floe.runtime.Providers;
import dev.floe.spi.ParameterSpec;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Function;

/** How {@code floe routers} and {@code floe schedulers} print providers: name, description, origin, parameters. */
final class ProviderListing {
    private ProviderListing() {
    }

    static <P> int print(PrintStream out, String kind, List<Providers.Found<P>> all, Function<P, String> description,
                         Function<P, List<ParameterSpec>> parameters) {
        if (all.isEmpty()) {
            out.println("no " + kind + " provider on the module path or the plugin path");
            return 1;
        }
        for (Providers.Found<P> f : all) {
            out.println(f.name() + "  " + description.apply(f.provider()));
            out.println("    from " + f.origin().describe() + (Providers.duplicated(all, f) ? "  [DUPLICATE NAME: not selectable]" : ""));
            List<ParameterSpec> params = parameters.apply(f.provider());
            if (params.isEmpty()) out.println("    no parameters");
            for (String line : Providers.describe(params)) out.println("    " + line);
        }
        return 0;
    }
}
