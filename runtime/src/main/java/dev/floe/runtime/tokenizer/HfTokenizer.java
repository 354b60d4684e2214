package dev.floe.runtime.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.ChatMessage;
import dev.floe.api.ChatRequest;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelFormatException;
import dev.floe.api.Tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A tokenizer read from a Hugging Face {@code tokenizer.json} (and {@code tokenizer_config.json} when present).
 *
 * <p>Encoding follows the Hugging Face pipeline: added tokens that are not normalized are cut out of the raw text
 * first; every remaining piece is normalized, cut again on normalized added tokens, pre-tokenized into words, and
 * each word is encoded by the BPE model; the post-processor then adds special tokens. Decoding maps ids to token
 * strings (optionally without special tokens) and runs the decoder chain. Instances are immutable and thread-safe.
 */
public final class HfTokenizer implements Tokenizer {

    private static final System.Logger LOG = System.getLogger(HfTokenizer.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String source;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final AddedTokens rawAddedTokens;
    private final AddedTokens normalizedAddedTokens;
    private final String[] idToToken;
    private final boolean[] special;
    private final Map<String, Integer> tokenToId;
    private final OptionalInt bos;
    private final OptionalInt eos;
    private final Map<String, String> specialTokenNames;
    private final String chatTemplateSource;
    private final ChatTemplate chatTemplate;
    private final String chatTemplateProblem;

    private HfTokenizer(String source, JsonAt root, JsonAt config, String templateFile) {
        this.source = source;
        this.normalizer = root.opt("normalizer").map(Normalizer::parse).orElse(null);
        this.preTokenizer = root.opt("pre_tokenizer").map(PreTokenizer::parse).orElse(null);
        this.model = BpeModel.parse(root.get("model"));
        this.decoder = root.opt("decoder").map(Decoder::parse).orElseGet(Decoder.None::new);

        List<AddedTokens.AddedToken> added = new ArrayList<>();
        List<JsonAt> addedJson = root.opt("added_tokens").map(JsonAt::elements).orElse(List.of());
        // ids are dense: none can exceed the number of tokens there are (which also bounds the id -> token table)
        long idLimit = (long) model.vocab().size() + addedJson.size();
        for (JsonAt t : addedJson) {
            int id = t.get("id").integer();
            if (id < 0 || id >= idLimit) throw idOutOfRange(t.get("id"), id, idLimit, addedJson.size());
            added.add(new AddedTokens.AddedToken(id, t.text("content"), t.bool("single_word", false),
                    t.bool("lstrip", false), t.bool("rstrip", false), t.bool("normalized", !t.bool("special", false)),
                    t.bool("special", false)));
        }

        int size = 0;
        for (int id : model.vocab().values()) {
            if (id < 0 || id >= idLimit) throw idOutOfRange(root.get("model").get("vocab"), id, idLimit, addedJson.size());
            size = Math.max(size, id + 1);
        }
        for (var t : added) {
            size = Math.max(size, t.id() + 1);
        }
        idToToken = new String[size];
        special = new boolean[size];
        tokenToId = new HashMap<>(model.vocab());
        model.vocab().forEach((tok, id) -> idToToken[id] = tok);
        for (var t : added) {
            idToToken[t.id()] = t.content();
            special[t.id()] = t.special();
            tokenToId.put(t.content(), t.id());
        }
        rawAddedTokens = new AddedTokens(added.stream().filter(t -> !t.normalized()).toList(),
                AddedTokens.AddedToken::content);
        normalizedAddedTokens = new AddedTokens(added.stream().filter(AddedTokens.AddedToken::normalized).toList(),
                t -> normalizer == null ? t.content() : normalizer.apply(t.content()));

        Optional<JsonAt> cfg = Optional.ofNullable(config);
        specialTokenNames = new HashMap<>();
        for (String name : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
            cfg.flatMap(c -> c.opt(name)).map(HfTokenizer::tokenContent).ifPresent(v -> specialTokenNames.put(name, v));
        }
        PostProcessor post = root.opt("post_processor").map(p -> PostProcessor.parse(p, idToToken.length)).orElseGet(PostProcessor.Identity::new);
        this.bos = specialTokenNames.containsKey("bos_token")
                ? lookup(config, "bos_token")
                : post.leadingSpecialIds().isEmpty() ? OptionalInt.empty() : OptionalInt.of(post.leadingSpecialIds().getFirst());
        this.eos = specialTokenNames.containsKey("eos_token") ? lookup(config, "eos_token") : specialToken("</s>");
        this.postProcessor = llamaOverride(cfg, post);

        this.chatTemplateSource = cfg.flatMap(c -> c.opt("chat_template")).map(HfTokenizer::templateText)
                .orElse(templateFile);
        ChatTemplate parsed = null;
        String problem = null;
        if (chatTemplateSource != null) {
            try {
                parsed = ChatTemplate.parse(chatTemplateSource);
            } catch (ChatTemplate.UnsupportedTemplateException e) {
                problem = e.getMessage();
            }
        }
        this.chatTemplate = parsed;
        this.chatTemplateProblem = problem;
    }

    private ModelFormatException idOutOfRange(JsonAt at, int id, long limit, int addedTokens) {
        return at.error("token id " + id + " is outside [0, " + limit + "), the ids of the " + model.vocab().size()
                + " vocabulary and " + addedTokens + " added tokens");
    }

    /**
     * Reads {@code tokenizer.json} and, if present, {@code tokenizer_config.json} from a model folder. A chat template
     * in {@code chat_template.jinja} (where newer transformers versions save it) is used when the config has none.
     */
    public static HfTokenizer load(Path modelDir) {
        Path tok = modelDir.resolve("tokenizer.json");
        Path cfg = modelDir.resolve("tokenizer_config.json");
        Path jinja = modelDir.resolve("chat_template.jinja");
        return create(read(tok), Files.isRegularFile(cfg) ? read(cfg) : null,
                Files.isRegularFile(jinja) ? read(jinja) : null, tok.toString());
    }

    /**
     * Builds a tokenizer from the text of {@code tokenizer.json} and (nullable) {@code tokenizer_config.json}.
     *
     * @param sourceName the name errors give for the tokenizer file (the config is named after it)
     */
    public static HfTokenizer fromJson(String tokenizerJson, String configJsonOrNull, String sourceName) {
        return create(tokenizerJson, configJsonOrNull, null, sourceName);
    }

    private static HfTokenizer create(String tokenizerJson, String configJsonOrNull, String templateFile,
                                      String sourceName) {
        Objects.requireNonNull(tokenizerJson, "tokenizerJson");
        String configName = sourceName.endsWith("tokenizer.json")
                ? sourceName.substring(0, sourceName.length() - "tokenizer.json".length()) + "tokenizer_config.json"
                : sourceName + " (tokenizer_config.json)";
        JsonAt root = parse(tokenizerJson, sourceName);
        JsonAt config = configJsonOrNull == null ? null : parse(configJsonOrNull, configName);
        return new HfTokenizer(sourceName, root, config, templateFile);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ModelFormatException(file + ": cannot read tokenizer file: " + e, e);
        }
    }

