package dev.floe.spi;

import dev.floe.api.DType;
import dev.floe.api.ModelFormatException;
import dev.floe.api.TensorData;

import java.util.Arrays;

/**
 * How the scale of a quantised weight {@code W [out, in]} maps onto its elements: the one place for these rules.
 * The real value of element {@code (o, i)} is {@code stored(o, i) * scale[index(o, i)]}.
 *
 * <ul>
 * <li>{@link Tensor}: one scalar ({@code [1]}, {@code [1, 1]} or a 0-d tensor; vLLM's dynamic FP8, compressed-tensors
 *     {@code strategy: tensor}).</li>
 * <li>{@link Channel}: one scale per output row ({@code [out]} or {@code [out, 1]}; Floe's own {@code weight_scale},
 *     compressed-tensors {@code strategy: channel}).</li>
 * <li>{@link Block}: one scale per {@code [rows x cols]} block, a {@code [ceil(out/rows), ceil(in/cols)]} grid whose last
 *     row and column of blocks may be ragged (DeepSeek-V3 and Qwen3 FP8's {@code weight_scale_inv} with
 *     {@code weight_block_size}, compressed-tensors {@code strategy: block}). Despite the name {@code _inv}, those
 *     checkpoints multiply: {@code W = fp8 * weight_scale_inv}.</li>
 * </ul>
 * The block size is not recoverable from the grid's shape alone (a ragged edge makes it ambiguous), which is why it
 * comes from the checkpoint's {@code quantization_config}.
 */
public sealed interface ScaleLayout {
    /** One scale for the whole tensor. */
    record Tensor() implements ScaleLayout {
        @Override
        public long index(long row, long col, long weightCols) {
            return 0;
        }

        @Override
        public String toString() {
            return "per-tensor";
        }
    }

    /** One scale per output row. */
    record Channel() implements ScaleLayout {
        @Override
        public long index(long row, long col, long weightCols) {
            return row;
        }

        @Override
        public String toString() {
            return "per-channel";
        }
    }

    /** One scale per block of {@code rows x cols} elements, row-major grid {@code [ceil(out/rows), ceil(in/cols)]}. */
    record Block(int rows, int cols) implements ScaleLayout {
        public Block {
            if (rows < 1 || cols < 1) throw new IllegalArgumentException("block size " + rows + "x" + cols + " is not positive");
        }

        /** Parses {@code "128x128"}; the error names the text. */
        public static Block parse(String text) {
            String[] p = text.trim().toLowerCase(java.util.Locale.ROOT).split("x");
            try {
                if (p.length == 2) return new Block(Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim()));
            } catch (IllegalArgumentException e) {
                // fall through to the message below
            }
            throw new IllegalArgumentException("block size '" + text + "' is not ROWSxCOLS with positive integers, e.g. 128x128");
        }

        /** Blocks down the output dimension of a weight with {@code out} rows. */
        public long gridRows(long out) {
            return (out + rows - 1) / rows;
        }

        /** Blocks along the input dimension of a weight with {@code in} columns. */
        public long gridCols(long in) {
            return (in + cols - 1) / cols;
        }

        @Override
        public long index(long row, long col, long weightCols) {
            return (row / rows) * gridCols(weightCols) + col / cols;
        }

        @Override
        public String toString() {
            return "block " + rows + "x" + cols;
        }
    }

    /** The position in the scale tensor of the scale of element {@code (row, col)} of a weight of {@code weightCols} columns. */
    long index(long row, long col, long weightCols);

    /** The scale of element {@code (row, col)} of {@code weight}, 1 when it has none. */
    static float scaleAt(TensorData weight, ScaleLayout layout, long row, long col) {
        TensorData s = weight.scale();
        if (s == null) return 1f;
        return FloatFormats.read(s, layout.index(row, col, weight.cols()));
    }

    /**
     * The layout of {@code weight}'s scale, checked against the weight's shape; null when it has no scale.
     * {@code block} is the checkpoint's block size, or null when its config declares none: a scale that is neither
     * scalar nor one per row is then an error. The errors name the weight, the scale and the shapes at fault.
     */
    static ScaleLayout of(TensorData weight, Block block) {
        TensorData s = weight.scale();
        if (s == null) return null;
        checkDtype(s);
        long[] shape = s.shape();
        long out = weight.rows(), in = weight.cols();
        boolean column = shape.length == 1 || (shape.length == 2 && shape[1] == 1);
        if (block != null && shape.length == 2 && shape[0] == block.gridRows(out) && shape[1] == block.gridCols(in)) return block;
        if (s.numel() == 1) return new Tensor();
        if (column && s.numel() == out) return new Channel();
        String expected = "a scalar, [" + out + "] or [" + out + ", 1]";
        throw new ModelFormatException("tensor " + s.name() + ": shape " + Arrays.toString(shape) + " does not fit "
                + weight.name() + " " + Arrays.toString(weight.shape()) + " (expected " + expected + (block == null
                ? "; a block grid needs weight_block_size in quantization_config)"
                : ", or the grid of " + block + " scales [ceil(" + out + "/" + block.rows() + "), ceil(" + in + "/"
                + block.cols() + ")] = [" + block.gridRows(out) + ", " + block.gridCols(in) + "])"));
    }

    /** A scale must be a float tensor. */
    private static void checkDtype(TensorData s) {
        if (s.dtype() != DType.F32 && s.dtype() != DType.BF16 && s.dtype() != DType.F16) {
            throw new ModelFormatException("tensor " + s.name() + ": scale dtype " + s.dtype() + " is not a float type");
        }
    }

    /**
     * Whether a scale could belong to {@code weight} under some layout (a scalar, one per row, or a 2-D grid no larger
     * than the weight), for readers that attach scales before the block size is known; {@link #of} decides.
     */
    static void checkAttachable(TensorData weight) {
        TensorData s = weight.scale();
        if (s == null) return;
        checkDtype(s);
        long[] shape = s.shape();
        boolean grid = shape.length == 2 && shape[0] >= 1 && shape[1] >= 1 && shape[0] <= Math.max(1, weight.rows())
                && shape[1] <= weight.cols();
        if (s.numel() == 1 || s.numel() == weight.rows() || grid) return;
        throw new ModelFormatException("tensor " + s.name() + ": shape " + Arrays.toString(shape) + " is no scale of "
                + weight.name() + " " + Arrays.toString(weight.shape()) + " (expected a scalar, one per row or a block grid)");
    }
}
