package dev.floe.backend.cuda;

import dev.floe.api.ModelOptions;
import dev.floe.runtime.FloeEngine;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.Buffer;
import dev.floe.spi.Communicator;
import dev.floe.spi.DeviceGroup;
import dev.floe.spi.Probe;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The gpu-check step for NCCL: on a group of one GPU ({@link CudaGroup}), the all-reduce, all-gather and all-to-all
 * of a world of one (each the identity, through real NCCL calls on the backend's stream), then the parallel layer
 * graph on that group (eager, its all-reduces through NCCL) against the golden fixtures. Prints one line per check;
 * exit status 1 on any failure, 3 without a GPU.
 */
public final class NcclGroupCheck {
    private NcclGroupCheck() {
    }

    public static void main(String[] args) {
        CudaProvider cuda = providerOrExit();
        int failures = 0;
        try (DeviceGroup g = cuda.openGroup(1, BackendOptions.DEFAULTS)) {
            Backend b = g.backend(0);
            Communicator c = g.communicator(0);
            float[] x = new float[4099];
            for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i) * 3;
            try (Buffer buf = b.allocate(x.length); Buffer recv = b.allocate(x.length)) {
                b.upload(x, 0, buf, 0, x.length);
                c.allReduceSum(buf, x.length);
                failures += report("nccl.all-reduce", x, read(b, buf, x.length));
                c.allGather(buf, x.length, recv);
                failures += report("nccl.all-gather", x, read(b, recv, x.length));
                b.upload(new float[x.length], 0, recv, 0, x.length);
                c.allToAll(buf, new long[]{0}, new long[]{x.length}, recv, new long[]{0}, new long[]{x.length});
                failures += report("nccl.all-to-all", x, read(b, recv, x.length));
                b.upload(x, 0, recv, 0, x.length);
                c.broadcast(recv, x.length, 0);
                failures += report("nccl.broadcast", x, read(b, recv, x.length));
            }
        } catch (RuntimeException e) {
            System.out.println("nccl.group: FAIL " + e);
            failures++;
        }
        Path root = Path.of(System.getProperty("floe.root", "."));
        for (String folder : args.length > 0 ? args : new String[]{"fixtures/tiny-mixtral", "fixtures/tiny-arctic"}) {
            Path dir = root.resolve(folder);
            try (FloeModel m = FloeEngine.load(dir, ModelOptions.DEFAULTS.withBackend("cuda"), l -> { },
                    cuda.openGroup(1, BackendOptions.DEFAULTS))) {
                System.out.println("# " + folder + " on " + m.device());
                for (CheckResult r : GoldenChecks.run(m, GoldenFixture.load(dir), "group-of-one/" + folder, r -> { })) {
                    System.out.println(r.line());
                    if (!r.passed()) failures++;
                }
            } catch (RuntimeException e) {
                System.out.println(folder + ": FAIL " + e);
                failures++;
            }
        }
        System.out.println(failures == 0 ? "all passed" : failures + " failed");
        System.exit(failures == 0 ? 0 : 1);
    }

    /** The provider, or exit status 3 (the gpu-check steps' "no GPU") with the probe's reason. */
    static CudaProvider providerOrExit() {
        CudaProvider cuda = new CudaProvider();
        Probe probe = cuda.probe();
        if (!probe.available()) {
            System.out.println("unavailable: " + probe.detail());
            System.exit(3);
        }
        return cuda;
    }

    private static float[] read(Backend b, Buffer buf, int n) {
        float[] out = new float[n];
        b.download(buf, 0, out, 0, n);
        return out;
    }

    private static int report(String name, float[] expected, float[] got) {
        boolean ok = Arrays.equals(expected, got);
        System.out.println(name + ": " + (ok ? "PASS" : "FAIL") + " (world of one: the identity on " + expected.length + " floats)");
        return ok ? 0 : 1;
    }
}
