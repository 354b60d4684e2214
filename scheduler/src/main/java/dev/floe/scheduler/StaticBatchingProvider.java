package dev.floe.scheduler;

import dev.floe.api.Scheduler;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.Parameters;
import dev.floe.spi.SchedulerProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link StaticBatching} as {@code static}. */
public final class StaticBatchingProvider implements SchedulerProvider {
    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec("max-batch", "int", "0", "most requests per batch (0: the engine's --max-batch)"));

    @Override
    public String name() {
        return "static";
    }

    @Override
    public String description() {
        return "a fixed batch admitted when nothing runs, run until all finish";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public Scheduler create(Map<String, String> params) {
        Parameters p = new Parameters("scheduler " + name(), params, PARAMETERS);
        return new StaticBatching(p.intValue("max-batch", Integer.parseInt(PARAMETERS.getFirst().defaultValue()), 0, Integer.MAX_VALUE));
    }
}
