package dev.floe.cli;

import dev.floe.api.DType;
import dev.floe.api.Floe;
import dev.floe.api.ModelConfig;
import dev.floe.api.ModelFormatException;
import dev.floe.api.Quantization;
import dev.floe.runtime.checkpoint.Checkpoint;
import dev.floe.runtime.checkpoint.SafetensorsHeader;
import dev.floe.runtime.checkpoint.TensorHeader;
import dev.floe.runtime.config.ConfigReader;
import dev.floe.runtime.tokenizer.HfTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code floe inspect DIR}: the config and a summary of the tensors, without loading weights. */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Show a model folder's config and tensors.")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", arity = "0..1", description = "model folder (default: the built-in model)")
    Path dir;

    @Option(names = "--tensors", description = "list every tensor")
    boolean tensors;

    @Override
    public Integer call() {
        Path d = dir != null ? dir : Floe.engine().builtInModel();
        ModelConfig c = ConfigReader.read(d);
        // headers only: nothing is mapped or read, so this works on any size of checkpoint (even sparse files)
        List<SafetensorsHeader> files = Checkpoint.headers(d);
        System.out.println(d);
        System.out.printf("  %s: %d layers, hidden %d, %d heads / %d KV heads of %d, vocab %d, context %d%n",
                c.family().modelType(), c.numLayers(), c.hiddenSize(), c.numHeads(), c.numKvHeads(), c.headDim(),
                c.vocabSize(), c.maxPositions());
        int moe = 0;
        for (int l = 0; l < c.numLayers(); l++) if (c.isMoeLayer(l)) moe++;
        System.out.printf("  MoE: %d experts of width %d, top-%d, %d MoE layers%s%n", c.numExperts(), c.intermediateSize(),
                c.topK(), moe, c.family().modelType().equals("arctic") && c.parallelResidual() ? ", residual dense MLP beside each" : "");
        System.out.printf("  parameters: %s total, %s active per token%n", human(c.parameterCount()), human(c.activeParameterCount()));
        if (c.quantization() != null) System.out.println("  quantization: " + describe(c.quantization()));
        if (c.ropeScaling().scales()) {
            System.out.println("  rope_scaling: " + c.ropeScaling().type() + " " + c.ropeScaling() + ", theta " + c.ropeTheta());
        }
        Map<DType, long[]> byType = new EnumMap<>(DType.class);
        for (SafetensorsHeader f : files) {
            for (TensorHeader t : f.tensors().values()) {
                long[] acc = byType.computeIfAbsent(t.dtype(), k -> new long[2]);
                acc[0]++;
                acc[1] += t.numel();
                if (tensors) System.out.printf("    %-64s %-8s %s%n", t.name(), t.dtype(), Arrays.toString(t.shape()));
            }
        }
        long dataBytes = files.stream().mapToLong(SafetensorsHeader::dataBytes).sum();
        System.out.printf("  %d files, %s of tensor data%n", files.size(), bytes(dataBytes));
        byType.forEach((t, a) -> System.out.printf("    %-8s %5d tensors  %s elements%n", t, a[0], human(a[1])));
        System.out.println("  chat template: " + chatTemplate(d));
        return 0;
    }

    /** Whether {@code floe generate --chat} and the server can render the model's chat template, and if not why. */
    static String chatTemplate(Path d) {
        if (!Files.exists(d.resolve("tokenizer.json"))) return "unknown (no tokenizer.json)";
        HfTokenizer t;
        try {
            t = HfTokenizer.load(d);
        } catch (ModelFormatException e) {
            return "unknown (" + e.getMessage() + ")";
        }
        Optional<String> source = t.chatTemplate();
        if (source.isEmpty()) return "none (ChatML is used, the format of Arctic's instruct model)";
        long lines = source.get().lines().count();
        return t.chatTemplateProblem()
                .map(p -> "NOT SUPPORTED, chat requests fail: " + p)
                .orElse("supported (" + lines + " lines, rendered as transformers renders it)");
    }

    static String human(long n) {
        if (n >= 1_000_000_000L) return String.format("%.2fB", n / 1e9);
        if (n >= 1_000_000L) return String.format("%.2fM", n / 1e6);
        if (n >= 1_000L) return String.format("%.1fK", n / 1e3);
        return Long.toString(n);
    }

    static String bytes(long n) {
        if (n >= 1L << 30) return String.format("%.2f GiB", n / (double) (1L << 30));
        if (n >= 1L << 20) return String.format("%.2f MiB", n / (double) (1L << 20));
        return String.format("%.1f KiB", n / 1024.0);
    }

    /** For example {@code fp8 e4m3, weight scales per_output_channel, not converted: lm_head, gate}. */
    static String describe(Quantization q) {
        String s = q.method() + " " + q.format() + ", weight scales " + q.weightScale()
                + (q.blockScaled() ? " " + q.weightBlockSize().get(0) + "x" + q.weightBlockSize().get(1) : "");
        return q.modulesNotConverted().isEmpty() ? s : s + ", not converted: " + String.join(", ", q.modulesNotConverted());
    }
}
