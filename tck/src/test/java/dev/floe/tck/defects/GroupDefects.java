package dev.floe.tck.defects;

import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Communicator;
import dev.floe.spi.DeviceGroup;

import java.util.function.BiFunction;

/** Device groups with one planted defect in their communicators, each of which a group check must catch. */
final class GroupDefects {
    private GroupDefects() {
    }

    /** A group that hands out {@code wrap(rank's communicator, rank's backend)} instead of the rank's communicator. */
    static DeviceGroup wrapping(DeviceGroup g, BiFunction<Communicator, Backend, Communicator> wrap) {
        return new DeviceGroup() {
            @Override public int size() { return g.size(); }
            @Override public Backend backend(int rank) { return g.backend(rank); }
            @Override public Communicator communicator(int rank) { return wrap.apply(g.communicator(rank), g.backend(rank)); }
            @Override public void abort(Throwable cause) { g.abort(cause); }
            @Override public void close() { g.close(); }
        };
    }

    /** Delegates every collective; a defect overrides one. */
    static class Forwarding implements Communicator {
        final Communicator c;
        final Backend b;

        Forwarding(Communicator c, Backend b) {
            this.c = c;
            this.b = b;
        }

        @Override public int rank() { return c.rank(); }
        @Override public int size() { return c.size(); }
        @Override public void allReduceSum(Buffer buffer, long n) { c.allReduceSum(buffer, n); }
        @Override public void allGather(Buffer send, long n, Buffer recv) { c.allGather(send, n, recv); }
        @Override public void allToAll(Buffer send, long[] so, long[] sc, Buffer recv, long[] ro, long[] rc) { c.allToAll(send, so, sc, recv, ro, rc); }
        @Override public void reduceScatterSum(Buffer send, long n, Buffer recv) { c.reduceScatterSum(send, n, recv); }
        @Override public void broadcast(Buffer buffer, long n, int root) { c.broadcast(buffer, n, root); }
        @Override public void barrier() { c.barrier(); }
        @Override public void close() { c.close(); }

        /** Rotates the first {@code n} floats of {@code buf} right by {@code by}: data landing at the wrong offset. */
        void rotate(Buffer buf, int n, int by) {
            float[] x = new float[n], y = new float[n];
            b.download(buf, 0, x, 0, n);
            for (int i = 0; i < n; i++) y[(i + by) % n] = x[i];
            b.upload(y, 0, buf, 0, n);
        }
    }

    /** The all-reduce returns at once, leaving each rank its own partial sum: a missing all-reduce. */
    static final class MissingAllReduce extends Forwarding {
        MissingAllReduce(Communicator c, Backend b) {
            super(c, b);
        }

        @Override
        public void allReduceSum(Buffer buffer, long n) {
            c.barrier(); // still collective, so nothing hangs: only the sum is missing
        }
    }

    /** The all-gather puts rank j's share where rank j + 1's belongs: a wrong shard offset. */
    static final class GatherAtWrongOffset extends Forwarding {
        GatherAtWrongOffset(Communicator c, Backend b) {
            super(c, b);
        }

        @Override
        public void allGather(Buffer send, long n, Buffer recv) {
            c.allGather(send, n, recv);
            rotate(recv, (int) (n * size()), (int) n);
        }
    }

    /** The all-to-all writes what it receives one float past its offset. */
    static final class AllToAllAtWrongOffset extends Forwarding {
        AllToAllAtWrongOffset(Communicator c, Backend b) {
            super(c, b);
        }

        @Override
        public void allToAll(Buffer send, long[] so, long[] sc, Buffer recv, long[] ro, long[] rc) {
            c.allToAll(send, so, sc, recv, ro, rc);
            long n = 0;
            for (long x : rc) n += x;
            rotate(recv, (int) n, 1);
        }
    }
}
