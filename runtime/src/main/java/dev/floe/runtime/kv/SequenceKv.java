package dev.floe.runtime.kv;

import java.util.Arrays;

/** One sequence's block table: its logical KV blocks in order, grown on demand from a {@link KvBlockManager}. */
public final class SequenceKv implements AutoCloseable {
    private final KvBlockManager pool;
    private int[] table = new int[4];
    private int blocks;
    private boolean closed;

    public SequenceKv(KvBlockManager pool) {
        this.pool = pool;
    }

    /** Makes room for {@code tokens} tokens in total, allocating blocks as needed (all or nothing). */
    public void ensureCapacity(int tokens) {
        if (closed) throw new IllegalStateException("sequence KV is closed");
        int needed = pool.blocksFor(tokens);
        int before = blocks;
        try {
            while (blocks < needed) {
                if (blocks == table.length) table = Arrays.copyOf(table, table.length * 2);
                table[blocks] = pool.allocate();
                blocks++;
            }
        } catch (RuntimeException e) {
            pool.free(Arrays.copyOfRange(table, before, blocks), blocks - before);
            blocks = before;
            throw e;
        }
    }

    /** The block table (a copy). */
    public int[] table() {
        return Arrays.copyOf(table, blocks);
    }

    public int blocks() {
        return blocks;
    }

    /** The pool block at logical index {@code index}. */
    public int block(int index) {
        if (index < 0 || index >= blocks) throw new IllegalArgumentException("block index " + index + " outside [0, " + blocks + ")");
        return table[index];
    }

    /** Appends a block this sequence already holds (one {@link KvBlockManager#lookup} found): a shared, cached prefix block. */
    public void adopt(int block) {
        if (closed) throw new IllegalStateException("sequence KV is closed");
        if (blocks == table.length) table = Arrays.copyOf(table, table.length * 2);
        table[blocks++] = block;
    }

    /** The KV slot of a position. */
    public int slot(int position) {
        int bs = pool.blockSize();
        return table[position / bs] * bs + position % bs;
    }

    /** Frees the block at logical index {@code index}; later blocks move down one place (rolling a sink window). */
    public void evict(int index) {
        if (index < 0 || index >= blocks) throw new IllegalArgumentException("block index " + index + " outside [0, " + blocks + ")");
        pool.free(new int[]{table[index]}, 1);
        System.arraycopy(table, index + 1, table, index, blocks - index - 1);
        blocks--;
    }

    /** Frees every block (the sequence can grow again afterwards). */
    public void release() {
        pool.free(table, blocks);
        blocks = 0;
    }

    @Override
    public void close() {
        if (!closed) {
            release();
            closed = true;
        }
    }
}
