package dev.floe.runtime.model;

import dev.floe.api.ModelConfig;
import dev.floe.runtime.parallel.Shard;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;

/**
 * Activation buffers of a forward pass, sized for a number of rows and reused while passes fit. Attention and MLP
 * widths are those of one rank's {@link Shard}; hidden-size buffers are whole on every rank.
 */
final class Scratch implements AutoCloseable {
    final int rows;
    final Buffer x, h, xn, rn, q, k, v, att, mlpA, mlpB, mlpOut, router, expertIn, expertA, expertB, expertOut, selected, logits;

    Scratch(Backend b, ModelConfig c, int rows, Shard shard) {
        this.rows = rows;
        long hidden = c.hiddenSize(), qw = (long) shard.heads(c) * c.headDim(), kvw = (long) shard.kvHeads(c) * c.headDim();
        long mlp = Math.max(shard.share(c.intermediateSize()), shard.share(c.hiddenSize()));
        x = b.allocate(rows * hidden);
        h = b.allocate(rows * hidden);
        xn = b.allocate(rows * hidden);
        rn = b.allocate(rows * hidden);
        q = b.allocate(rows * qw);
        k = b.allocate(rows * kvw);
        v = b.allocate(rows * kvw);
        att = b.allocate(rows * qw);
        mlpA = b.allocate(rows * mlp);
        mlpB = b.allocate(rows * mlp);
        mlpOut = b.allocate(rows * hidden);
        router = b.allocate(rows * (long) c.numExperts());
        expertIn = b.allocate(rows * hidden);
        expertA = b.allocate(rows * (long) c.intermediateSize());
        expertB = b.allocate(rows * (long) c.intermediateSize());
        expertOut = b.allocate(rows * hidden);
        selected = b.allocate(rows * hidden);
        logits = b.allocate(rows * (long) c.vocabSize());
    }

    @Override
    public void close() {
        for (Buffer buf : new Buffer[]{x, h, xn, rn, q, k, v, att, mlpA, mlpB, mlpOut, router, expertIn, expertA,
                expertB, expertOut, selected, logits}) {
            buf.close();
        }
    }
}
