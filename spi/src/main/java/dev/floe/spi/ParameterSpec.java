package dev.floe.spi;

/**
 * One typed parameter of a pluggable strategy.
 *
 * @param name         the key in {@code NAME:key=value}
 * @param type         its type: {@code int}, {@code double}, {@code boolean}, {@code long} or {@code string}
 * @param defaultValue the value used when absent, as text
 * @param description  one line for help texts
 */
public record ParameterSpec(String name, String type, String defaultValue, String description) {
}
