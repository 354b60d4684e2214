package dev.floe.backend.cpu;

import dev.floe.spi.Backend;
import dev.floe.spi.BackendException;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.Communicator;
import dev.floe.spi.DeviceGroup;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The in-process group's collectives against hand-computed results, and its failures: errors, never hangs. */
class InProcessGroupTest {
    static DeviceGroup group(int size, double timeoutSeconds) {
        return new CpuVectorProvider().openGroup(size, new BackendOptions(size, Map.of(InProcessGroup.TIMEOUT, Double.toString(timeoutSeconds))));
    }

    /** Runs {@code body} on one thread per rank; each entry is the rank's result or the exception it threw. */
    static List<Object> onRanks(DeviceGroup g, IntFunction<Object> body) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(g.size());
        try {
            List<Future<Object>> futures = new ArrayList<>();
            for (int r = 0; r < g.size(); r++) {
                int rank = r;
                futures.add(pool.submit(() -> {
                    try {
                        return body.apply(rank);
                    } catch (RuntimeException e) {
                        return e;
                    }
                }));
            }
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : futures) out.add(f.get(20, TimeUnit.SECONDS)); // a hang fails here
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static Buffer filled(Backend b, float... values) {
        Buffer buf = b.allocate(values.length);
        b.upload(values, 0, buf, 0, values.length);
        return buf;
    }

    static float[] read(Backend b, Buffer buf) {
        float[] out = new float[(int) buf.floats()];
        b.download(buf, 0, out, 0, out.length);
        return out;
    }

    @Test
    void ranksHaveTheirOwnBackends() {
        try (DeviceGroup g = group(2, 10)) {
            assertNotSame(g.backend(0), g.backend(1));
            assertEquals(1, g.communicator(1).rank());
            assertEquals(2, g.communicator(0).size());
            var e = assertThrows(IllegalArgumentException.class, () -> g.communicator(2));
            assertTrue(e.getMessage().contains("rank 2 is outside the group of 2"), e.getMessage());
        }
    }

    @Test
    void everyCollectiveGivesTheHandComputedResultOnEveryRank() throws Exception {
        try (DeviceGroup g = group(4, 10)) {
            List<Object> results = onRanks(g, rank -> {
                Backend b = g.backend(rank);
                Communicator c = g.communicator(rank);
                float base = 10 * rank;
                // all-reduce of 3 floats (the 4th stays): sum over ranks of 10r + i
                Buffer ar = filled(b, base, base + 1, base + 2, -1);
                c.allReduceSum(ar, 3);
                // all-gather of 2 floats a rank
                Buffer ag = b.allocate(8);
                c.allGather(filled(b, base, base + 1), 2, ag);
                // reduce-scatter: rank r's share is entries [2r, 2r+2) of everyone's 8
                Buffer rs = b.allocate(2);
                c.reduceScatterSum(filled(b, base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7), 2, rs);
                // broadcast from rank 2
                Buffer bc = filled(b, base, base);
                c.broadcast(bc, 2, 2);
                // all-to-all: rank r sends j+1 copies of 100r + j to rank j
                int size = c.size();
                long[] so = new long[size], sc = new long[size], ro = new long[size], rc = new long[size];
                List<Float> send = new ArrayList<>();
                for (int j = 0; j < size; j++) {
                    so[j] = send.size();
                    sc[j] = j + 1;
                    for (int k = 0; k <= j; k++) send.add(100f * rank + j);
                    ro[j] = (long) j * (rank + 1);
                    rc[j] = rank + 1;
                }
                float[] sendArr = new float[send.size()];
                for (int i = 0; i < sendArr.length; i++) sendArr[i] = send.get(i);
                Buffer at = b.allocate((long) size * (rank + 1));
                c.allToAll(filled(b, sendArr), so, sc, at, ro, rc);
                c.barrier();
                return new float[][]{read(b, ar), read(b, ag), read(b, rs), read(b, bc), read(b, at)};
            });
            for (int rank = 0; rank < 4; rank++) {
                float[][] r = assertInstanceOf(float[][].class, results.get(rank), String.valueOf(results.get(rank)));
                assertArrayEquals(new float[]{60, 64, 68, -1}, r[0], "all-reduce, rank " + rank);
                assertArrayEquals(new float[]{0, 1, 10, 11, 20, 21, 30, 31}, r[1], "all-gather");
                assertArrayEquals(new float[]{60 + 4 * 2 * rank, 64 + 4 * 2 * rank}, r[2], "reduce-scatter");
                assertArrayEquals(new float[]{20, 20}, r[3], "broadcast");
                float[] expected = new float[4 * (rank + 1)];
                for (int j = 0; j < 4; j++) for (int k = 0; k <= rank; k++) expected[j * (rank + 1) + k] = 100f * j + rank;
                assertArrayEquals(expected, r[4], "all-to-all");
            }
        }
    }

    @Test
    void manyBackToBackInPlaceCollectivesStayConsistent() throws Exception {
        try (DeviceGroup g = group(3, 10)) {
            List<Object> results = onRanks(g, rank -> {
                Backend b = g.backend(rank);
                Buffer x = filled(b, rank + 1);
                for (int i = 0; i < 200; i++) {
                    g.communicator(rank).allReduceSum(x, 1);       // 6, then 18, ... divided back below
                    float[] v = read(b, x);
                    b.upload(new float[]{v[0] / 3 + rank - 1}, 0, x, 0, 1); // back to rank + 1 when the sum was 6
                }
                return read(b, x)[0];
            });
            assertEquals(List.of(1f, 2f, 3f), results);
        }
    }

