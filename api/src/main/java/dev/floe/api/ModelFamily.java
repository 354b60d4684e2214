package dev.floe.api;

/** The model families Floe runs; they differ in layer wiring and router renormalisation (spec sections 3 and 4). */
public enum ModelFamily {
    ARCTIC("arctic"), MIXTRAL("mixtral");

    private final String modelType;

    ModelFamily(String modelType) {
        this.modelType = modelType;
    }

    /** The {@code model_type} value of {@code config.json}. */
    public String modelType() {
        return modelType;
    }

    /** Looks up a family by its {@code model_type}, or returns null. */
    public static ModelFamily fromModelType(String type) {
        for (ModelFamily f : values()) {
            if (f.modelType.equals(type)) return f;
        }
        return null;
    }
}
