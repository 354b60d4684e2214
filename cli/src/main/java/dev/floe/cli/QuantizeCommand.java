package dev.floe.cli;

import dev.floe.runtime.quantize.Fp8Quantizer;
import dev.floe.spi.ScaleLayout;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code floe quantize --fp8 [--scales tensor|channel|block:RxC] [--format fp8|compressed-tensors] [--head] IN OUT}. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Write an FP8 E4M3 copy of a checkpoint (saturating, round-to-nearest-even), loadable by every "
                + "backend. Embeddings, norms and router gates keep their dtype, and so does lm_head unless --head is given.")
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--fp8", required = true, description = "quantise linear weights to FP8 E4M3")
    boolean fp8;

    @Option(names = "--scales", defaultValue = "channel", paramLabel = "LAYOUT",
            description = "scale layout: tensor (one per weight), channel (one per output row, the default) or "
                    + "block:ROWSxCOLS (one per block, e.g. block:128x128 as DeepSeek-V3 and Qwen3 FP8 ship)")
    String scales;

    @Option(names = "--format", defaultValue = "fp8", paramLabel = "CONFIG",
            description = "how the config and scales are written: fp8 (quant_method fp8; a block grid is "
                    + "weight_scale_inv with weight_block_size) or compressed-tensors (float-quantized, weight_scale)")
    String format;

    @Option(names = "--head", description = "quantise lm_head too, as llama.cpp's Q8_0 does its output weight: it is "
            + "read whole for every decoded token, so this halves its bytes; published FP8 checkpoints keep it BF16 (a head "
            + "tied to the embedding stays as it is)")
    boolean head;

    @Parameters(index = "0", paramLabel = "IN", description = "model folder to read")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "folder to write (created)")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        Fp8Quantizer.Options options = new Fp8Quantizer.Options(layout(), format(), head);
        Progress progress = new Progress("quantizing tensor");
        Fp8Quantizer.Report r;
        try {
            r = Fp8Quantizer.quantise(in, out, options, progress::step);
        } finally {
            progress.done();
        }
        System.out.printf("%s: %d weights quantised to FP8 E4M3 (%s scales, %s config), %d tensors kept; %.2f MiB -> %.2f MiB%n",
                out, r.quantised(), options.scales(), format, r.kept(), r.bytesIn() / 1048576.0, r.bytesOut() / 1048576.0);
        return 0;
    }

    private ScaleLayout layout() {
        String s = scales.trim().toLowerCase(Locale.ROOT);
        if (s.equals("tensor")) return new ScaleLayout.Tensor();
        if (s.equals("channel")) return new ScaleLayout.Channel();
        if (s.startsWith("block:")) {
            try {
                return ScaleLayout.Block.parse(s.substring("block:".length()));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--scales " + scales + ": " + e.getMessage());
            }
        }
        throw new CommandLine.ParameterException(spec.commandLine(), "--scales " + scales
                + " is not tensor, channel or block:ROWSxCOLS");
    }

    private Fp8Quantizer.Format format() {
        return switch (format.trim().toLowerCase(Locale.ROOT)) {
            case "fp8" -> Fp8Quantizer.Format.FP8;
            case "compressed-tensors" -> Fp8Quantizer.Format.COMPRESSED_TENSORS;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--format " + format
                    + " is not fp8 or compressed-tensors");
        };
    }
}
