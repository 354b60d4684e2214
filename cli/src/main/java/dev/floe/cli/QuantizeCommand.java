package dev.floe.cli;

import dev.floe.runtime.quantize.Fp8Quantizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code floe quantize --fp8 IN OUT}. */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Write an FP8 E4M3 copy of a checkpoint (per-row weight_scale, saturating, round-to-nearest-even), "
                + "loadable by every backend. Embeddings, norms, router gates and lm_head keep their dtype.")
final class QuantizeCommand implements Callable<Integer> {
    @Option(names = "--fp8", required = true, description = "quantise linear weights to FP8 E4M3")
    boolean fp8;

    @Parameters(index = "0", paramLabel = "IN", description = "model folder to read")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "folder to write (created)")
    Path out;

    @Override
    public Integer call() {
        Progress progress = new Progress("quantizing tensor");
        Fp8Quantizer.Report r;
        try {
            r = Fp8Quantizer.quantise(in, out, progress::step);
        } finally {
            progress.done();
        }
        System.out.printf("%s: %d weights quantised to FP8 E4M3, %d tensors kept; %.2f MiB -> %.2f MiB%n", out, r.quantised(),
                r.kept(), r.bytesIn() / 1048576.0, r.bytesOut() / 1048576.0);
        return 0;
    }
}
