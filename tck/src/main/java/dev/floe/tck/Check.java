package dev.floe.tck;

/**
 * One named check of the kit. The body measures; throwing fails the check with the exception as its message, and
 * {@link Skip} skips it.
 *
 * @param category kernel, spi2, model, behaviour or routing
 * @param name     stable and unique, e.g. {@code kernel.matmul.f16.scalar-scale.rows=3.cols=127}
 */
public record Check(String category, String name, Body body) {
    /** What a check does against the backend under test. */
    @FunctionalInterface
    public interface Body {
        Measurement run(TckContext context) throws Exception;
    }

    /** Thrown by a body when the check does not apply here (a dtype the backend does not declare, no fixture...). */
    public static final class Skip extends RuntimeException {
        public Skip(String reason) {
            super(reason, null, false, false);
        }
    }
}
