package dev.floe.cli;

import dev.floe.api.ChatMessage;
import dev.floe.api.ChatRequest;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.SamplingParams;
import dev.floe.runtime.generate.RoutingTrace;
import dev.floe.runtime.model.FloeModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code floe generate PROMPT}: continues a prompt, printing tokens as they come, then the speed. */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Continue a prompt, streaming the text.")
final class GenerateCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PROMPT", description = "the text to continue; - reads it from standard input")
    String prompt;

    @Mixin
    ModelArgs model;

    @Option(names = {"-n", "--max-tokens"}, defaultValue = "128", description = "most tokens to generate (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = {"-t", "--temperature"}, defaultValue = "0", description = "0 for greedy (default: ${DEFAULT-VALUE})")
    double temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the k most likely tokens (0: all)")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling threshold (1: off)")
    double topP;

    @Option(names = "--seed", defaultValue = "0", description = "random seed for sampling")
    long seed;

    @Option(names = "--stop", paramLabel = "TEXT", description = "stop when this text appears (repeatable)")
    List<String> stop = List.of();

    @Option(names = "--ignore-eos", description = "keep generating past the end-of-sequence token")
    boolean ignoreEos;

    @Option(names = "--chat", description = "wrap the prompt as a user message with the model's chat template")
    boolean chat;

    @Option(names = "--trace-routing", paramLabel = "FILE",
            description = "write every routing decision here as JSON lines: pass, layer, position, token, experts, weights")
    java.nio.file.Path traceRouting;

    @Option(names = "--chatml-fallback", description = "with --chat: use ChatML when Floe cannot render the model's"
            + " chat template (otherwise that is an error)")
    boolean chatMlFallback;

    @Option(names = "--quiet-stats", description = "do not print the speed line")
    boolean quietStats;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = spec.commandLine().getErr();
        if (prompt.equals("-")) prompt = readStandardInput();
        try (FloeModel m = model.load()) {
            if (chat && m.tokenizer().chatTemplate().isEmpty()) {
                err.println("floe: " + m.source() + " has no chat template (tokenizer_config.json chat_template);"
                        + " using ChatML, which a model not trained on it will not follow");
            }
            String text = chat ? m.tokenizer().applyChatTemplate(ChatRequest.of(List.of(new ChatMessage("user", prompt)))
                    .withChatMlFallback(chatMlFallback)) : prompt;
            GenerationRequest request = GenerationRequest.of(text, maxTokens)
                    .withSampling(new SamplingParams(temperature, topK, topP, seed))
                    .withStop(stop).withIgnoreEos(ignoreEos);
            if (!chat) out.print(prompt);
            GenerationResult r;
            if (traceRouting != null) {
                try (var trace = java.nio.file.Files.newBufferedWriter(traceRouting, StandardCharsets.UTF_8)) {
                    RoutingTrace observer = new RoutingTrace(trace);
                    r = m.generate(request.withObserver(observer), token -> out.print(token.text()));
                    err.println("floe: " + observer.lines() + " routing decisions written to " + traceRouting);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException("--trace-routing " + traceRouting + ": " + e.getMessage(), e);
                }
            } else {
                r = m.generate(request, token -> out.print(token.text()));
            }
            out.println();
            if (!quietStats) {
                err.printf("[%s on %s: %d prompt tokens in %.1f ms, %d tokens at %.1f tokens/s, finish: %s]%n",
                        m.source().getFileName(), m.backend(), r.promptTokens(), r.prefillNanos() / 1e6, r.tokens().length,
                        r.decodeTokensPerSecond(), r.finishReason().name().toLowerCase());
            }
        }
        return 0;
    }

    /** The whole of standard input as UTF-8 (a prompt piped in, or a file with {@code < FILE}). */
    private static String readStandardInput() {
        try {
            return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read the prompt from standard input: " + e.getMessage(), e);
        }
    }
}
