package dev.floe.runtime.serving;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.Scheduler;
import dev.floe.spi.SchedulerProvider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/** Finds scheduling policies by name ({@code NAME[:key=value,...]}) through {@link ServiceLoader}. */
public final class Schedulers {
    /** The policy used when none is named. */
    public static final String DEFAULT = "splitfuse";

    private Schedulers() {
    }

    /** Every scheduler provider on the module path. */
    public static List<SchedulerProvider> providers() {
        return ServiceLoader.load(SchedulerProvider.class, Schedulers.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::get).toList();
    }

    /** Creates the scheduler a spec names; errors name the spec and the known policies. */
    public static Scheduler create(String spec) {
        String s = spec == null || spec.isBlank() ? DEFAULT : spec.trim();
        int colon = s.indexOf(':');
        String name = colon < 0 ? s : s.substring(0, colon).trim();
        Map<String, String> params = new LinkedHashMap<>();
        if (colon >= 0 && colon + 1 < s.length()) {
            for (String kv : s.substring(colon + 1).split(",")) {
                int eq = kv.indexOf('=');
                if (eq <= 0) throw new InvalidRequestException("scheduler spec '" + spec + "': '" + kv + "' is not key=value");
                params.put(kv.substring(0, eq).trim(), kv.substring(eq + 1).trim());
            }
        }
        List<SchedulerProvider> all = providers();
        return all.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() -> new InvalidRequestException(
                "unknown scheduler '" + name + "' (known: " + all.stream().map(SchedulerProvider::name).sorted().toList() + ")"))
                .create(params);
    }
}
