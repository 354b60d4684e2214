package dev.floe.api;

/** A request or argument is out of range (empty prompt, token id outside the vocabulary, too long a prompt...). */
public class InvalidRequestException extends FloeException {
    public InvalidRequestException(String message) {
        super(message);
    }
}
