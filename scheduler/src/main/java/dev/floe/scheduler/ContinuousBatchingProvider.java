package dev.floe.scheduler;

import dev.floe.api.Scheduler;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.Parameters;
import dev.floe.spi.SchedulerProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link ContinuousBatching} as {@code continuous}. */
public final class ContinuousBatchingProvider implements SchedulerProvider {
    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec("max-joins", "int", "0", "most requests joining in one step (0: no limit)"));

    @Override
    public String name() {
        return "continuous";
    }

    @Override
    public String description() {
        return "requests join and leave every step, whole prompt in the joining step (FCFS)";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public Scheduler create(Map<String, String> params) {
        Parameters p = new Parameters("scheduler " + name(), params, PARAMETERS);
        return new ContinuousBatching(p.intValue("max-joins", Integer.parseInt(PARAMETERS.getFirst().defaultValue()), 0, Integer.MAX_VALUE));
    }
}