    @Test
    void mismatchedSizesFailEveryRankWithTheSameMessage() throws Exception {
        try (DeviceGroup g = group(2, 10)) {
            List<Object> results = onRanks(g, rank -> {
                Backend b = g.backend(rank);
                g.communicator(rank).allReduceSum(b.allocate(8), rank == 0 ? 8 : 4);
                return "returned";
            });
            for (Object o : results) {
                BackendException e = assertInstanceOf(BackendException.class, o);
                assertTrue(e.getMessage().contains("ranks disagree on the collective: rank 0 allReduceSum n=8; rank 1 allReduceSum n=4"), e.getMessage());
            }
        }
    }

    @Test
    void mismatchedOperationsAndAllToAllCountsAreCaught() throws Exception {
        try (DeviceGroup g = group(2, 10)) {
            List<Object> results = onRanks(g, rank -> {
                Backend b = g.backend(rank);
                if (rank == 0) g.communicator(0).barrier();
                else g.communicator(1).broadcast(b.allocate(1), 1, 0);
                return "returned";
            });
            for (Object o : results) assertTrue(((Exception) o).getMessage().contains("rank 0 barrier n=0; rank 1 broadcast n=1 root=0"), o.toString());
        }
        try (DeviceGroup g = group(2, 10)) {
            List<Object> results = onRanks(g, rank -> {
                Backend b = g.backend(rank);
                long[] recvCounts = rank == 1 ? new long[]{3, 1} : new long[]{1, 1};
                g.communicator(rank).allToAll(b.allocate(2), new long[]{0, 1}, new long[]{1, 1}, b.allocate(4), new long[]{0, 3}, recvCounts);
                return "returned";
            });
            for (Object o : results) {
                assertTrue(((Exception) o).getMessage().contains("allToAll: rank 0 sends 1 floats to rank 1, which expects 3 from it"), o.toString());
            }
        }
    }

    @Test
    void aRankThatFailsAbortsTheOthersWithItsReason() throws Exception {
        try (DeviceGroup g = group(3, 30)) {
            long start = System.nanoTime();
            List<Object> results = onRanks(g, rank -> {
                Backend b = g.backend(rank);
                if (rank == 2) {
                    IllegalStateException e = new IllegalStateException("expert weights of rank 2 are corrupt");
                    g.abort(e);
                    throw e;
                }
                g.communicator(rank).allReduceSum(b.allocate(4), 4);
                return "returned";
            });
            assertTrue(System.nanoTime() - start < 10_000_000_000L, "no waiting for the 30 s timeout");
            for (int r = 0; r < 2; r++) {
                BackendException e = assertInstanceOf(BackendException.class, results.get(r));
                assertTrue(e.getMessage().contains("the group was aborted: IllegalStateException: expert weights of rank 2 are corrupt"), e.getMessage());
            }
            // and later collectives fail at once
            var later = assertThrows(BackendException.class, () -> g.communicator(0).barrier());
            assertTrue(later.getMessage().contains("expert weights of rank 2 are corrupt"), later.getMessage());
        }
    }

    @Test
    void aBadArgumentOnOneRankIsThrownThereAndNamedToTheOthers() throws Exception {
        try (DeviceGroup g = group(2, 30)) {
            List<Object> results = onRanks(g, rank -> {
                Backend b = g.backend(rank);
                g.communicator(rank).allReduceSum(b.allocate(4), rank == 1 ? 5 : 4);
                return "returned";
            });
            IllegalArgumentException bad = assertInstanceOf(IllegalArgumentException.class, results.get(1));
            assertTrue(bad.getMessage().contains("allReduceSum: n = 5 is outside the buffer of 4 floats"), bad.getMessage());
            BackendException other = assertInstanceOf(BackendException.class, results.get(0));
            assertTrue(other.getMessage().contains("rank 1 failed: allReduceSum: n = 5"), other.getMessage());
        }
    }

    @Test
    void aRankThatNeverArrivesTimesTheOthersOut() throws Exception {
        try (DeviceGroup g = group(3, 0.5)) {
            List<Object> results = onRanks(g, rank -> {
                if (rank == 1) return "skipped the collective";
                g.communicator(rank).barrier();
                return "returned";
            });
            assertEquals("skipped the collective", results.get(1));
            for (int r : new int[]{0, 2}) {
                BackendException e = assertInstanceOf(BackendException.class, results.get(r));
                assertTrue(e.getMessage().matches(".*rank [02] waited 500 ms in barrier for rank\\(s\\) \\[1], which never arrived.*"), e.getMessage());
            }
        }
    }

    @Test
    void aBufferOfAnotherRankIsRefused() throws Exception {
        try (DeviceGroup g = group(2, 30)) {
            Buffer foreign = g.backend(1).allocate(2);
            List<Object> results = onRanks(g, rank -> {
                g.communicator(rank).allReduceSum(rank == 0 ? foreign : g.backend(1).allocate(2), 2);
                return "returned";
            });
            assertTrue(((Exception) results.get(0)).getMessage().contains("buffer belongs to another rank's backend, not rank 0's"),
                    results.get(0).toString());
        }
    }
}
