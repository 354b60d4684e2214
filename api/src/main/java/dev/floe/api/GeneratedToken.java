package dev.floe.api;

/**
 * One token as it is produced.
 *
 * @param id    the token id
 * @param text  the text it completes (may be empty while a multi-byte character is incomplete)
 * @param index 0 for the first generated token
 */
public record GeneratedToken(int id, String text, int index) {
}
