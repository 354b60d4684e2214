package dev.floe.backend.cpu;

import dev.floe.backend.cpu.InProcessGroup.Post;
import dev.floe.spi.BackendException;
import dev.floe.spi.Buffer;
import dev.floe.spi.Communicator;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * One rank's communicator in an {@link InProcessGroup}. Sums run over ranks in rank order, so every rank gets bitwise
 * the same result. A bad argument on one rank aborts the group (the others would otherwise wait for it) and is
 * thrown there; a disagreement between ranks (another operation, another size) is thrown on every rank.
 */
final class ThreadCommunicator implements Communicator {
    private final InProcessGroup group;
    private final int rank;
    private final CpuVectorBackend backend;

    ThreadCommunicator(InProcessGroup group, int rank, CpuVectorBackend backend) {
        this.group = group;
        this.rank = rank;
        this.backend = backend;
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return group.size();
    }

    @Override
    public void allReduceSum(Buffer buffer, long n) {
        String op = "allReduceSum";
        float[] b = local(() -> {
            float[] a = array(op, buffer, "buffer");
            fits(op, "n", n, a.length);
            return a;
        });
        exchange(new Post(op, n, -1, b, null, null, null));
        float[] sum = new float[(int) n];
        for (Post p : group.posts) for (int i = 0; i < n; i++) sum[i] += p.send()[i];
        finish(op);
        System.arraycopy(sum, 0, b, 0, (int) n);
    }

    @Override
    public void allGather(Buffer send, long n, Buffer recv) {
        String op = "allGather";
        float[][] a = local(() -> {
            float[] s = array(op, send, "send"), r = array(op, recv, "recv");
            fits(op, "n", n, s.length);
            fits(op, "size * n", n * size(), r.length);
            return new float[][]{s, r};
        });
        exchange(new Post(op, n, -1, a[0], null, null, null));
        float[] out = new float[(int) (n * size())];
        for (int j = 0; j < size(); j++) System.arraycopy(group.posts[j].send(), 0, out, (int) (j * n), (int) n);
        finish(op);
        System.arraycopy(out, 0, a[1], 0, out.length);
    }

    @Override
    public void reduceScatterSum(Buffer send, long n, Buffer recv) {
        String op = "reduceScatterSum";
        float[][] a = local(() -> {
            float[] s = array(op, send, "send"), r = array(op, recv, "recv");
            fits(op, "size * n", n * size(), s.length);
            fits(op, "n", n, r.length);
            return new float[][]{s, r};
        });
        exchange(new Post(op, n, -1, a[0], null, null, null));
        float[] sum = new float[(int) n];
        int base = (int) (rank * n);
        for (Post p : group.posts) for (int i = 0; i < n; i++) sum[i] += p.send()[base + i];
        finish(op);
        System.arraycopy(sum, 0, a[1], 0, (int) n);
    }

    @Override
    public void broadcast(Buffer buffer, long n, int root) {
        String op = "broadcast";
        float[] b = local(() -> {
            if (root < 0 || root >= size()) throw new IllegalArgumentException(op + ": root " + root + " is outside the group of " + size());
            float[] a = array(op, buffer, "buffer");
            fits(op, "n", n, a.length);
            return a;
        });
        exchange(new Post(op, n, root, b, null, null, null));
        float[] copy = Arrays.copyOf(group.posts[root].send(), (int) n);
        finish(op);
        if (rank != root) System.arraycopy(copy, 0, b, 0, (int) n);
    }

    @Override
    public void barrier() {
        exchange(new Post("barrier", 0, -1, null, null, null, null));
        finish("barrier");
    }

