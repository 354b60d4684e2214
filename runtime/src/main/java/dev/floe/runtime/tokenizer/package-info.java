/**
 * Hugging Face {@code tokenizer.json} tokenizers and chat templates.
 *
 * <p>{@link dev.floe.runtime.tokenizer.HfTokenizer} implements {@link dev.floe.api.Tokenizer}: the normalizer,
 * pre-tokenizer, BPE model, post-processor and decoder components of {@code tokenizer.json} are small sealed
 * families here ({@code Normalizer}, {@code PreTokenizer}, {@code BpeModel}, {@code PostProcessor}, {@code Decoder});
 * added tokens are matched before normalization as Hugging Face does. {@link dev.floe.runtime.tokenizer.ChatTemplate}
 * renders chat templates as transformers does (with tools and tool messages) through the Jinja engine of
 * {@code dev.floe.runtime.tokenizer.jinja}; a template it cannot render is an error naming the construct and line,
 * and ChatML stands in only where a model has no template or the caller asks for it.
 * Malformed files raise {@link dev.floe.api.ModelFormatException} naming the file, the JSON path and the value.
 */
package dev.floe.runtime.tokenizer;
