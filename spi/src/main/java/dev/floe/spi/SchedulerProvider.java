package dev.floe.spi;

import dev.floe.api.Scheduler;

import java.util.List;
import java.util.Map;

/** Makes {@link Scheduler}s of one policy; found by {@link #name()} through {@link java.util.ServiceLoader}. */
public interface SchedulerProvider {
    String name();

    String description();

    List<ParameterSpec> parameters();

    Scheduler create(Map<String, String> params);
}
