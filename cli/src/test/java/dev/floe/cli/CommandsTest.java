package dev.floe.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The floe commands end to end, in process, on the built-in model and the fixtures. */
class CommandsTest {
    static final Path ROOT = Path.of(System.getProperty("floe.root", "."));

    record Run(int status, String out, String err) {
    }

    static synchronized Run run(String... args) {
        PrintStream oldOut = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cl = FloeCli.commandLine();
            cl.setErr(new PrintWriter(err, true));
            int status = cl.execute(args);
            return new Run(status, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(oldOut);
        }
    }

    @Test
    void generateStreamsTheGreedyContinuation() {
        Run r = run("generate", "def fibonacci(n):\n", "-n", "12", "--quiet-stats");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().startsWith("def fibonacci(n):\n    \"\"\"\n    These are"), r.out());
    }

    @Test
    void generateReadsADashPromptFromStandardInput() {
        java.io.InputStream stdin = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("def fibonacci(n):\n".getBytes(StandardCharsets.UTF_8)));
            Run r = run("generate", "-", "-n", "12", "--quiet-stats");
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().startsWith("def fibonacci(n):\n    \"\"\"\n    These are"), r.out());
        } finally {
            System.setIn(stdin);
        }
    }

    @Test
    void chatOnAModelWithoutAChatTemplateSaysSo() {
        Run r = run("generate", "--chat", "hi", "-n", "2", "--quiet-stats");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.err().contains("has no chat template") && r.err().contains("using ChatML"), r.err());
    }

    @Test
    void aChatTemplateFloeCannotRenderIsReportedNotReplaced(@TempDir Path tmp) throws Exception {
        Path model = ROOT.resolve("models/arctic-tiny-code");
        try (var files = Files.list(model)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals("tokenizer_config.json")) Files.createSymbolicLink(tmp.resolve(f.getFileName()), f);
            }
        }
        String config = Files.readString(model.resolve("tokenizer_config.json"));
        Files.writeString(tmp.resolve("tokenizer_config.json"), config.substring(0, config.lastIndexOf('}'))
                + ", \"chat_template\": \"{{ bos_token }}\\n{% include 'system.jinja' %}{{ messages[0].content }}\"}");
        Run inspect = run("inspect", tmp.toString());
        assertEquals(0, inspect.status(), inspect.err());
        assertTrue(inspect.out().contains("chat template: NOT SUPPORTED") && inspect.out().contains("{% include %}")
                && inspect.out().contains("line 2"), inspect.out());
        Run chat = run("generate", "--model", tmp.toString(), "--chat", "hi", "-n", "2", "--quiet-stats");
        assertTrue(chat.status() != 0 && chat.err().contains("{% include %}"), chat.out() + chat.err());
        Run fallback = run("generate", "--model", tmp.toString(), "--chat", "--chatml-fallback", "hi", "-n", "2", "--quiet-stats");
        assertEquals(0, fallback.status(), fallback.err());
        Run builtIn = run("inspect");
        assertTrue(builtIn.out().contains("chat template: none (ChatML"), builtIn.out());
    }

    @Test
    void checkPassesOnAFixtureAndEndsWithTheSummary() {
        Run r = run("check", ROOT.resolve("fixtures/tiny-mixtral").toString());
        assertEquals(0, r.status(), r.out() + r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("\\d+ passed, 0 failed"), lines[lines.length - 1]);
        assertTrue(r.out().contains("PASS  tiny-mixtral/prompt.0.layer.1.experts"));
    }

    @Test
    void checkFailsWithStatusOneOnAWrongGolden(@TempDir Path tmp) throws Exception {
        // tiny-arctic's goldens against the fp8 weights: logits differ beyond 1e-4
        Path fixture = ROOT.resolve("fixtures/tiny-arctic-fp8");
        for (String f : new String[]{"config.json", "model.safetensors"}) Files.copy(fixture.resolve(f), tmp.resolve(f));
        Files.copy(ROOT.resolve("fixtures/tiny-arctic/golden.safetensors"), tmp.resolve("golden.safetensors"));
        Run r = run("check", tmp.toString());
        assertEquals(1, r.status());
        assertTrue(r.out().contains("FAIL  "), r.out());
        assertTrue(r.out().strip().matches("(?s).*\\d+ passed, [1-9]\\d* failed"), r.out());
    }

    @Test
    void backendsListsTheReferenceBackend() {
        Run r = run("backends");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("cpu-vector") && r.out().contains("weights.bf16"), r.out());
    }

    @Test
    void inspectSummarisesTheBuiltInModel() {
        Run r = run("inspect");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("9.85M total"), r.out());
        Run fp8 = run("inspect", ROOT.resolve("fixtures/tiny-arctic-fp8").toString());
        assertEquals(0, fp8.status(), fp8.err());
        assertTrue(fp8.out().contains("quantization: fp8 e4m3, weight scales per_output_channel, not converted: lm_head"), fp8.out());
    }

    @Test
    void inspectShowsTheRopeScalingAndTheContextItServes() {
        Run r = run("inspect", ROOT.resolve("fixtures/rope-linear").toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("context 128") && r.out().contains("rope_scaling: linear Linear[factor=4.0], theta 1000000.0"), r.out());
    }

    @Test
    void quantizeWritesEachScaleFormThatThenPassesItsGoldens(@TempDir Path tmp) throws Exception {
        Run q = run("quantize", "--fp8", "--scales", "block:32x64", "--format", "compressed-tensors",
                ROOT.resolve("fixtures/tiny-arctic").toString(), tmp.toString());
        assertEquals(0, q.status(), q.err());
        assertTrue(q.out().contains("block 32x64 scales, compressed-tensors config"), q.out());
        Path fixture = ROOT.resolve("fixtures/tiny-arctic-fp8-ct-block");
        for (String f : new String[]{"golden.safetensors", "golden.json"}) Files.copy(fixture.resolve(f), tmp.resolve(f));
        Run check = run("check", tmp.toString());
        assertEquals(0, check.status(), check.out());
        Run inspect = run("inspect", ROOT.resolve("fixtures/tiny-arctic-fp8-block").toString());
        assertTrue(inspect.out().contains("quantization: fp8 e4m3, weight scales block 48x48"), inspect.out());
        Run bad = run("quantize", "--fp8", "--scales", "block:128", ROOT.resolve("fixtures/tiny-arctic").toString(),
                tmp.resolve("x").toString());
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("--scales block:128: block size '128' is not ROWSxCOLS"), bad.err());
        Run format = run("quantize", "--fp8", "--format", "gptq", ROOT.resolve("fixtures/tiny-arctic").toString(),
                tmp.resolve("y").toString());
        assertEquals(2, format.status());
        assertTrue(format.err().contains("--format gptq is not fp8 or compressed-tensors"), format.err());
    }

    @Test
    void benchReportsMbuOnTheSmallPreset(@TempDir Path tmp) throws Exception {
        Path report = tmp.resolve("bench.json");
        Run r = run("bench", "--preset", "small", "--tokens", "4", "--prompt", "4", "--batch", "3,8", "--report", report.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("bf16") && r.out().contains("fp8-e4m3") && r.out().contains("%"), r.out());
        assertEquals(2, r.out().lines().filter(l -> l.startsWith("bf16") && l.contains("batch 8 ")).count()
                + r.out().lines().filter(l -> l.startsWith("fp8-e4m3") && l.contains("batch 3 ")).count(), r.out());
        assertTrue(r.out().contains("host weights in memory, on "), r.out());
        String json = Files.readString(report);
        assertTrue(json.contains("\"bytesPerToken\"") && json.contains("\"stepMillis\""), json);
        Run bad = run("bench", "--preset", "small", "--batch", "1");
        assertTrue(bad.err().contains("--batch: 1"), bad.err());
    }

    @Test
    void benchMeasuresACheckpoint() {
        Run r = run("bench", "--model", ROOT.resolve("models/arctic-tiny-code").toString(), "--tokens", "4", "--prompt", "4", "--batch", "2");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("arctic-tiny-code: bf16 weights"), r.out());
        assertEquals(1, r.out().lines().filter(l -> l.startsWith("bf16") && l.contains("batch 2 ")).count(), r.out());
        // the default prompt lengths, each timed against the measured peak
        assertEquals(3, r.out().lines().filter(l -> l.matches("bf16 .* pp(64|256|512) .*% of the peak .*")).count(), r.out());
        assertTrue(r.out().contains("host weights read in place from the mapped files"), r.out());
        Run fixture = run("bench", "--model", ROOT.resolve("fixtures/tiny-arctic-fp8").toString(), "--tokens", "4", "--prompt", "4",
                "--pp", "8,512", "-D", "weights.in-memory=true");
        assertEquals(0, fixture.status(), fixture.err());
        assertTrue(fixture.out().contains("host weights in memory, on "), fixture.out());
        assertTrue(fixture.out().contains("fp8-e4m3 weights"), fixture.out());
        // a context of 512 positions holds a prompt of 8, not one of 512 and a token more
        assertTrue(fixture.out().lines().anyMatch(l -> l.contains(" pp8 ") && l.contains("% of the peak")), fixture.out());
        assertTrue(fixture.out().lines().anyMatch(l -> l.contains("pp512") && l.contains("left out")), fixture.out());
        Run notAModel = run("bench", "--model", ROOT.resolve("fixtures").toString());
        assertTrue(notAModel.err().contains("is not a model folder (no config.json)"), notAModel.err());
    }

    @Test
    void badArgumentsGiveOneClearLine() {
        Run r = run("generate", "x", "--backend", "quantum");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("no backend named 'quantum'"), r.err());
        Run bad = run("check", ROOT.resolve("no-such-dir").toString());
        assertEquals(2, bad.status());
        assertTrue(bad.err().contains("no-such-dir"), bad.err());
        Run preset = run("bench", "--preset", "huge");
        assertTrue(preset.err().contains("unknown preset 'huge'"), preset.err());
    }
}
