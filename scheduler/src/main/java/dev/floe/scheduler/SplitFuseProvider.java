package dev.floe.scheduler;

import dev.floe.api.Scheduler;
import dev.floe.spi.ParameterSpec;
import dev.floe.spi.Parameters;
import dev.floe.spi.SchedulerProvider;

import java.util.List;
import java.util.Map;

/** Provides {@link SplitFuse} as {@code splitfuse}. */
public final class SplitFuseProvider implements SchedulerProvider {
    private static final List<ParameterSpec> PARAMETERS = List.of(
            new ParameterSpec("min-chunk", "int", "16", "fewest prompt tokens a waiting request starts with unless its whole prompt fits"),
            new ParameterSpec("budget", "int", "0", "rows per pass that prompt chunks fill up to, decode rows included (0: the engine's token budget)"));

    @Override
    public String name() {
        return "splitfuse";
    }

    @Override
    public String description() {
        return "Dynamic SplitFuse: fixed token budget per pass, decodes first, prompt chunks fill the rest";
    }

    @Override
    public List<ParameterSpec> parameters() {
        return PARAMETERS;
    }

    @Override
    public Scheduler create(Map<String, String> params) {
        Parameters p = new Parameters("scheduler " + name(), params, PARAMETERS);
        return new SplitFuse(p.intValue("min-chunk", Integer.parseInt(PARAMETERS.get(0).defaultValue()), 1, Integer.MAX_VALUE),
                p.intValue("budget", Integer.parseInt(PARAMETERS.get(1).defaultValue()), 0, Integer.MAX_VALUE));
    }
}
