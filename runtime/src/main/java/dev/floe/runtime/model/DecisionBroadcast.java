package dev.floe.runtime.model;

import dev.floe.api.RoutingDecision;
import dev.floe.spi.Buffer;
import dev.floe.spi.Communicator;

/**
 * Rank 0's routing decision of one MoE layer, handed to every rank of a group: routers may keep state (a seeded
 * random router draws from one stream), so only rank 0 routes and every rank runs what it chose, which also keeps
 * the ranks' choices the same whatever their hidden states' last bits. Two broadcasts: each row's number of
 * choices, then the expert indices (exact float integers) and their weights. One per graph; a pass at a time.
 */
final class DecisionBroadcast implements AutoCloseable {
    private final DeviceOps ops;
    private final Communicator comm;
    private final GrowingBuffer buffer;

    DecisionBroadcast(DeviceOps ops, Communicator comm) {
        this.ops = ops;
        this.comm = comm;
        this.buffer = new GrowingBuffer(ops.backend());
    }

    /** {@code d} on rank 0 (null elsewhere), for {@code rows} rows; returns rank 0's decision on every rank. */
    RoutingDecision share(RoutingDecision d, int rows) {
        boolean root = comm.rank() == 0;
        Buffer b = buffer.atLeast(rows);
        float[] counts = new float[rows];
        if (root) {
            for (int r = 0; r < rows; r++) counts[r] = d.experts()[r].length;
            ops.backend().upload(counts, 0, b, 0, rows);
        }
        ops.broadcast(comm, b, rows);
        if (!root) counts = ops.download(b, rows);
        int total = 0;
        for (float n : counts) total += (int) n;
        if (total == 0) return root ? d : new RoutingDecision(new int[rows][0], new float[rows][0]);
        b = buffer.atLeast(2L * total);
        float[] body = new float[2 * total];
        if (root) {
            int at = 0;
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < d.experts()[r].length; j++) {
                    body[at] = d.experts()[r][j];
                    body[total + at++] = d.weights()[r][j];
                }
            }
            ops.backend().upload(body, 0, b, 0, body.length);
        }
        ops.broadcast(comm, b, body.length);
        if (root) return d;
        body = ops.download(b, body.length);
        int[][] experts = new int[rows][];
        float[][] weights = new float[rows][];
        int at = 0;
        for (int r = 0; r < rows; r++) {
            int n = (int) counts[r];
            experts[r] = new int[n];
            weights[r] = new float[n];
            for (int j = 0; j < n; j++) {
                experts[r][j] = (int) body[at];
                weights[r][j] = body[total + at++];
            }
        }
        return new RoutingDecision(experts, weights);
    }

    @Override
    public void close() {
        buffer.close();
    }
}
