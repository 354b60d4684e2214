package dev.floe.cli.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads tool calls out of a chat answer while it streams, so that a stream carries them as OpenAI's does: a call's
 * first delta has its id, type and function name, then its {@code arguments} follow in fragments as the model writes
 * them. Text before the first call streams as content, except what may be the start of a call's marker (and trailing
 * whitespace), which is held until the next text tells. The calls are recognised as {@link ToolCallFormat#parse}
 * reads them after the fact; where the model writes something that does not look like a call in progress (for
 * example the arguments before the name), nothing more streams and the whole answer is parsed at the end, as without
 * streaming.
 */
final class ToolCallStream {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A JSON call's head, up to its arguments' value: {@code {"name": "...", "arguments": }} ("parameters" for Llama). */
    private static final Pattern JSON_HEAD = Pattern.compile("\\s*\\{\\s*\"name\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"\\s*,\\s*\"(?:arguments|parameters)\"\\s*:\\s*");
    /** A newer Mistral call's head: {@code name[ARGS]}. */
    private static final Pattern ARGS_HEAD = Pattern.compile("\\s*([^\\s\\[\\]{}\"]+)\\[ARGS]\\s*");
    private static final String HERMES_OPEN = "<tool_call>", MISTRAL_OPEN = "[TOOL_CALLS]", PYTHON_TAG = "<|python_tag|>";

    /** What goes out: text, the start of a call, or a fragment of a call's arguments. */
    sealed interface Delta {
    }

    record Content(String text) implements Delta {
    }

    record CallStart(int index, String id, String name) implements Delta {
    }

    record Arguments(int index, String text) implements Delta {
    }

    private enum Phase {
        /** Text that may still turn into a call. */
        TEXT,
        /** Mistral, after its marker: a list of JSON calls or {@code name[ARGS]} calls. */
        AFTER_MARKER,
        /** Reading a call's head. */
        HEAD,
        /** Inside a call's arguments. */
        ARGUMENTS,
        /** Between calls: only another call's start matters. */
        BETWEEN,
        /** Llama's answer did not start with a call: it is all text. */
        CONTENT,
        /** Not a call in progress after all: the answer is parsed whole at the end. */
        DEFERRED
    }

    private final ToolCallFormat format;
    private final boolean parallel;
    private final StringBuilder raw = new StringBuilder();
    /** What {@code raw} up to here has been dealt with. */
    private int pos;
    /** Up to where {@code raw} went out as content. */
    private int contentEnd;
    private Phase phase = Phase.TEXT;
    private boolean mistralArgsStyle;
    /** Calls started (also those that do not go out because only one is wanted). */
    private int calls;
    private boolean contentStarted;
    private final ArgumentsScanner scanner = new ArgumentsScanner();

    ToolCallStream(ToolCallFormat format, boolean parallel) {
        this.format = format;
        this.parallel = parallel;
    }

    /** The calls that went out. */
    int calls() {
        return parallel ? calls : Math.min(calls, 1);
    }

    /** Takes the next piece of the answer's text and says what may go out now. */
    List<Delta> feed(String text) {
        raw.append(text);
        List<Delta> out = new ArrayList<>();
        while (true) {
            Phase before = phase;
            int at = pos;
            step(out);
            if (phase == before && pos == at) return out; // waiting for more text
        }
    }

    /** The end of the answer: what was held back, and the calls of an answer that was deferred to here. */
    List<Delta> finish() {
        List<Delta> out = new ArrayList<>();
        switch (phase) {
            case TEXT, CONTENT, AFTER_MARKER -> {
                if (phase == Phase.AFTER_MARKER || calls == 0) content(out, contentEnd, raw.length(), phase != Phase.CONTENT);
            }
            case HEAD, DEFERRED -> {
                ToolCallFormat.Parsed parsed = format.parse(raw.toString());
                List<ChatMessage.ToolCall> whole = parsed.calls();
                if (whole.isEmpty() && calls == 0) {
                    content(out, contentEnd, raw.length(), false); // not a call: the model's text, as written
                }
                for (int i = calls; i < whole.size() && (parallel || i == 0); i++) {
                    out.add(new CallStart(i, whole.get(i).id(), whole.get(i).name()));
                    out.add(new Arguments(i, whole.get(i).arguments()));
                }
                calls = Math.max(calls, whole.size());
            }
            case ARGUMENTS, BETWEEN -> {
                // a call cut short stays as far as it went
            }
        }
        return out;
    }

    private void step(List<Delta> out) {
        switch (phase) {
            case TEXT -> text(out);
            case AFTER_MARKER -> {
                int i = skipWhitespace(pos);
                if (i == raw.length()) return;
                mistralArgsStyle = raw.charAt(i) != '[';
                pos = mistralArgsStyle ? i : i + 1;
                phase = Phase.HEAD;
            }
            case HEAD -> head(out);
            case ARGUMENTS -> {
                int end = scanner.scan(raw, pos);
                int to = end < 0 ? raw.length() : end;
                String fragment = scanner.fragment(raw, pos, to, end >= 0);
                if (!fragment.isEmpty() && emitting()) out.add(new Arguments(calls - 1, fragment));
                pos = to;
                if (end >= 0) phase = Phase.BETWEEN;
            }
            case BETWEEN -> {
                String next = switch (format) {
                    case HERMES -> HERMES_OPEN;
                    case MISTRAL -> mistralArgsStyle ? MISTRAL_OPEN : "{";
                    case LLAMA3_JSON -> "{";
                };
                int at = raw.indexOf(next, pos);
                if (at < 0) return;
                pos = next.equals("{") ? at : at + next.length();
                phase = Phase.HEAD;
            }
            case CONTENT -> {
                content(out, pos, raw.length(), false);
                pos = raw.length();
            }
            case DEFERRED -> pos = raw.length();
        }
    }

    /** Text before any call: it goes out, but for what could be the start of a call. */
    private void text(List<Delta> out) {
        if (format == ToolCallFormat.LLAMA3_JSON) {
            // a Llama answer is either calls from its first character or text
            int i = skipWhitespace(pos);
            String rest = raw.substring(i);
            if (rest.isEmpty() || (PYTHON_TAG.startsWith(rest))) return;
            if (rest.startsWith(PYTHON_TAG)) {
                pos = i + PYTHON_TAG.length();
                phase = Phase.HEAD;
            } else if (rest.startsWith("{")) {
                pos = i;
                phase = Phase.HEAD;
            } else {
                phase = Phase.CONTENT;
            }
            return;
        }
        String marker = format == ToolCallFormat.HERMES ? HERMES_OPEN : MISTRAL_OPEN;
        int at = raw.indexOf(marker, pos);
        if (at >= 0) {
            content(out, pos, at, true);
            pos = at + marker.length();
            phase = format == ToolCallFormat.HERMES ? Phase.HEAD : Phase.AFTER_MARKER;
            return;
        }
        int safe = raw.length() - heldPrefix(marker);
        while (safe > pos && Character.isWhitespace(raw.charAt(safe - 1))) safe--;
        content(out, pos, safe, false);
        pos = safe;
    }

    private void head(List<Delta> out) {
        Matcher m = (mistralArgsStyle ? ARGS_HEAD : JSON_HEAD).matcher(raw).region(pos, raw.length());
        if (!m.lookingAt()) {
            if (!m.hitEnd()) phase = Phase.DEFERRED; // it can no longer become a call's head
            return;
        }
        String name = m.group(1);
        if (!mistralArgsStyle) {
            try {
                name = JSON.readValue("\"" + name + "\"", String.class);
            } catch (JsonProcessingException e) {
                phase = Phase.DEFERRED;
                return;
            }
        }
        calls++;
        if (emitting()) out.add(new CallStart(calls - 1, ToolCallFormat.newId(), name));
        scanner.reset();
        pos = m.end();
        phase = Phase.ARGUMENTS;
    }

    private boolean emitting() {
        return parallel || calls == 1;
    }

    /** Sends {@code raw[from, to)} as content; leading whitespace of the answer, and trailing where asked, stay out. */
    private void content(List<Delta> out, int from, int to, boolean stripTrailing) {
        if (stripTrailing) while (to > from && Character.isWhitespace(raw.charAt(to - 1))) to--;
        if (!contentStarted) while (from < to && Character.isWhitespace(raw.charAt(from))) from++;
        if (from < to) {
            out.add(new Content(raw.substring(from, to)));
            contentStarted = true;
        }
        contentEnd = Math.max(contentEnd, to);
    }

    /** The length of the longest end of the text that begins {@code marker}. */
    private int heldPrefix(String marker) {
        for (int n = Math.min(marker.length() - 1, raw.length() - pos); n > 0; n--) {
            if (marker.startsWith(raw.substring(raw.length() - n))) return n;
        }
        return 0;
    }

    private int skipWhitespace(int i) {
        while (i < raw.length() && Character.isWhitespace(raw.charAt(i))) i++;
        return i;
    }

    /**
     * Finds where a JSON value ends in a growing text: an object or list by its brackets (strings skipped), a
     * string by its closing quote, anything else by the first delimiter after it.
     */
    private static final class ArgumentsScanner {
        private int depth;
        private boolean inString, escaped, begun;
        private char kind;
        private int valueStart;

        void reset() {
            depth = 0;
            inString = escaped = begun = false;
        }

        /** The index just past the value's end, or -1 when the value goes on past the text. */
        int scan(CharSequence s, int from) {
            for (int i = from; i < s.length(); i++) {
                char c = s.charAt(i);
                if (!begun) {
                    if (Character.isWhitespace(c)) continue;
                    begun = true;
                    kind = c;
                    valueStart = i;
                    if (c == '"') {
                        inString = true;
                        continue;
                    }
                }
                if (inString) {
                    if (escaped) escaped = false;
                    else if (c == '\\') escaped = true;
                    else if (c == '"') {
                        inString = false;
                        if (kind == '"') return i + 1;
                    }
                    continue;
                }
                switch (c) {
                    case '"' -> inString = true;
                    case '{', '[' -> depth++;
                    case '}', ']' -> {
                        if (kind != '{' && kind != '[') return i; // a bare value ends at its container's end
                        if (--depth == 0) return i + 1;
                    }
                    case ',' -> {
                        if (kind != '{' && kind != '[') return i;
                    }
                    default -> {
                        if (Character.isWhitespace(c) && kind != '{' && kind != '[') return i;
                    }
                }
            }
            return -1;
        }

        /**
         * What of {@code s[from, to)} goes out: an object's or list's text as written (leading whitespace left
         * out); a string's value whole, unquoted, once it has ended (OpenAI's arguments are a JSON text).
         */
        String fragment(CharSequence s, int from, int to, boolean ended) {
            if (!begun) return "";
            if (kind != '"') return s.subSequence(Math.max(from, valueStart), to).toString();
            if (!ended) return "";
            try {
                return JSON.readValue(s.subSequence(valueStart, to).toString(), String.class);
            } catch (JsonProcessingException e) {
                return s.subSequence(valueStart, to).toString();
            }
        }
    }
}
