package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.floe.api.ChatMessage;
import dev.floe.api.FinishReason;
import dev.floe.api.GeneratedToken;
import dev.floe.api.GenerationResult;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.TokenLogprobs;
import dev.floe.api.TokenSink;
import dev.floe.api.Tokenizer;
import dev.floe.runtime.serving.RequestHandle;
import dev.floe.runtime.serving.ServingEngine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One completion request in the engine: its {@code n} choices, each a sequence, and the OpenAI JSON built from
 * their tokens: a whole response, or stream chunks. Tokens reach the caller's thread through one queue of events, in
 * order per choice, so a slow client never holds the engine thread.
 */
final class CompletionRun {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the engine thread hands over: a token of a choice, or the end of a choice. */
    sealed interface Event {
        int choice();
    }

    record TokenEvent(int choice, GeneratedToken token) implements Event {
    }

    record DoneEvent(int choice, GenerationResult result, Throwable failure) implements Event {
    }

    private final CompletionRequest req;
    private final Tokenizer tokenizer;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final List<RequestHandle> handles = new ArrayList<>();
    /** The last prompt token: what a token's text is decoded after. */
    private final int[] context;
    private final Map<Integer, String> tokenTexts = new ConcurrentHashMap<>();
    /** By choice, when streaming with tools: the reader of its calls, and the index of its last token. */
    private final Map<Integer, ToolCallStream> toolStreams = new ConcurrentHashMap<>();
    private final Map<Integer, Integer> lastIndex = new ConcurrentHashMap<>();
    private volatile boolean cancelled;

    /** Submits every choice; if one cannot be queued, the others are cancelled and the error goes to the caller. */
    CompletionRun(ServingEngine engine, CompletionRequest req) {
        this.req = req;
        this.tokenizer = engine.model().tokenizer();
        int[] prompt = req.request().promptIds();
        this.context = new int[]{prompt[prompt.length - 1]};
        try {
            for (int i = 0; i < req.n(); i++) {
                int choice = i;
                RequestHandle h = engine.submit(req.choice(i), new TokenSink() {
                    @Override
                    public void onToken(GeneratedToken token) {
                        events.add(new TokenEvent(choice, token));
                    }

                    @Override
                    public boolean cancelled() {
                        return cancelled;
                    }
                });
                handles.add(h);
                h.result().whenComplete((r, e) -> events.add(new DoneEvent(choice, r, e)));
            }
        } catch (RuntimeException e) {
            cancel();
            throw e;
        }
    }

    /** Stops every choice; their KV blocks go back at the engine's next step. */
    void cancel() {
        cancelled = true;
        for (RequestHandle h : handles) h.cancel();
    }

    /** Whether every choice has ended, waiting up to {@code millis} for it. */
    boolean awaitFinished(long millis) throws InterruptedException {
        try {
            java.util.concurrent.CompletableFuture.allOf(handles.stream().map(RequestHandle::result)
                    .toArray(java.util.concurrent.CompletableFuture[]::new)).get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            return true; // a failed choice has ended too; awaitChoices reports it
        }
    }

    /** Whether a choice ended cancelled (by the client, or by a server's drain deadline). */
    boolean cancelledAny() {
        return handles.stream().map(h -> h.result().getNow(null))
                .anyMatch(r -> r != null && r.finishReason() == FinishReason.CANCELLED);
    }

