package dev.floe.cli;

import dev.floe.api.Floe;
import dev.floe.runtime.golden.CheckResult;
import dev.floe.runtime.golden.GoldenChecks;
import dev.floe.runtime.golden.GoldenFixture;
import dev.floe.runtime.model.FloeModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code floe check DIR...}: runs a model folder's golden checks and prints one line per check. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check model folders against their golden outputs (golden.safetensors): prompt logits, decode "
                + "logits through the KV cache, expert choices, greedy tokens. Exit status 1 on any failure.")
final class CheckCommand implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", arity = "0..*", description = "fixture folders (default: the built-in model)")
    List<Path> dirs = new ArrayList<>();

    @Mixin
    ModelArgs model;

    @Override
    public Integer call() {
        List<Path> targets = dirs.isEmpty() ? List.of(Floe.engine().builtInModel()) : dirs;
        int passed = 0, failed = 0;
        for (Path dir : targets) {
            GoldenFixture golden = GoldenFixture.load(dir);
            try (FloeModel m = model.load(dir)) {
                System.out.println("# " + dir + " on " + m.backend() + " (" + m.device() + ")");
                for (CheckResult r : GoldenChecks.run(m, golden, dir.getFileName().toString(), r -> System.out.println(r.line()))) {
                    if (r.passed()) passed++;
                    else failed++;
                }
            }
        }
        System.out.println(passed + " passed, " + failed + " failed");
        return failed == 0 ? 0 : 1;
    }
}
