package dev.floe.tck.defects;

import dev.floe.api.TensorData;
import dev.floe.spi.Backend;
import dev.floe.spi.FloatFormats;
import dev.floe.spi.ScaleLayout;
import dev.floe.spi.Weight;
import dev.floe.tck.oracle.OracleWeight;

/**
 * Backends that accept block-scaled weights ({@link ScaleLayout.Block}) and get them wrong in one way each, by decoding
 * on the host with the mistake and handing the real backend F32. {@link Faithful} does the same without a mistake.
 */
final class BlockScaleDefects {
    private BlockScaleDefects() {
    }

    /** Decodes block-scaled weights on the host; each defect overrides {@link #scaleIndex}. */
    static class Faithful extends ForwardingBackend {
        Faithful(Backend d) {
            super(d);
        }

        @Override
        public Weight weight(TensorData t, ScaleLayout layout) {
            if (!(layout instanceof ScaleLayout.Block b)) return super.weight(t);
            int rows = (int) t.rows(), cols = (int) t.cols();
            float[] values = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    float scale = FloatFormats.read(t.scale(), Math.min(scaleIndex(b, r, c, cols), t.scale().numel() - 1));
                    values[r * cols + c] = FloatFormats.read(t, (long) r * cols + c) * scale;
                }
            }
            return super.weight(OracleWeight.ofFloats(t.name(), rows, cols, values).tensor(false));
        }

        long scaleIndex(ScaleLayout.Block b, int r, int c, int cols) {
            return b.index(r, c, cols);
        }
    }

    /** Sizes the grid's rows by {@code in / blockCols}, rounding down: wrong wherever the last block is ragged. */
    static final class FloorGridColumns extends Faithful {
        FloorGridColumns(Backend d) {
            super(d);
        }

        @Override
        long scaleIndex(ScaleLayout.Block b, int r, int c, int cols) {
            long perRow = Math.max(1, cols / b.cols());
            return (r / b.rows()) * perRow + c / b.cols();
        }
    }

    /** Applies one scale per block row (the first column block's) to the whole row, as a per-channel reader would. */
    static final class FirstColumnBlockOnly extends Faithful {
        FirstColumnBlockOnly(Backend d) {
            super(d);
        }

        @Override
        long scaleIndex(ScaleLayout.Block b, int r, int c, int cols) {
            return b.index(r, 0, cols);
        }
    }

    /** Divides by the scale, reading DeepSeek's {@code weight_scale_inv} as an inverse. */
    static final class InverseScale extends Faithful {
        InverseScale(Backend d) {
            super(d);
        }

        @Override
        public Weight weight(TensorData t, ScaleLayout layout) {
            if (!(layout instanceof ScaleLayout.Block b)) return super.weight(t, layout);
            int rows = (int) t.rows(), cols = (int) t.cols();
            float[] values = new float[rows * cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    values[r * cols + c] = FloatFormats.read(t, (long) r * cols + c) / FloatFormats.read(t.scale(), b.index(r, c, cols));
                }
            }
            return super.weight(OracleWeight.ofFloats(t.name(), rows, cols, values).tensor(false));
        }
    }
}