    /** The next event, or null after {@code millis} without one. */
    Event poll(long millis) throws InterruptedException {
        return events.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** Collects every choice to the end; the choices of the whole {@code chat.completion} or {@code text_completion}. */
    ArrayNode awaitChoices(ObjectNode root) throws InterruptedException {
        Choice[] choices = new Choice[req.n()];
        for (int i = 0; i < choices.length; i++) choices[i] = new Choice();
        int done = 0;
        int completionTokens = 0;
        while (done < choices.length) {
            Event e = events.take();
            Choice c = choices[e.choice()];
            switch (e) {
                case TokenEvent t -> c.add(t.token());
                case DoneEvent d -> {
                    done++;
                    if (d.failure() != null) throw failure(d.failure());
                    c.result = d.result();
                    completionTokens += d.result().tokens().length;
                }
            }
        }
        ArrayNode out = root.putArray("choices");
        for (int i = 0; i < choices.length; i++) {
            Choice c = choices[i];
            ObjectNode choice = out.addObject().put("index", i);
            String finish = finishReason(c.result.finishReason());
            if (req.chat()) {
                Answer answer = answer(c.result);
                ObjectNode message = choice.putObject("message").put("role", "assistant").put("content", answer.content());
                if (!answer.calls().isEmpty()) {
                    message.set("tool_calls", toolCalls(answer.calls()));
                    finish = "tool_calls";
                }
                if (req.logprobs() >= 0) choice.set("logprobs", chatLogprobs(c.logprobs));
                else choice.putNull("logprobs");
            } else {
                String prefix = req.echo() ? req.prompt() : "";
                choice.put("text", prefix + c.result.text());
                if (req.logprobs() >= 0) choice.set("logprobs", completionLogprobs(c.logprobs, c.tokenTexts, prefix.length()));
                else choice.putNull("logprobs");
            }
            choice.put("finish_reason", finish);
        }
        root.set("usage", usage(completionTokens));
        return out;
    }

    /** A stream chunk's choice for a token: its text, and its log-probabilities when asked for; null for nothing. */
    ObjectNode tokenChoice(ObjectNode chunk, TokenEvent t, int textOffset) {
        GeneratedToken token = t.token();
        if (token.text().isEmpty() && token.logprobs() == null) return null;
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", t.choice());
        if (req.chat()) {
            choice.putObject("delta").put("content", token.text());
            if (token.logprobs() != null) choice.set("logprobs", chatLogprobs(List.of(token.logprobs())));
            else choice.putNull("logprobs");
        } else {
            choice.put("text", token.text());
            if (token.logprobs() != null) {
                choice.set("logprobs", completionLogprobs(List.of(token.logprobs()), List.of(tokenText(token.id())), textOffset));
            } else {
                choice.putNull("logprobs");
            }
        }
        choice.putNull("finish_reason");
        return choice;
    }

    /**
     * Whether a streamed choice's text goes through a {@link ToolCallStream} ({@link #toolChoice}): with tools, text
     * may turn out to be a call, which streams as {@code tool_calls} deltas.
     */
    boolean readsToolCalls() {
        return req.toolFormat() != null;
    }

    /** A stream chunk's choice for a token when {@link #readsToolCalls}: content and call deltas, or null for nothing yet. */
    ObjectNode toolChoice(ObjectNode chunk, TokenEvent t) {
        ObjectNode delta = delta(toolStream(t.choice()).feed(streamText(t)));
        if (delta.isEmpty()) return null;
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", t.choice());
        choice.set("delta", delta);
        choice.putNull("logprobs").putNull("finish_reason");
        return choice;
    }

    /** The last chunk of a choice: what a {@link ToolCallStream} held back, and its finish reason. */
    void finishChoice(ObjectNode chunk, DoneEvent d) {
        ObjectNode choice = chunk.putArray("choices").addObject().put("index", d.choice());
        String finish = finishReason(d.result().finishReason());
        if (req.chat()) {
            if (readsToolCalls()) {
                ToolCallStream stream = toolStream(d.choice());
                choice.set("delta", delta(stream.finish()));
                // a call cut short by max_tokens still ends for its length, as OpenAI's does
                if (stream.calls() > 0 && finish.equals("stop")) finish = "tool_calls";
            } else {
                choice.putObject("delta");
            }
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", finish);
    }

    private ToolCallStream toolStream(int choice) {
        return toolStreams.computeIfAbsent(choice, k -> new ToolCallStream(req.toolFormat(), req.parallelToolCalls()));
    }

    /**
     * A token's text for reading tool calls: its streamed text, or a call marker that is a special token (Mistral's
     * {@code [TOOL_CALLS]}, Llama's {@code <|python_tag|>}) and so absent from it. The text flushed at the end repeats
     * the last token's index, and its id is not read again.
     */
    private String streamText(TokenEvent t) {
        GeneratedToken token = t.token();
        Integer last = lastIndex.put(t.choice(), token.index());
        if ((last == null || last != token.index()) && tokenizer.isSpecial(token.id())) {
            String special = tokenizer.decode(new int[]{token.id()}, false);
            if (CALL_MARKERS.contains(special)) return special + token.text();
        }
        return token.text();
    }

    /** Special tokens that the tool call formats write calls with. */
    private static final java.util.Set<String> CALL_MARKERS = java.util.Set.of("<tool_call>", "</tool_call>", "[TOOL_CALLS]", "[ARGS]", "<|python_tag|>");

    /**
     * A chat delta from what a {@link ToolCallStream} let out: the content, and OpenAI's {@code tool_calls} entries
     * (a call's first has its {@code id}, {@code type} and {@code function.name}; then {@code function.arguments}
     * fragments, each entry with the call's {@code index}).
     */
    private static ObjectNode delta(List<ToolCallStream.Delta> deltas) {
        ObjectNode delta = JSON.createObjectNode();
        StringBuilder content = new StringBuilder();
        ArrayNode calls = null;
        ObjectNode lastFunction = null;
        int lastIndex = -1;
        for (ToolCallStream.Delta d : deltas) {
            switch (d) {
                case ToolCallStream.Content c -> content.append(c.text());
                case ToolCallStream.CallStart s -> {
                    if (calls == null) calls = JSON.createArrayNode();
                    ObjectNode call = calls.addObject().put("index", s.index()).put("id", s.id()).put("type", "function");
                    lastFunction = call.putObject("function").put("name", s.name()).put("arguments", "");
                    lastIndex = s.index();
                }
                case ToolCallStream.Arguments a -> {
                    if (lastFunction != null && lastIndex == a.index()) {
                        lastFunction.put("arguments", lastFunction.get("arguments").asText() + a.text());
                    } else {
                        if (calls == null) calls = JSON.createArrayNode();
                        lastFunction = calls.addObject().put("index", a.index()).putObject("function").put("arguments", a.text());
                        lastIndex = a.index();
                    }
                }
            }
        }
        if (!content.isEmpty()) delta.put("content", content.toString());
        if (calls != null) delta.set("tool_calls", calls);
        return delta;
    }

    /** A chat answer: its text, or the text outside its tool calls (null when none) and the calls. */
    private record Answer(String content, List<ChatMessage.ToolCall> calls) {
    }

    private Answer answer(GenerationResult r) {
        if (req.toolFormat() == null) return new Answer(r.text(), List.of());
        ToolCallFormat.Parsed parsed = req.toolFormat().parse(tokenizer.decode(r.tokens(), false));
        if (parsed.calls().isEmpty()) return new Answer(r.text(), List.of());
        List<ChatMessage.ToolCall> calls = req.parallelToolCalls() ? parsed.calls() : parsed.calls().subList(0, 1);
        return new Answer(parsed.content(), calls);
    }

    /** OpenAI's {@code tool_calls} of a whole answer. */
    private static ArrayNode toolCalls(List<ChatMessage.ToolCall> calls) {
        ArrayNode out = JSON.createArrayNode();
        for (int i = 0; i < calls.size(); i++) {
            ChatMessage.ToolCall c = calls.get(i);
            ObjectNode call = out.addObject();
            call.put("id", c.id()).put("type", "function").putObject("function").put("name", c.name()).put("arguments", c.arguments());
        }
        return out;
    }

    /** OpenAI's {@code usage} for this request: the prompt counted once, the completion tokens of every choice. */
    ObjectNode usage(int completionTokens) {
        return JSON.createObjectNode().put("prompt_tokens", req.promptTokens()).put("completion_tokens", completionTokens)
                .put("total_tokens", req.promptTokens() + completionTokens);
    }

    /** The exception a failed choice stands for: bad input stays a 400, anything else a 500. */
    static RuntimeException failure(Throwable cause) {
        if (cause instanceof ExecutionException e && e.getCause() != null) cause = e.getCause();
        if (cause instanceof InvalidRequestException ire) return ire;
        return new IllegalStateException("the request failed: " + cause, cause);
    }

    static String finishReason(FinishReason r) {
        return switch (r) {
            case LENGTH, CONTEXT -> "length";
            case EOS, STOP, CANCELLED -> "stop";
        };
    }

    /**
     * The text of one token as it reads in the middle of a text (a SentencePiece token keeps its leading space), as
     * log-probabilities name tokens; a piece of a multi-byte character reads as U+FFFD.
     */
    private String tokenText(int id) {
        return tokenTexts.computeIfAbsent(id, k -> {
            Tokenizer.StreamingDecoder d = tokenizer.streamingDecoder(false, context);
            return d.next(k) + d.flush();
        });
    }

    /**
     * Completions' shape: parallel lists of token texts, their log-probabilities, their top alternatives (a map from
     * text to log-probability that also holds the chosen token, as vLLM's does) and their offsets in the text.
     */
    private ObjectNode completionLogprobs(List<TokenLogprobs> tokens, List<String> texts, int offset) {
        ObjectNode lp = JSON.createObjectNode();
        ArrayNode names = lp.putArray("tokens"), values = lp.putArray("token_logprobs"), tops = lp.putArray("top_logprobs"),
                offsets = lp.putArray("text_offset");
        for (int i = 0; i < tokens.size(); i++) {
            TokenLogprobs t = tokens.get(i);
            names.add(texts.get(i));
            values.add(t.logprob());
            ObjectNode top = tops.addObject();
            for (TokenLogprobs.Candidate c : t.top()) top.put(tokenText(c.id()), c.logprob());
            if (!top.has(texts.get(i))) top.put(texts.get(i), t.logprob());
            offsets.add(offset);
            offset += texts.get(i).length();
        }
        return lp;
    }

    /** Chat's shape: {@code {content: [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], refusal}}. */
    private ObjectNode chatLogprobs(List<TokenLogprobs> tokens) {
        ObjectNode lp = JSON.createObjectNode();
        ArrayNode content = lp.putArray("content");
        for (TokenLogprobs t : tokens) {
            ObjectNode entry = candidate(content.addObject(), t.id(), t.logprob());
            ArrayNode top = entry.putArray("top_logprobs");
            for (TokenLogprobs.Candidate c : t.top()) candidate(top.addObject(), c.id(), c.logprob());
        }
        lp.putNull("refusal");
        return lp;
    }

    private ObjectNode candidate(ObjectNode node, int id, double logprob) {
        String text = tokenText(id);
        node.put("token", text).put("logprob", logprob);
        ArrayNode bytes = node.putArray("bytes");
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xff);
        return node;
    }

    /** What a non-streamed choice gathers. */
    private final class Choice {
        final List<TokenLogprobs> logprobs = new ArrayList<>();
        final List<String> tokenTexts = new ArrayList<>();
        GenerationResult result;

        void add(GeneratedToken token) {
            if (token.logprobs() == null) return;
            logprobs.add(token.logprobs());
            tokenTexts.add(tokenText(token.id()));
        }
    }
}
