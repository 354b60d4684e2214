package dev.floe.cli;

import dev.floe.api.DType;
import dev.floe.api.Floe;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.runtime.plan.Bytes;
import dev.floe.runtime.plan.DeviceSpec;
import dev.floe.runtime.plan.MemoryPlan;
import dev.floe.runtime.plan.PlanRequest;
import dev.floe.runtime.plan.Planner;
import dev.floe.runtime.plan.WeightPrecision;
import dev.floe.runtime.serving.ServingConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code floe plan}: per-device memory of a tensor- x expert-parallel layout, from the checkpoint's headers only. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = {"Size a multi-device deployment: per-device bytes of weights, KV cache and activations for a",
                "tensor- x expert-parallel layout, whether it fits, and a layout that does. Reads config.json and the",
                "safetensors headers only, so it plans models far larger than this machine (see docs/parallelism.md)."})
final class PlanCommand implements Callable<Integer> {
    @Option(names = "--model", paramLabel = "DIR", description = "model folder (default: the built-in arctic-tiny-code)")
    Path model;

    @Option(names = "--devices", paramLabel = "NxSIZE", required = true, description = "the devices, e.g. 8x80GB or 4x79.6GiB")
    String devices;

    @Option(names = "--weights", paramLabel = "FORMAT", defaultValue = "stored", description = "stored (default), bf16 or fp8")
    String weights;

    @Option(names = "--tp", paramLabel = "N", description = "tensor-parallel ranks (default: the best that fits)")
    int tp;

    @Option(names = "--ep", paramLabel = "M", description = "expert-parallel ranks (default: the best that fits)")
    int ep;

    @Option(names = "--context", paramLabel = "N", description = "KV cache tokens per sequence (default: the model's trained context)")
    int context;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1", description = "sequences in the KV cache at once (default: 1)")
    int batch;

    @Option(names = "--kv-dtype", paramLabel = "TYPE", defaultValue = "f32", description = "KV cache elements: f32 (what Floe stores today), bf16, fp8")
    String kvDtype;

    @Option(names = "--reserve", paramLabel = "FRACTION", defaultValue = "0.10",
            description = "share of each device kept for the driver, communicator buffers and allocator slack (default: 0.10)")
    double reserve;

    @Override
    public Integer call() {
        Path dir = model != null ? model : Floe.engine().builtInModel();
        PlanRequest request = new PlanRequest(DeviceSpec.parse(devices), WeightPrecision.parse(weights), tp, ep, context, batch,
                kvType(kvDtype), ServingConfig.DEFAULTS.tokenBudget(), reserve);
        Planner planner = Planner.open(dir);
        planner.warnings().forEach(w -> System.err.println("warning: " + w));
        ModelConfig c = planner.config();
        Planner.Advice advice = planner.advise(request);
        MemoryPlan p = advice.plan();
        System.out.printf(Locale.ROOT, "%s: %s, %s parameters, %s stored%n", dir, c.family().modelType(),
                InspectCommand.human(c.parameterCount()), Bytes.gb(planner.storedBytes()));
        System.out.printf(Locale.ROOT, "devices: %s, %s usable each (%.0f%% reserved)%n", request.devices(),
                Bytes.gb(request.usableBytes()), reserve * 100);
        System.out.printf(Locale.ROOT, "layout: %s%s, weights %s, KV %s for %d x %d tokens, activations for %d rows%n",
                p.layout(), tp == 0 || ep == 0 ? " (chosen)" : "", p.weights().id(), request.kvDtype(), batch,
                context == 0 ? c.maxPositions() : context, request.rows());
        print(p);
        for (Planner.Suggestion s : advice.suggestions()) {
            System.out.printf(Locale.ROOT, "suggestion: %s with --tp %d --ep %d --weights %s: %s a device, fits%n", s.devices(),
                    s.plan().layout().tp(), s.plan().layout().ep(), s.plan().weights().id(), Bytes.gb(s.plan().totalBytes()));
        }
        if (!p.fits() && advice.suggestions().isEmpty()) {
            System.out.println("suggestion: none up to " + Planner.MAX_DEVICES + " devices of this size");
        }
        return p.fits() ? 0 : 1;
    }

    static void print(MemoryPlan p) {
        System.out.println("per device:");
        System.out.printf("  weights      %12s%n", Bytes.gb(p.weightBytes()));
        p.weightsByCategory().forEach((k, v) -> {
            if (v > 0) System.out.printf("    %-24s %12s%n", k, Bytes.gb(v));
        });
        System.out.printf("  KV cache     %12s%n", Bytes.gb(p.kvCacheBytes()));
        System.out.printf("  activations  %12s%n", Bytes.gb(p.activationBytes()));
        System.out.printf("  total        %12s of %s usable: %s%n", Bytes.gb(p.totalBytes()), Bytes.gb(p.usableBytes()),
                p.fits() ? "fits (" + Bytes.gb(p.usableBytes() - p.totalBytes()) + " spare)"
                        : "does not fit, " + Bytes.gb(p.shortfallBytes()) + " short on each device");
    }

    private static DType kvType(String text) {
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            case "f16" -> DType.F16;
            case "fp8" -> DType.F8_E4M3;
            default -> throw new InvalidRequestException("--kv-dtype: '" + text + "' is not one of f32, bf16, f16, fp8");
        };
    }
}
