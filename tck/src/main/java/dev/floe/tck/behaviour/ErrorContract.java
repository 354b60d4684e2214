package dev.floe.tck.behaviour;

import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.model.ForwardBatch;
import dev.floe.runtime.kv.SequenceKv;
import dev.floe.spi.AttentionBatch;
import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import dev.floe.spi.KvCache;
import dev.floe.spi.KvLayout;
import dev.floe.spi.Weight;
import dev.floe.tck.Check;
import dev.floe.tck.Measurement;
import dev.floe.tck.TckContext;
import dev.floe.tck.model.ModelChecks;
import dev.floe.tck.oracle.OracleWeight;

import java.util.List;

/**
 * The error contract of {@link Backend}: bad sizes, ids out of range and closed resources throw
 * {@link IllegalArgumentException} or {@link IllegalStateException} whose message names the offending thing, and the
 * backend keeps working afterwards. Each check then runs a small {@code add} to prove the instance is still sound.
 */
final class ErrorContract {
    private ErrorContract() {
    }

    /** A misuse and a word its message must contain. */
    private interface Misuse {
        void run(Backend b);
    }

    static List<Check> all() {
        return List.of(
                misuse("behaviour.errors.matmul-input-too-small", "", b -> {
                    try (Weight w = f32(b, 8, 16); Buffer x = b.allocate(16); Buffer out = b.allocate(16)) {
                        b.matmul(x, 2, w, out); // x holds 1 row of 16, not 2
                    }
                }),
                misuse("behaviour.errors.matmul-output-too-small", "", b -> {
                    try (Weight w = f32(b, 8, 16); Buffer x = b.allocate(32); Buffer out = b.allocate(8)) {
                        b.matmul(x, 2, w, out); // out needs 2 x 8
                    }
                }),
                misuse("behaviour.errors.embed-id-out-of-range", "29", b -> {
                    try (Weight w = f32(b, 29, 4); Buffer out = b.allocate(8)) {
                        b.embed(w, new int[]{3, 29}, out);
                    }
                }),
                misuse("behaviour.errors.embed-negative-id", "-1", b -> {
                    try (Weight w = f32(b, 29, 4); Buffer out = b.allocate(8)) {
                        b.embed(w, new int[]{-1, 2}, out);
                    }
                }),
                misuse("behaviour.errors.closed-buffer", "closed", b -> {
                    Buffer a = b.allocate(8);
                    a.close();
                    try (Buffer c = b.allocate(8)) {
                        b.add(a, c, 8, c);
                    }
                }),
                misuse("behaviour.errors.download-closed-buffer", "closed", b -> {
                    Buffer a = b.allocate(8);
                    a.close();
                    b.download(a, 0, new float[8], 0, 8);
                }),
                misuse("behaviour.errors.upload-out-of-bounds", "", b -> {
                    try (Buffer a = b.allocate(8)) {
                        b.upload(new float[16], 0, a, 4, 8);
                    }
                }),
                misuse("behaviour.errors.negative-allocation", "-5", b -> b.allocate(-5)),
                misuse("behaviour.errors.kv-slot-out-of-range", "", b -> {
                    try (KvCache cache = b.kvCache(new KvLayout(1, 1, 4, 2, 4)); Buffer k = b.allocate(4)) {
                        b.storeKv(cache, 0, k, k, 1, new int[]{8}); // 8 slots: 0..7
                    }
                }),
                misuse("behaviour.errors.kv-layer-out-of-range", "", b -> {
                    try (KvCache cache = b.kvCache(new KvLayout(1, 1, 4, 2, 4)); Buffer k = b.allocate(4)) {
                        b.storeKv(cache, 1, k, k, 1, new int[]{0});
                    }
                }),
                misuse("behaviour.errors.heads-not-multiple-of-kv-heads", "", b -> {
                    try (KvCache cache = b.kvCache(new KvLayout(1, 2, 4, 2, 4)); Buffer q = b.allocate(12); Buffer out = b.allocate(12)) {
                        b.attention(q, cache, 0, AttentionBatch.single(3, new int[]{0}, new int[]{0}), out);
                    }
                }),
                new Check(BehaviourChecks.CATEGORY, "behaviour.errors.model-token-id-out-of-range", ErrorContract::modelTokenId));
    }

    private static Weight f32(Backend b, int rows, int cols) {
        return b.weight(OracleWeight.ofFloats("tck.errors.weight", rows, cols, new float[rows * cols]).tensor(false));
    }

    private static Check misuse(String name, String mustName, Misuse misuse) {
        return new Check(BehaviourChecks.CATEGORY, name, ctx -> {
            Backend b = ctx.backend();
            RuntimeException thrown = null;
            try {
                misuse.run(b);
                b.synchronize();
            } catch (IllegalArgumentException | IllegalStateException e) {
                thrown = e;
            } catch (RuntimeException e) {
                return Measurement.ofCondition(false, "threw " + e + ", not IllegalArgumentException/IllegalStateException");
            }
            if (thrown == null) return Measurement.ofCondition(false, "nothing was thrown");
            String message = String.valueOf(thrown.getMessage());
            if (thrown.getMessage() == null || message.isBlank() || !message.contains(mustName)) {
                return Measurement.ofCondition(false, thrown.getClass().getSimpleName() + " \"" + message + "\" does not name "
                        + (mustName.isEmpty() ? "anything" : "'" + mustName + "'"));
            }
            String health = stillWorks(b);
            return Measurement.ofCondition(health == null, thrown.getClass().getSimpleName() + ": " + message
                    + (health == null ? "" : "; afterwards " + health));
        });
    }

    /** Null when a small add still computes the right thing. */
    private static String stillWorks(Backend b) {
        try (Buffer x = b.allocate(3); Buffer y = b.allocate(3)) {
            b.upload(new float[]{1, 2, 3}, 0, x, 0, 3);
            b.upload(new float[]{10, 20, 30}, 0, y, 0, 3);
            b.add(x, y, 3, y);
            float[] out = new float[3];
            b.download(y, 0, out, 0, 3);
            return out[0] == 11 && out[1] == 22 && out[2] == 33 ? null : "add gave " + java.util.Arrays.toString(out);
        } catch (RuntimeException e) {
            return "the backend failed: " + e;
        }
    }

    /** A token id past the vocabulary, through a whole model: refused with the id in the message. */
    static Measurement modelTokenId(TckContext ctx) {
        if (ctx.fixtures().isEmpty()) throw new Check.Skip("no model folder to load");
        try (FloeModel model = ModelChecks.load(ctx, ctx.fixtures().getFirst())) {
            int bad = model.config().vocabSize();
            try (SequenceKv kv = model.newSequenceKv()) {
                kv.ensureCapacity(2);
                model.forward(ForwardBatch.single(new int[]{1, bad}, 0, kv.table(), new int[]{1}), null);
                return Measurement.ofCondition(false, "token id " + bad + " was accepted");
            } catch (InvalidRequestException | IllegalArgumentException e) {
                boolean names = String.valueOf(e.getMessage()).contains(String.valueOf(bad));
                float[][] ok;
                try (var s = model.newSession(3)) {
                    ok = s.prefill(new int[]{1, 2});
                }
                return Measurement.ofCondition(names && ok.length == 2, e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }
}
