package dev.floe.runtime.model;

import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.Communicator;

import java.util.Arrays;

/**
 * How rank 0 tells the other ranks of a group of processes what to run: before each forward pass it broadcasts the
 * pass's {@link ForwardBatch} through the group's communicator (a two-float header, then the body), and the ranks
 * that follow run the same pass on their shard. A header of kind {@link #STOP} ends them. Integers travel as exact
 * float values (every token id, position, block id and row count is far below 2^24, checked), so the relay works
 * on any communicator's {@code broadcast} of floats, NCCL's included. One relay per rank; not thread-safe.
 */
final class PassRelay implements AutoCloseable {
    static final int STOP = 0, PASS = 1;
    /** Largest integer a float holds exactly. */
    private static final int EXACT = 1 << 24;

    private final Backend backend;
    private final Communicator comm;
    private final Buffer header;
    private final GrowingBuffer body;

    PassRelay(Backend backend, Communicator comm) {
        this.backend = backend;
        this.comm = comm;
        this.header = backend.allocate(2);
        this.body = new GrowingBuffer(backend);
    }

    /** Rank 0: sends a pass to the followers. */
    void lead(ForwardBatch batch) {
        float[] wire = encode(batch);
        send(PASS, wire);
    }

    /** Rank 0: ends the followers' loops. */
    void stop() {
        send(STOP, new float[0]);
    }

    private void send(int kind, float[] wire) {
        backend.upload(new float[]{kind, wire.length}, 0, header, 0, 2);
        comm.broadcast(header, 2, 0);
        if (wire.length == 0) return;
        Buffer b = body.atLeast(wire.length);
        backend.upload(wire, 0, b, 0, wire.length);
        comm.broadcast(b, wire.length, 0);
    }

    /** A follower: the next pass from rank 0, or null when rank 0 stopped. */
    ForwardBatch next() {
        comm.broadcast(header, 2, 0);
        float[] h = new float[2];
        backend.download(header, 0, h, 0, 2);
        if (h[0] == STOP) return null;
        if (h[0] != PASS) throw new IllegalStateException("pass relay: unknown header kind " + h[0] + " from rank 0");
        int n = (int) h[1];
        Buffer b = body.atLeast(n);
        comm.broadcast(b, n, 0);
        float[] wire = new float[n];
        backend.download(b, 0, wire, 0, n);
        return decode(wire);
    }

    /** {@code [rows, tokens, positions, sequence, tables, (length, ids)..., logitRows count, rows..., keysBeforeRope]}. */
    static float[] encode(ForwardBatch b) {
        Ints out = new Ints();
        int n = b.rows();
        out.add(n);
        for (int[] part : new int[][]{b.tokens(), b.positions(), b.sequence()}) for (int i = 0; i < n; i++) out.add(part[i]);
        out.add(b.blockTables().length);
        for (int[] t : b.blockTables()) {
            out.add(t.length);
            for (int id : t) out.add(id);
        }
        out.add(b.logitRows().length);
        for (int r : b.logitRows()) out.add(r);
        out.add(b.keysBeforeRope() ? 1 : 0);
        return out.floats();
    }

    static ForwardBatch decode(float[] wire) {
        Reader in = new Reader(wire);
        int n = in.next();
        int[] tokens = in.next(n), positions = in.next(n), sequence = in.next(n);
        int[][] tables = new int[in.next()][];
        for (int s = 0; s < tables.length; s++) tables[s] = in.next(in.next());
        int[] logitRows = in.next(in.next());
        boolean keysBeforeRope = in.next() == 1;
        if (in.at != wire.length) throw new IllegalStateException("pass relay: " + (wire.length - in.at) + " floats left over");
        return new ForwardBatch(tokens, positions, sequence, tables, logitRows, keysBeforeRope);
    }

    /** Integers as exact floats. */
    private static final class Ints {
        private float[] a = new float[64];
        private int n;

        void add(int v) {
            if (v < -EXACT || v > EXACT) throw new IllegalArgumentException("pass relay: " + v + " is not exact as a float");
            if (n == a.length) a = Arrays.copyOf(a, 2 * n);
            a[n++] = v;
        }

        float[] floats() {
            return Arrays.copyOf(a, n);
        }
    }

    private static final class Reader {
        private final float[] w;
        private int at;

        Reader(float[] w) {
            this.w = w;
        }

        int next() {
            if (at >= w.length) throw new IllegalStateException("pass relay: message ends early at float " + at);
            return (int) w[at++];
        }

        int[] next(int count) {
            int[] out = new int[count];
            for (int i = 0; i < count; i++) out[i] = next();
            return out;
        }
    }

    @Override
    public void close() {
        header.close();
        body.close();
    }
}
