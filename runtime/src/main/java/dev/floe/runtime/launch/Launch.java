package dev.floe.runtime.launch;

import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelOptions;
import dev.floe.runtime.Backends;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.model.FloeModel;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.GroupMember;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Loads a model as one process of a multi-process launch (one per device, torchrun's variables): rank 0 makes the
 * group's unique id through the backend ({@link BackendProvider#groupId}) and shares it at the {@link Rendezvous},
 * every rank joins the group on its device ({@link BackendProvider#joinGroup}, device {@code LOCAL_RANK} unless
 * {@code --devices} names one) and loads its shard ({@link FloeEngine#loadRank}). Rank 0 gets the model; the other
 * ranks follow its passes and get null once it closes.
 */
public final class Launch {
    /** How long a rank waits for the rendezvous. */
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    private Launch() {
    }

    /** Whether the environment describes a launch of more than one process. */
    public static boolean launched(Map<String, String> env) {
        String world = env.get("WORLD_SIZE");
        return world != null && !world.isBlank() && !world.strip().equals("1");
    }

    /**
     * This process's rank of the model.
     *
     * @return the model on rank 0; null on the other ranks, once rank 0 has closed its model
     * @throws InvalidRequestException when WORLD_SIZE is not the layout's number of ranks
     * @throws UnsupportedOperationException naming the backend when it cannot join a group of processes
     */
    public static FloeModel load(Path dir, ModelOptions options, IntConsumer progress, LaunchEnv env) {
        int tp = number(options, ModelOptions.TENSOR_PARALLEL), ep = number(options, ModelOptions.EXPERT_PARALLEL);
        if (env.worldSize() != Math.max(tp, ep)) {
            throw new InvalidRequestException("WORLD_SIZE " + env.worldSize() + " but --tp " + tp + " --ep " + ep + " need "
                    + Math.max(tp, ep) + " processes");
        }
        List<Integer> devices = options.devices().isEmpty() ? List.of(env.localRank()) : options.devices();
        BackendOptions bo = new BackendOptions(options.threads(), options.properties(), devices);
        BackendProvider provider = Backends.provider(options.backend(), bo);
        byte[] own = env.rank() == 0 ? provider.groupId(bo) : null; // a backend that cannot join fails here, before the store
        Rendezvous.Joined joined = Rendezvous.join(env, TIMEOUT, () -> own, port -> { });
        GroupMember member = provider.joinGroup(env.rank(), env.worldSize(), joined.uniqueId(), bo);
        try {
            FloeModel model = FloeEngine.loadRank(dir, options, progress, member.backend(), member.communicator());
            if (model == null) member.communicator().close();
            return model; // rank 0's communicator lives as long as the process
        } catch (RuntimeException e) {
            member.close();
            throw e;
        }
    }

    private static int number(ModelOptions o, String key) {
        String v = o.properties().get(key);
        return v == null ? 1 : Integer.parseInt(v.strip());
    }
}
