package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tool calls read while the answer streams, in pieces of every size: the same calls as reading the whole answer. */
class ToolCallStreamTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** What a stream let out, put back together. */
    record Streamed(String content, List<String> names, List<String> arguments, List<String> ids, int callDeltas, int argumentDeltas) {
    }

    static Streamed stream(ToolCallFormat format, boolean parallel, List<String> pieces) {
        ToolCallStream s = new ToolCallStream(format, parallel);
        List<ToolCallStream.Delta> all = new ArrayList<>();
        for (String p : pieces) {
            List<ToolCallStream.Delta> out = s.feed(p);
            for (ToolCallStream.Delta d : out) {
                if (d instanceof ToolCallStream.Content c) {
                    for (String marker : List.of("<tool_call>", "[TOOL_CALLS]", "<|python_tag|>")) {
                        assertFalse(c.text().contains(marker), "a marker went out as content: " + c.text());
                    }
                }
            }
            all.addAll(out);
        }
        all.addAll(s.finish());
        StringBuilder content = new StringBuilder();
        List<String> names = new ArrayList<>(), args = new ArrayList<>(), ids = new ArrayList<>();
        int argumentDeltas = 0;
        for (ToolCallStream.Delta d : all) {
            switch (d) {
                case ToolCallStream.Content c -> content.append(c.text());
                case ToolCallStream.CallStart c -> {
                    assertEquals(names.size(), c.index(), "calls are numbered in order");
                    names.add(c.name());
                    ids.add(c.id());
                    args.add("");
                }
                case ToolCallStream.Arguments a -> {
                    assertEquals(names.size() - 1, a.index(), "arguments follow their call's start");
                    args.set(a.index(), args.get(a.index()) + a.text());
                    argumentDeltas++;
                }
            }
        }
        assertEquals(s.calls(), names.size());
        return new Streamed(content.isEmpty() ? null : content.toString(), names, args, ids, names.size(), argumentDeltas);
    }

    /** {@code text} cut at random places (one character a piece, whole, and random sizes). */
    static List<List<String>> cuts(String text, long seed) {
        List<List<String>> out = new ArrayList<>();
        out.add(List.of(text));
        out.add(text.chars().mapToObj(c -> String.valueOf((char) c)).toList());
        SplittableRandom r = new SplittableRandom(seed);
        for (int k = 0; k < 20; k++) {
            List<String> pieces = new ArrayList<>();
            for (int i = 0; i < text.length(); ) {
                int n = Math.min(text.length() - i, 1 + r.nextInt(6));
                pieces.add(text.substring(i, i + n));
                i += n;
            }
            out.add(pieces);
        }
        return out;
    }

    static void assertSameAsWhole(ToolCallFormat format, String text) throws Exception {
        assertSameAsWhole(format, text, false);
    }

    /** @param incremental whether the calls' arguments (JSON objects written name first) must stream in fragments */
    static void assertSameAsWhole(ToolCallFormat format, String text, boolean incremental) throws Exception {
        ToolCallFormat.Parsed whole = format.parse(text);
        for (List<String> pieces : cuts(text, text.hashCode())) {
            Streamed s = stream(format, true, pieces);
            String where = format + " in " + pieces.size() + " pieces: " + text;
            assertEquals(whole.content(), s.content() == null ? null : s.content().strip().isEmpty() ? null : s.content().strip(), where);
            assertEquals(whole.calls().stream().map(ChatMessage.ToolCall::name).toList(), s.names(), where);
            for (int i = 0; i < s.names().size(); i++) {
                assertEquals(JSON.readTree(whole.calls().get(i).arguments()), JSON.readTree(s.arguments().get(i)), where);
                assertTrue(s.ids().get(i).startsWith("call_"), where);
            }
            if (incremental && pieces.size() == text.length()) {
                assertTrue(s.argumentDeltas() > s.names().size(), "one character a piece, the arguments come in many fragments: " + where);
            }
        }
    }

    @Test
    void callsStreamAsTheWholeAnswerReadsThem() throws Exception {
        assertSameAsWhole(ToolCallFormat.HERMES, "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo \\\"N\\\" {x}\", \"days\": [1, 2]}}\n</tool_call>\n"
                + "<tool_call>{\"name\": \"ping\", \"arguments\": {}}</tool_call>", true);
        assertSameAsWhole(ToolCallFormat.HERMES, "<tool_call>\n{\"name\": \"p\\u00e9\", \"arguments\": \"{\\\"a\\\": 1}\"}\n</tool_call>");
        assertSameAsWhole(ToolCallFormat.HERMES, "Just text, with a < and a <tool and <tool_cal.");
        assertSameAsWhole(ToolCallFormat.LLAMA3_JSON, "<|python_tag|>{\"name\": \"a\", \"parameters\": {\"x\": 1}}; {\"name\": \"b\", \"parameters\": {}}", true);
        assertSameAsWhole(ToolCallFormat.LLAMA3_JSON, "  {\"name\": \"a\", \"parameters\": {\"x\": {\"y\": [\"}\"]}}}", true);
        assertSameAsWhole(ToolCallFormat.LLAMA3_JSON, "plain answer {with braces}");
        assertSameAsWhole(ToolCallFormat.MISTRAL, "Sure. [TOOL_CALLS] [{\"name\": \"a\", \"arguments\": {\"q\": \"z\"}}, {\"name\": \"b\", \"arguments\": {\"n\": 2}}]", true);
        assertSameAsWhole(ToolCallFormat.MISTRAL, "[TOOL_CALLS]a[ARGS]{\"q\": 1}[TOOL_CALLS]b[ARGS]{}", true);
    }

    @Test
    void whatIsNotACallInProgressIsReadWholeAtTheEnd() throws Exception {
        // arguments before the name: no call can be streamed, the whole answer is read at its end
        String late = "<tool_call>{\"arguments\": {\"x\": 1}, \"name\": \"late\"}</tool_call>";
        assertSameAsWhole(ToolCallFormat.HERMES, late);
        Streamed s = stream(ToolCallFormat.HERMES, true, List.of(late));
        assertEquals(List.of("late"), s.names());
        // a JSON answer that is no call stays text (Llama writes calls as bare JSON objects)
        assertSameAsWhole(ToolCallFormat.LLAMA3_JSON, "{\"answer\": 42}");
        assertEquals("{\"answer\": 42}", stream(ToolCallFormat.LLAMA3_JSON, true, List.of("{\"ans", "wer\": 42}")).content());
        // a malformed call stays text, as without streaming
        assertSameAsWhole(ToolCallFormat.HERMES, "<tool_call>{\"name\": oops</tool_call>");
    }

    @Test
    void textBeforeACallStreamsButAMarkerIsHeldBack() {
        ToolCallStream s = new ToolCallStream(ToolCallFormat.HERMES, true);
        assertEquals(List.of(new ToolCallStream.Content("Checking")), s.feed("Checking"));
        assertEquals(List.of(), s.feed(" <tool"), "a space and what may begin <tool_call> wait");
        assertEquals(List.of(new ToolCallStream.Content(" <toolbox")), s.feed("box"), "it was text after all");
        List<ToolCallStream.Delta> start = s.feed("\n<tool_call>{\"name\": \"f\", \"arguments\": {\"a\"");
        assertEquals(2, start.size(), start.toString());
        assertTrue(start.getFirst() instanceof ToolCallStream.CallStart c && c.name().equals("f") && c.index() == 0);
        assertEquals(new ToolCallStream.Arguments(0, "{\"a\""), start.get(1));
        assertEquals(List.of(new ToolCallStream.Arguments(0, ": 1}")), s.feed(": 1}}\n</tool_call> trailing"));
        assertEquals(List.of(), s.finish(), "text after the calls is dropped, as without streaming");
        assertEquals(1, s.calls());
        // only the first call when parallel calls are off
        Streamed one = stream(ToolCallFormat.HERMES, false, List.of("<tool_call>{\"name\": \"a\", \"arguments\": {}}</tool_call><tool_call>{\"name\": \"b\", \"arguments\": {}}</tool_call>"));
        assertEquals(List.of("a"), one.names());
        assertNull(stream(ToolCallFormat.MISTRAL, true, List.of("[TOOL_CALLS]", "a[ARGS]", "{}")).content());
    }
}
