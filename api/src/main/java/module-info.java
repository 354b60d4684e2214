/**
 * Floe's application API: load a Dense-MoE model, tokenize, generate. Depends on {@code java.base} only.
 */
module dev.floe.api {
    exports dev.floe.api;
    uses dev.floe.api.Engine;
}
