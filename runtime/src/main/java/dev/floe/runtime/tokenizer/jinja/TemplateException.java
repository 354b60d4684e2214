package dev.floe.runtime.tokenizer.jinja;

/** A template that cannot be parsed or rendered; {@link #line()} is the template line at fault (1-based, 0 if unknown). */
public sealed class TemplateException extends RuntimeException
        permits TemplateException.Unsupported, TemplateException.Raised, TemplateException.Failed {

    private final int line;

    TemplateException(String message, int line) {
        super(line > 0 ? message + " (template line " + line + ")" : message);
        this.line = line;
    }

    public int line() {
        return line;
    }

    /**
     * The template uses something this engine does not implement, or that Jinja2 itself rejects when it compiles the
     * template (an unknown filter or test, a malformed tag). The message names the construct.
     */
    public static final class Unsupported extends TemplateException {
        public Unsupported(String construct, int line) {
            super(construct, line);
        }
    }

    /** The template called {@code raise_exception(message)}: it refuses this conversation. */
    public static final class Raised extends TemplateException {
        private final String templateMessage;

        public Raised(String templateMessage, int line) {
            super(templateMessage, line);
            this.templateMessage = templateMessage;
        }

        /** The message the template raised, as it gave it. */
        public String templateMessage() {
            return templateMessage;
        }
    }

    /**
     * Rendering failed where Jinja2 fails too: an attribute of an undefined value, a type error such as
     * {@code 'a' + none}, an unsafe operation the sandbox forbids.
     */
    public static final class Failed extends TemplateException {
        public Failed(String message, int line) {
            super(message, line);
        }
    }
}
