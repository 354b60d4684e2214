package dev.floe.runtime.serving;

import dev.floe.api.Scheduler;
import dev.floe.runtime.ProviderSpec;
import dev.floe.runtime.Providers;
import dev.floe.spi.SchedulerProvider;

import java.util.List;

/** Finds scheduling policies by name ({@code NAME[:key=value,...]}) through {@link Providers}. */
public final class Schedulers {
    /** The policy used when none is named. */
    public static final String DEFAULT = "splitfuse";

    private Schedulers() {
    }

    /** Every scheduler provider on Floe's path and the plugin path. */
    public static List<SchedulerProvider> providers() {
        return Providers.schedulers().stream().map(Providers.Found::provider).toList();
    }

    /** Creates the scheduler a spec names; errors name the spec and the known policies. */
    public static Scheduler create(String spec) {
        ProviderSpec s = ProviderSpec.parse("scheduler", spec, DEFAULT);
        return Providers.named(Providers.schedulers(), "scheduler", s.name()).provider().create(s.params());
    }
}
