package dev.floe.runtime.launch;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/**
 * The start of a multi-process launch: rank 0 serves a {@link TcpStore} and publishes the group's unique id (NCCL's
 * {@code ncclUniqueId}, 128 bytes, from {@code ncclGetUniqueId}), every rank reads it and reports its host, and all
 * leave together once every rank has the id. Rank 0 keeps the store until every rank has said it is done with it.
 */
public final class Rendezvous {
    static final String ID = "unique-id";

    private Rendezvous() {
    }

    /** What every rank knows after the rendezvous. */
    public record Joined(LaunchEnv env, byte[] uniqueId, List<String> hosts) {
    }

    /**
     * Joins the launch. Rank 0 calls {@code uniqueId} once and shares the bytes; the other ranks never call it.
     * {@code onListening} learns the port rank 0 listens on (useful with {@code MASTER_PORT=0}).
     */
    public static Joined join(LaunchEnv env, Duration timeout, Supplier<byte[]> uniqueId, java.util.function.IntConsumer onListening) {
        TcpStore.Server server = env.rank() == 0 ? new TcpStore.Server(env.masterAddr(), env.masterPort()) : null;
        try {
            int port = server != null ? server.port() : env.masterPort();
            if (server != null) onListening.accept(port);
            try (TcpStore.Client store = new TcpStore.Client(env.masterAddr(), port, timeout)) {
                if (env.rank() == 0) store.set(ID, uniqueId.get());
                store.set("host/" + env.rank(), (host() + " local rank " + env.localRank()).getBytes(StandardCharsets.UTF_8));
                byte[] id = store.get(ID);
                List<String> hosts = new ArrayList<>();
                for (int r = 0; r < env.worldSize(); r++) hosts.add(new String(store.get("host/" + r), StandardCharsets.UTF_8));
                store.set("done/" + env.rank(), new byte[0]);
                if (env.rank() == 0) for (int r = 0; r < env.worldSize(); r++) store.get("done/" + r);
                return new Joined(env, id, hosts);
            }
        } finally {
            if (server != null) server.close();
        }
    }

    private static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }

    /**
     * One rank of a launch smoke test: joins with the torchrun variables of the environment, rank 0 publishing random
     * id bytes, and prints {@code rank R of N: id HEX; hosts [...]}. With {@code MASTER_PORT=0} rank 0 first prints
     * {@code listening PORT}.
     */
    public static void main(String[] args) {
        LaunchEnv env = LaunchEnv.from(System.getenv());
        Joined j = join(env, Duration.ofSeconds(args.length > 0 ? Long.parseLong(args[0]) : 60), () -> {
            byte[] id = new byte[128];
            new java.security.SecureRandom().nextBytes(id);
            return id;
        }, port -> {
            System.out.println("listening " + port);
            System.out.flush();
        });
        System.out.println("rank " + env.rank() + " of " + env.worldSize() + ": id " + HexFormat.of().formatHex(j.uniqueId())
                + "; hosts " + j.hosts());
    }
}
