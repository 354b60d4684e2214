package dev.floe.backend.cuda;

import dev.floe.spi.BackendException;
import dev.floe.spi.CompiledPlan;
import dev.floe.spi.Plan;
import dev.floe.spi.Step;
import dev.floe.spi.StepMetadata;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@link Plan} replayed as captured CUDA graphs. A graph holds device addresses and launch geometry, so one is
 * captured per {@link Key}: the row count, and the block-table width rounded up to a power of two (the attention's
 * table stride and split count are captured; rounding keeps a growing context to a handful of captures). At most
 * {@value #MAX_GRAPHS} graphs are kept, the least recently used one freed first.
 *
 * <p>A graph's first use sizes it (the plan's host side runs once with launches suppressed, its scratch and staged
 * expert tables taken into a {@link GraphMemory} the graph owns) and captures it ({@code cuStreamBeginCapture}, the
 * plan's launches, {@code cuStreamEndCapture}, {@code cuGraphInstantiate}). Every run then: the plan's host side
 * again without launches (argument checks against this pass's metadata, experts placed, a pointer table copied
 * again only if an expert moved), the pass's metadata staged into the graph's own step block, one
 * {@code cuGraphLaunch}. All copies are in stream order before the launch.
 *
 * <p>Runs fall back to the operations one by one ({@link Plan#interpret}) for a row count above the matvec
 * kernels' (a prefill: its GEMMs may go to cuBLASLt, and each prompt length would be a capture of its own), when
 * a capture failed (for good, with the reason logged and kept in {@link #fallback}), and for a pass whose experts
 * do not all fit the expert bank at once (an expert a table points at was evicted while placing a later layer's).
 */
final class CudaGraphPlan implements CompiledPlan {
    static final int MAX_GRAPHS = 16;
    private static final System.Logger LOG = System.getLogger(CudaGraphPlan.class.getName());

    private final CudaBackend backend;
    private final Plan plan;
    private final LinkedHashMap<Key, Graph> graphs = new LinkedHashMap<>(16, 0.75f, true);
    private String fallback;
    private long captures, launches, eager;
    private boolean closed;

    /** What a captured graph is good for. */
    record Key(int rows, int tableWidth, int headDim) {
        static Key of(StepMetadata m) {
            int blocks = AttentionPlan.maxBlocks(m.blockTables()), width = 1;
            while (width < blocks) width *= 2;
            return new Key(m.rows(), width, m.headDim());
        }
    }

    /** One captured graph, the memory it points at and its step block. */
    private final class Graph implements AutoCloseable {
        final Key key;
        final GraphMemory memory;
        final long stepBlock;
        long graph, exec;

        Graph(Key key) {
            this.key = key;
            this.memory = new GraphMemory(backend.pool(), backend.guarded());
            this.stepBlock = backend.pool().allocate(4L * CudaStep.size(key.rows(), key.headDim(), key.tableWidth(), key.rows()));
        }

        CudaStep step(StepMetadata m) {
            return CudaStep.fixed(backend, m, stepBlock, key.tableWidth());
        }

        /** The plan's host side against this graph's memory, launches suppressed (or captured). */
        void pass(GraphMemory.Phase phase, StepMetadata m) {
            CudaStep s = step(m);
            backend.inGraph(memory, phase, () -> plan.interpret(backend, s));
        }

        void capture(StepMetadata m) {
            pass(GraphMemory.Phase.SIZE, m);
            CaptureGuard device = backend.guarded();
            device.beginCapture();
            try {
                pass(GraphMemory.Phase.CAPTURE, m);
            } catch (RuntimeException e) {
                try {
                    graph = device.endCapture();
                } catch (RuntimeException ended) {
                    e.addSuppressed(ended);
                }
                throw e;
            }
            graph = device.endCapture();
            exec = device.instantiate(graph);
        }

        void launch(StepMetadata m) {
            backend.guarded().stage(CudaStep.pack(m, key.tableWidth(), key.rows()), null, stepBlock);
            backend.launchGraph(exec);
        }

        @Override
        public void close() {
            if (backend.isClosed()) return;
            if (graph != 0 || exec != 0) backend.guarded().destroyGraph(graph, exec);
            graph = exec = 0;
            memory.close();
            backend.release(stepBlock);
        }
    }

    CudaGraphPlan(CudaBackend backend, Plan plan) {
        this.backend = backend;
        this.plan = plan;
    }

    @Override
    public void run(Step step) {
        if (closed) throw new IllegalStateException("compiled plan is closed");
        StepMetadata m = backend.step("step", step).metadata();
        if (fallback != null || m.rows() == 0 || m.rows() > Launch.MATVEC_MAX_ROWS) {
            interpret(step);
            return;
        }
        Key key = Key.of(m);
        Graph g = graphs.get(key);
        if (g == null) {
            g = capture(key, m);
            if (g == null) {
                interpret(step);
                return;
            }
        } else {
            try {
                g.pass(GraphMemory.Phase.REFRESH, m);
            } catch (IllegalStateException e) {
                drop(key, "refreshing the CUDA graph of " + key.rows() + " rows failed", e);
                interpret(step);
                return;
            }
            CudaWeight freed = g.memory.freedSince();
            if (freed != null) {
                LOG.log(System.Logger.Level.DEBUG, () -> "replaying a " + m.rows() + "-row pass eagerly: " + freed.name()
                        + " was evicted while placing a later layer's experts (the bank holds fewer experts than the plan reads)");
                interpret(step);
                return;
            }
        }
        g.launch(m);
        launches++;
    }

    private void interpret(Step step) {
        eager++;
        plan.interpret(backend, step);
    }

    /** Sizes and captures a graph; null (and {@link #fallback} set) when capturing failed. */
    private Graph capture(Key key, StepMetadata m) {
        Graph g = new Graph(key);
        try {
            g.capture(m);
        } catch (IllegalArgumentException e) {
            // the pass's arguments are at fault, as they would be eagerly: the caller hears it
            g.close();
            throw e;
        } catch (IllegalStateException | BackendException | UnsupportedOperationException e) {
            g.close();
            fail("capturing a CUDA graph of " + key.rows() + " rows failed", e);
            return null;
        }
        if (graphs.size() >= MAX_GRAPHS) {
            Iterator<Map.Entry<Key, Graph>> oldest = graphs.entrySet().iterator();
            oldest.next().getValue().close();
            oldest.remove();
        }
        graphs.put(key, g);
        captures++;
        return g;
    }

    private void drop(Key key, String what, RuntimeException e) {
        graphs.remove(key).close();
        fail(what, e);
    }

    private void fail(String what, RuntimeException e) {
        fallback = what + ", so this plan runs its operations one by one from now on: " + e.getMessage();
        LOG.log(System.Logger.Level.WARNING, fallback);
        LOG.log(System.Logger.Level.DEBUG, "the failure", e);
    }

    /** Why runs go operation by operation, or null while graphs are in use. */
    String fallback() {
        return fallback;
    }

    long captures() {
        return captures;
    }

    long launches() {
        return launches;
    }

    /** Runs that went operation by operation. */
    long eager() {
        return eager;
    }

    int graphs() {
        return graphs.size();
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            for (Graph g : graphs.values()) g.close();
            graphs.clear();
        } finally {
            backend.closed(this);
        }
    }
}
