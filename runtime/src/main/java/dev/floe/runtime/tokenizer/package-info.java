/**
 * Hugging Face {@code tokenizer.json} tokenizers and chat templates.
 *
 * <p>{@link dev.floe.runtime.tokenizer.HfTokenizer} implements {@link dev.floe.api.Tokenizer}: the normalizer,
 * pre-tokenizer, BPE model, post-processor and decoder components of {@code tokenizer.json} are small sealed
 * families here ({@code Normalizer}, {@code PreTokenizer}, {@code BpeModel}, {@code PostProcessor}, {@code Decoder});
 * added tokens are matched before normalization as Hugging Face does. {@link dev.floe.runtime.tokenizer.ChatTemplate}
 * interprets the Jinja subset chat templates use; templates outside it fall back to ChatML with a warning.
 * Malformed files raise {@link dev.floe.api.ModelFormatException} naming the file, the JSON path and the value.
 */
package dev.floe.runtime.tokenizer;
