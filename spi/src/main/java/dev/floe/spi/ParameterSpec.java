package dev.floe.spi;

/**
 * One typed parameter of a pluggable strategy. {@link Parameters} rejects a value that does not parse as its type.
 *
 * @param name         the key in {@code NAME:key=value}
 * @param type         its type: {@link #INT}, {@link #LONG}, {@link #DOUBLE}, {@link #BOOLEAN} or {@link #STRING}
 *                     (anything else is read as a string)
 * @param defaultValue the value used when absent, as text
 * @param description  one line for help texts
 */
public record ParameterSpec(String name, String type, String defaultValue, String description) {
    public static final String INT = "int";
    public static final String LONG = "long";
    public static final String DOUBLE = "double";
    public static final String BOOLEAN = "boolean";
    public static final String STRING = "string";

    /** {@code name: type = default  description}, as {@code floe routers} prints it. */
    public String describe() {
        return name + " (" + type + ", default " + defaultValue + "): " + description;
    }
}