    @Override
    public void allToAll(Buffer send, long[] sendOffsets, long[] sendCounts, Buffer recv, long[] recvOffsets, long[] recvCounts) {
        String op = "allToAll";
        float[][] a = local(() -> {
            float[] s = array(op, send, "send"), r = array(op, recv, "recv");
            slices(op, "send", s.length, sendOffsets, sendCounts);
            slices(op, "recv", r.length, recvOffsets, recvCounts);
            return new float[][]{s, r};
        });
        exchange(new Post(op, 0, -1, a[0], sendOffsets.clone(), sendCounts.clone(), recvCounts.clone()));
        float[][] from = new float[size()][];
        for (int j = 0; j < size(); j++) {
            Post p = group.posts[j];
            int at = (int) p.sendOffsets()[rank];
            from[j] = Arrays.copyOfRange(p.send(), at, at + (int) p.sendCounts()[rank]);
        }
        finish(op);
        for (int j = 0; j < size(); j++) System.arraycopy(from[j], 0, a[1], (int) recvOffsets[j], from[j].length);
    }

    /** Posts this rank's part, waits for every rank, and checks that they all called the same thing. */
    private void exchange(Post mine) {
        group.enter(rank);
        group.posts[rank] = mine;
        group.await(rank, mine.op());
        String disagreement = disagreement();
        if (disagreement != null) {
            BackendException e = new BackendException(disagreement);
            group.abort(e);
            throw e;
        }
    }

    /** Waits until every rank has read the posts, so that results can overwrite the buffers they came from. */
    private void finish(String op) {
        group.await(rank, op);
    }

    /** The same message on every rank, or null when all ranks agree. */
    private String disagreement() {
        Post[] posts = group.posts;
        Post first = posts[0];
        for (Post p : posts) {
            if (!p.op().equals(first.op()) || p.n() != first.n() || p.root() != first.root()) {
                StringBuilder s = new StringBuilder("ranks disagree on the collective:");
                for (int j = 0; j < posts.length; j++) {
                    Post q = posts[j];
                    s.append(j == 0 ? " " : "; ").append("rank ").append(j).append(' ').append(q.op()).append(" n=").append(q.n());
                    if (q.root() >= 0) s.append(" root=").append(q.root());
                }
                return s.toString();
            }
        }
        if (first.op().equals("allToAll")) {
            for (int i = 0; i < posts.length; i++) {
                for (int j = 0; j < posts.length; j++) {
                    if (posts[i].sendCounts()[j] != posts[j].recvCounts()[i]) {
                        return "allToAll: rank " + i + " sends " + posts[i].sendCounts()[j] + " floats to rank " + j
                                + ", which expects " + posts[j].recvCounts()[i] + " from it";
                    }
                }
            }
        }
        return null;
    }

    /** Runs this rank's argument checks; a failure aborts the group, since the other ranks would wait for this one. */
    private <T> T local(Supplier<T> checks) {
        group.checkAlive(rank, "a collective");
        try {
            return checks.get();
        } catch (RuntimeException e) {
            group.abort(new BackendException("rank " + rank + " failed: " + e.getMessage(), e));
            throw e;
        }
    }

    private float[] array(String op, Buffer b, String name) {
        if (!(b instanceof HeapBuffer h)) throw new IllegalArgumentException(op + ": " + name + " is not a cpu-vector buffer");
        if (h.owner() != backend) {
            throw new IllegalArgumentException(op + ": " + name + " belongs to another rank's backend, not rank " + rank + "'s");
        }
        return h.array(name);
    }

    private static void fits(String op, String what, long n, int capacity) {
        if (n < 0 || n > capacity) throw new IllegalArgumentException(op + ": " + what + " = " + n + " is outside the buffer of " + capacity + " floats");
    }

    private void slices(String op, String side, int capacity, long[] offsets, long[] counts) {
        if (offsets == null || counts == null || offsets.length != size() || counts.length != size()) {
            throw new IllegalArgumentException(op + ": " + side + " offsets and counts need one entry per rank (" + size() + ")");
        }
        for (int j = 0; j < size(); j++) {
            if (offsets[j] < 0 || counts[j] < 0 || offsets[j] + counts[j] > capacity) {
                throw new IllegalArgumentException(op + ": " + side + " slice for rank " + j + " [" + offsets[j] + ", "
                        + (offsets[j] + counts[j]) + ") is outside the buffer of " + capacity + " floats");
            }
        }
    }

    /** Closing one rank's communicator ends the group for all: the others must not wait for it. */
    @Override
    public void close() {
        group.abort(new BackendException("rank " + rank + " closed its communicator"));
    }
}
