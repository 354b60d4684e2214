package dev.floe.runtime.tokenizer;

import dev.floe.api.InvalidRequestException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The {@code post_processor} of {@code tokenizer.json}: adds special tokens around encoded sequences. */
sealed interface PostProcessor {

    /**
     * Combines the ids of sequence A and (if not null) B.
     *
     * @param addSpecialTokens whether special tokens are added; when false, A and B are simply concatenated
     */
    int[] process(int[] a, int[] b, boolean addSpecialTokens);

    /** The ids this processor may add (used to tell the tokenizer's BOS when tokenizer_config.json is absent). */
    default List<Integer> leadingSpecialIds() {
        return List.of();
    }

    /** One element of a template: a special token's ids, or the place of sequence A or B. */
    sealed interface Piece {
        record Special(int[] ids) implements Piece {}

        record SequenceRef(boolean isB) implements Piece {}
    }

    /** Hugging Face's TemplateProcessing, e.g. {@code <s> $A} for Llama. Type ids are not needed and dropped. */
    record Template(List<Piece> single, List<Piece> pair) implements PostProcessor {
        @Override public int[] process(int[] a, int[] b, boolean addSpecialTokens) {
            if (!addSpecialTokens) {
                return concat(a, b);
            }
            if (b != null && pair.isEmpty()) {
                throw new InvalidRequestException("the tokenizer's TemplateProcessing has no \"pair\" template");
            }
            List<Piece> template = b == null ? single : pair;
            IntBuffer out = new IntBuffer(a.length + (b == null ? 0 : b.length) + 4);
            for (Piece p : template) {
                switch (p) {
                    case Piece.Special s -> out.addAll(s.ids());
                    case Piece.SequenceRef r -> out.addAll(r.isB() ? (b == null ? new int[0] : b) : a);
                }
            }
            return out.toArray();
        }

        @Override public List<Integer> leadingSpecialIds() {
            List<Integer> ids = new ArrayList<>();
            for (Piece p : single) {
                if (!(p instanceof Piece.Special s)) {
                    break;
                }
                for (int id : s.ids()) {
                    ids.add(id);
                }
            }
            return ids;
        }

        static Template parse(JsonAt json, int vocabSize) {
            Map<String, int[]> specials = new HashMap<>();
            json.opt("special_tokens").ifPresent(st -> {
                if (!st.node().isObject()) {
                    throw st.error("expected an object of name -> {id, ids, tokens}");
                }
                for (var e : st.node().properties()) {
                    JsonAt tok = new JsonAt(st.file(), st.path() + "[\"" + e.getKey() + "\"]", e.getValue());
                    specials.put(e.getKey(), tok.elements("ids").stream().mapToInt(id -> tokenId(id, vocabSize)).toArray());
                }
            });
            return new Template(pieces(json.get("single"), specials),
                    json.has("pair") ? pieces(json.get("pair"), specials) : List.of());
        }

        private static List<Piece> pieces(JsonAt template, Map<String, int[]> specials) {
            List<Piece> out = new ArrayList<>();
            for (JsonAt p : template.elements()) {
                if (p.has("SpecialToken")) {
                    JsonAt id = p.get("SpecialToken").get("id");
                    int[] ids = specials.get(id.text());
                    if (ids == null) {
                        throw id.error("special token is not listed in post_processor.special_tokens");
                    }
                    out.add(new Piece.Special(ids));
                } else if (p.has("Sequence")) {
                    JsonAt id = p.get("Sequence").get("id");
                    switch (id.text()) {
                        case "A" -> out.add(new Piece.SequenceRef(false));
                        case "B" -> out.add(new Piece.SequenceRef(true));
                        default -> throw id.error("sequence id must be A or B");
                    }
                } else {
                    throw p.error("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
                }
            }
            return out;
        }
    }

    /** BERT-style {@code cls A sep (B sep)} or RoBERTa-style {@code cls A sep (sep B sep)}. */
    record ClsSep(int cls, int sep, boolean roberta) implements PostProcessor {
        @Override public int[] process(int[] a, int[] b, boolean addSpecialTokens) {
            if (!addSpecialTokens) {
                return concat(a, b);
            }
            IntBuffer out = new IntBuffer(a.length + (b == null ? 0 : b.length) + 4);
            out.add(cls);
            out.addAll(a);
            out.add(sep);
            if (b != null) {
                if (roberta) {
                    out.add(sep);
                }
                out.addAll(b);
                out.add(sep);
            }
            return out.toArray();
        }

        @Override public List<Integer> leadingSpecialIds() {
            return List.of(cls);
        }

        static ClsSep parse(JsonAt json, int vocabSize, boolean roberta) {
            return new ClsSep(tokenId(json.get("cls").elements().get(1), vocabSize),
                    tokenId(json.get("sep").elements().get(1), vocabSize), roberta);
        }
    }

    /** Post-processors that add no ids (ByteLevel only trims offsets). */
    record Identity() implements PostProcessor {
        @Override public int[] process(int[] a, int[] b, boolean addSpecialTokens) {
            return concat(a, b);
        }
    }

    /** Several processors in turn; only one of them is expected to add ids. */
    record Sequence(List<PostProcessor> processors) implements PostProcessor {
        @Override public int[] process(int[] a, int[] b, boolean addSpecialTokens) {
            for (PostProcessor p : processors) {
                if (!(p instanceof Identity)) {
                    return p.process(a, b, addSpecialTokens);
                }
            }
            return concat(a, b);
        }

        @Override public List<Integer> leadingSpecialIds() {
            return processors.stream().map(PostProcessor::leadingSpecialIds).filter(l -> !l.isEmpty()).findFirst()
                    .orElse(List.of());
        }
    }

    private static int[] concat(int[] a, int[] b) {
        if (b == null) {
            return a;
        }
        int[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Parses a post-processor whose ids must lie in a vocabulary of {@code vocabSize} ids. */
    static PostProcessor parse(JsonAt json, int vocabSize) {
        String type = json.text("type");
        return switch (type) {
            case "TemplateProcessing" -> Template.parse(json, vocabSize);
            case "ByteLevel" -> new Identity();
            case "BertProcessing" -> ClsSep.parse(json, vocabSize, false);
            case "RobertaProcessing" -> ClsSep.parse(json, vocabSize, true);
            case "Sequence" -> new Sequence(json.elements("processors").stream().map(p -> parse(p, vocabSize)).toList());
            default -> throw json.get("type").error("unsupported post_processor type");
        };
    }

    private static int tokenId(JsonAt at, int vocabSize) {
        int id = at.integer();
        if (id < 0 || id >= vocabSize) throw at.error("token id " + id + " is outside the vocabulary of " + vocabSize + " ids");
        return id;
    }
}