    private static JsonAt parse(String text, String file) {
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject()) {
                throw new ModelFormatException(file + ": expected a JSON object at the top level (value: "
                        + (node == null ? "empty document" : node.getNodeType().toString().toLowerCase(Locale.ROOT)) + ")");
            }
            return new JsonAt(file, "", node);
        } catch (JsonProcessingException e) {
            var loc = e.getLocation();
            throw new ModelFormatException(file + ": invalid JSON" + (loc == null ? "" :
                    " at line " + loc.getLineNr() + " column " + loc.getColumnNr()) + ": " + e.getOriginalMessage(), e);
        }
    }

    /** A special token in tokenizer_config.json is a string or an {@code {"content": ...}} object. */
    private static String tokenContent(JsonAt v) {
        return v.node().isObject() ? v.text("content") : v.text();
    }

    /** {@code chat_template} is a string, or a list of named templates of which "default" is used. */
    private static String templateText(JsonAt v) {
        if (v.node().isTextual()) {
            return v.text();
        }
        for (JsonAt named : v.elements()) {
            if (named.text("name").equals("default")) {
                return named.text("template");
            }
        }
        throw v.error("no template named \"default\"");
    }

    private OptionalInt lookup(JsonAt config, String field) {
        String content = specialTokenNames.get(field);
        Integer id = tokenToId.get(content);
        if (id == null) {
            throw config.get(field).error(field + " is not a token of the vocabulary");
        }
        return OptionalInt.of(id);
    }

    private OptionalInt specialToken(String content) {
        Integer id = tokenToId.get(content);
        return id != null && special[id] ? OptionalInt.of(id) : OptionalInt.empty();
    }

    /**
     * Transformers' LlamaTokenizerFast rebuilds the post-processor from {@code add_bos_token}/{@code add_eos_token}
     * of tokenizer_config.json; do the same so that ids match what transformers produces.
     */
    private PostProcessor llamaOverride(Optional<JsonAt> cfg, PostProcessor post) {
        boolean llama = cfg.map(c -> c.text("tokenizer_class", "")).orElse("").startsWith("Llama");
        if (!llama || cfg.map(c -> !c.has("add_bos_token") && !c.has("add_eos_token")).orElse(true)) {
            return post;
        }
        boolean addBos = cfg.get().bool("add_bos_token", true);
        boolean addEos = cfg.get().bool("add_eos_token", false);
        List<PostProcessor.Piece> single = llamaSequence(addBos, addEos, false);
        List<PostProcessor.Piece> pair = new ArrayList<>(single);
        pair.addAll(llamaSequence(addBos, addEos, true));
        return new PostProcessor.Template(single, pair);
    }

    private List<PostProcessor.Piece> llamaSequence(boolean addBos, boolean addEos, boolean isB) {
        List<PostProcessor.Piece> t = new ArrayList<>();
        if (addBos && bos.isPresent()) {
            t.add(new PostProcessor.Piece.Special(new int[] {bos.getAsInt()}));
        }
        t.add(new PostProcessor.Piece.SequenceRef(isB));
        if (addEos && eos.isPresent()) {
            t.add(new PostProcessor.Piece.Special(new int[] {eos.getAsInt()}));
        }
        return t;
    }

    // ---- encoding ----

    @Override public int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        return postProcessor.process(encodeWithoutPostProcessing(text), null, addSpecialTokens);
    }

    /** Encodes a pair of sequences (the post-processor's pair template applies). */
    public int[] encodePair(String a, String b, boolean addSpecialTokens) {
        return postProcessor.process(encodeWithoutPostProcessing(a), encodeWithoutPostProcessing(b), addSpecialTokens);
    }

    /** The token strings of an encoding, for inspection. */
    public List<String> tokens(String text, boolean addSpecialTokens) {
        return java.util.Arrays.stream(encode(text, addSpecialTokens)).mapToObj(this::tokenString).toList();
    }

    private int[] encodeWithoutPostProcessing(String text) {
        IntBuffer out = new IntBuffer(text.length() / 3 + 4);
        for (AddedTokens.Segment raw : rawAddedTokens.split(text)) {
            if (raw.tokenId() >= 0) {
                out.add(raw.tokenId());
                continue;
            }
            String piece = text.substring(raw.start(), raw.end());
            String normalized = normalizer == null ? piece : normalizer.apply(piece);
            for (AddedTokens.Segment seg : normalizedAddedTokens.split(normalized)) {
                if (seg.tokenId() >= 0) {
                    out.add(seg.tokenId());
                } else {
                    encodeWords(new PreTokenizer.Piece(normalized.substring(seg.start(), seg.end()),
                            raw.start() == 0 && seg.start() == 0), out);
                }
            }
        }
        return out.toArray();
    }

    private void encodeWords(PreTokenizer.Piece piece, IntBuffer out) {
        if (preTokenizer == null) {
            out.addAll(model.encode(piece.text()));
            return;
        }
        for (PreTokenizer.Piece word : preTokenizer.splitAll(List.of(piece))) {
            out.addAll(model.encode(word.text()));
        }
    }

    // ---- decoding ----

    @Override public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String t = token(id);
            if (!(skipSpecialTokens && special[id])) {
                tokens.add(t);
            }
        }
        return decoder.decode(tokens);
    }

    String decode(List<Integer> ids, boolean skipSpecialTokens) {
        return decode(ids.stream().mapToInt(Integer::intValue).toArray(), skipSpecialTokens);
    }

    private String token(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new InvalidRequestException("token id " + id + " is outside the vocabulary of " + source
                    + " (vocabulary size " + idToToken.length + ")");
        }
        return idToToken[id];
    }

    @Override public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamDecoder(this, skipSpecialTokens, new int[0]);
    }

    /**
     * A streaming decoder that continues after {@code context} (for example the prompt): the first generated token
     * is decoded as it would be in the middle of the text, so a leading space is kept rather than stripped as at the
     * start of a text. The context itself is not emitted.
     */
    @Override
    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens, int[] context) {
        return new StreamDecoder(this, skipSpecialTokens, context.clone());
    }

    // ---- vocabulary ----

    @Override public int vocabSize() {
        return idToToken.length;
    }

    @Override public String tokenString(int id) {
        return token(id);
    }

    @Override public OptionalInt tokenId(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override public boolean isSpecial(int id) {
        token(id);
        return special[id];
    }

    @Override public OptionalInt bosId() {
        return bos;
    }

    @Override public OptionalInt eosId() {
        return eos;
    }

    // ---- chat ----

    @Override public Optional<String> chatTemplate() {
        return Optional.ofNullable(chatTemplateSource);
    }

    @Override public Optional<String> chatTemplateProblem() {
        return Optional.ofNullable(chatTemplateProblem);
    }

    /**
     * Renders the conversation with the model's chat template, or ChatML when the model has none. A template Floe
     * cannot render is an {@link ChatTemplate.UnsupportedTemplateException} naming the construct and line; a
     * template's {@code raise_exception(...)} is an {@link InvalidRequestException}.
     */
    @Override public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Objects.requireNonNull(messages, "messages");
        return applyChatTemplate(ChatRequest.of(messages).withGenerationPrompt(addGenerationPrompt));
    }

    /**
     * Renders a conversation with tools and variables as transformers' {@code apply_chat_template} does. ChatML
     * stands in only where the model has no template, or where the request asks for the fallback and the template
     * cannot be rendered (which is logged).
     */
    @Override public String applyChatTemplate(ChatRequest request) {
        Objects.requireNonNull(request, "request");
        if (chatTemplateSource == null) {
            if (!request.tools().isEmpty()) {
                throw new InvalidRequestException(source + " has no chat template, and ChatML has no way to describe"
                        + " tools");
            }
            return ChatTemplate.chatMl(request.messages(), request.addGenerationPrompt());
        }
        try {
            if (chatTemplate == null) {
                throw new ChatTemplate.UnsupportedTemplateException(source + ": " + chatTemplateProblem);
            }
            Map<String, Object> variables = new HashMap<>(specialTokenNames);
            variables.putAll(request.variables());
            return chatTemplate.render(request.messages(), request.tools(), request.addGenerationPrompt(), variables);
        } catch (ChatTemplate.UnsupportedTemplateException e) {
            if (!request.chatMlFallback()) {
                throw e;
            }
            LOG.log(System.Logger.Level.WARNING, "{0}; using ChatML as the request asked", e.getMessage());
            return ChatTemplate.chatMl(request.messages(), request.addGenerationPrompt());
        }
    }

    @Override public String toString() {
        return "HfTokenizer[" + source + ", " + vocabSize() + " ids]";
    }
}
