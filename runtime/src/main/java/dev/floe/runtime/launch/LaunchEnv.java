package dev.floe.runtime.launch;

import dev.floe.api.InvalidRequestException;

import java.util.Map;

/**
 * Where this process stands in a multi-process launch, read the way torchrun sets it: {@code RANK},
 * {@code WORLD_SIZE}, {@code LOCAL_RANK} (the GPU of this node the process drives), {@code MASTER_ADDR} and
 * {@code MASTER_PORT} (where rank 0 serves the rendezvous store).
 */
public record LaunchEnv(int rank, int worldSize, int localRank, String masterAddr, int masterPort) {
    public LaunchEnv {
        if (worldSize < 1) throw new InvalidRequestException("WORLD_SIZE must be positive, got " + worldSize);
        if (rank < 0 || rank >= worldSize) throw new InvalidRequestException("RANK " + rank + " is outside WORLD_SIZE " + worldSize);
        if (localRank < 0) throw new InvalidRequestException("LOCAL_RANK must be >= 0, got " + localRank);
        if (masterAddr == null || masterAddr.isBlank()) throw new InvalidRequestException("MASTER_ADDR is empty");
        if (masterPort < 0 || masterPort > 65535) throw new InvalidRequestException("MASTER_PORT " + masterPort + " is not a port");
    }

    /** Reads the variables; a missing or malformed one is named with its value. */
    public static LaunchEnv from(Map<String, String> env) {
        int worldSize = number(env, "WORLD_SIZE", null);
        return new LaunchEnv(number(env, "RANK", null), worldSize, number(env, "LOCAL_RANK", "0"),
                env.getOrDefault("MASTER_ADDR", "127.0.0.1"), number(env, "MASTER_PORT", "29500"));
    }

    private static int number(Map<String, String> env, String name, String fallback) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            if (fallback == null) throw new InvalidRequestException(name + " is not set (a multi-process launch sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)");
            v = fallback;
        }
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new InvalidRequestException(name + "=" + v + " is not a number");
        }
    }
}
