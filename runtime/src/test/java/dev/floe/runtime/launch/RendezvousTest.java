package dev.floe.runtime.launch;

import dev.floe.api.FloeException;
import dev.floe.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The torchrun-style launch: variables, the TCP store on rank 0, the unique id exchanged, across threads and JVMs. */
class RendezvousTest {
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void theVariablesAreReadAndBadOnesNamed() {
        LaunchEnv env = LaunchEnv.from(Map.of("RANK", "1", "WORLD_SIZE", "2", "LOCAL_RANK", "1", "MASTER_ADDR", "10.0.0.1", "MASTER_PORT", "29501"));
        assertEquals(new LaunchEnv(1, 2, 1, "10.0.0.1", 29501), env);
        assertEquals(new LaunchEnv(0, 1, 0, "127.0.0.1", 29500), LaunchEnv.from(Map.of("RANK", "0", "WORLD_SIZE", "1")));
        var e = assertThrows(InvalidRequestException.class, () -> LaunchEnv.from(Map.of("RANK", "0")));
        assertTrue(e.getMessage().startsWith("WORLD_SIZE is not set"), e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> LaunchEnv.from(Map.of("RANK", "two", "WORLD_SIZE", "4")));
        assertEquals("RANK=two is not a number", e.getMessage());
        e = assertThrows(InvalidRequestException.class, () -> LaunchEnv.from(Map.of("RANK", "4", "WORLD_SIZE", "4")));
        assertEquals("RANK 4 is outside WORLD_SIZE 4", e.getMessage());
    }

    @Test
    void threeRanksOnThreadsShareRankZerosId() throws Exception {
        byte[] id = new byte[128];
        for (int i = 0; i < id.length; i++) id[i] = (byte) (i * 7);
        CompletableFuture<Integer> port = new CompletableFuture<>();
        var pool = java.util.concurrent.Executors.newCachedThreadPool();
        var rank0 = CompletableFuture.supplyAsync(() -> Rendezvous.join(new LaunchEnv(0, 3, 0, "127.0.0.1", 0), TIMEOUT, () -> id, port::complete), pool);
        rank0.whenComplete((j, e) -> {
            if (e != null) port.completeExceptionally(e);
        });
        int p = port.get(30, TimeUnit.SECONDS);
        List<CompletableFuture<Rendezvous.Joined>> others = new ArrayList<>();
        for (int r = 1; r < 3; r++) {
            int rank = r;
            others.add(CompletableFuture.supplyAsync(() -> Rendezvous.join(new LaunchEnv(rank, 3, rank, "127.0.0.1", p), TIMEOUT,
                    () -> {
                        throw new AssertionError("only rank 0 makes the id");
                    }, x -> {
                    }), pool));
        }
        assertArrayEquals(id, rank0.get(30, TimeUnit.SECONDS).uniqueId());
        for (var f : others) {
            Rendezvous.Joined j = f.get(30, TimeUnit.SECONDS);
            assertArrayEquals(id, j.uniqueId());
            assertEquals(3, j.hosts().size());
            assertTrue(j.hosts().get(2).endsWith("local rank 2"), j.hosts().toString());
        }
        pool.shutdown();
    }

    @Test
    void aRankWithoutAStoreFailsWithTheAddressAfterItsTimeout() throws Exception {
        int unused;
        try (var s = new java.net.ServerSocket(0)) {
            unused = s.getLocalPort();
        }
        var e = assertThrows(FloeException.class, () -> Rendezvous.join(new LaunchEnv(1, 2, 0, "127.0.0.1", unused),
                Duration.ofMillis(500), () -> new byte[0], x -> {
                }));
        assertTrue(e.getMessage().contains("rendezvous: no store at 127.0.0.1:" + unused + " (MASTER_ADDR, MASTER_PORT)"), e.getMessage());
    }

    @Test
    void twoJvmsOnOneMachineExchangeTheId() throws Exception {
        Process rank0 = start(0, 0);
        BufferedReader out0 = new BufferedReader(new InputStreamReader(rank0.getInputStream(), StandardCharsets.UTF_8));
        String listening = out0.readLine();
        assertTrue(listening != null && listening.startsWith("listening "), String.valueOf(listening));
        int port = Integer.parseInt(listening.substring("listening ".length()));
        Process rank1 = start(1, port);
        try {
            assertTrue(rank1.waitFor(60, TimeUnit.SECONDS) && rank0.waitFor(60, TimeUnit.SECONDS), "both ranks finish");
            String line0 = out0.readLine();
            String line1 = new String(rank1.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertEquals(0, rank0.exitValue(), line0);
            assertEquals(0, rank1.exitValue(), line1);
            assertTrue(line0.startsWith("rank 0 of 2: id "), line0);
            assertTrue(line1.startsWith("rank 1 of 2: id "), line1);
            String id0 = line0.substring(16, 16 + 256), id1 = line1.substring(16, 16 + 256);
            assertEquals(id0, id1, "the same 128 id bytes on both ranks");
            assertTrue(id0.matches("[0-9a-f]{256}"), id0);
        } finally {
            rank0.destroyForcibly();
            rank1.destroyForcibly();
        }
    }

    private static Process start(int rank, int port) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        String modulePath = System.getProperty("jdk.module.path");
        List<String> cmd = new ArrayList<>(List.of(java));
        if (modulePath != null && !modulePath.isBlank()) {
            cmd.addAll(List.of("--module-path", modulePath, "-m", "dev.floe.runtime/dev.floe.runtime.launch.Rendezvous"));
        } else {
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.floe.runtime.launch.Rendezvous"));
        }
        cmd.add("30");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().putAll(Map.of("RANK", Integer.toString(rank), "WORLD_SIZE", "2", "LOCAL_RANK", Integer.toString(rank),
                "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", Integer.toString(port)));
        return pb.start();
    }
}
