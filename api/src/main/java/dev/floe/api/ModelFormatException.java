package dev.floe.api;

/** A checkpoint, config or tokenizer file is malformed or does not match the model it describes. */
public class ModelFormatException extends FloeException {
    public ModelFormatException(String message) {
        super(message);
    }

    public ModelFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
