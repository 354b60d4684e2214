/**
 * The stable application API of Floe.
 *
 * <p>Applications start at {@link dev.floe.api.Floe}: it finds an {@link dev.floe.api.Engine} (the runtime) through
 * {@link java.util.ServiceLoader} and loads a {@link dev.floe.api.Model} from a Hugging Face style checkpoint folder.
 * A model generates text from a {@link dev.floe.api.GenerationRequest}, streaming {@link dev.floe.api.GeneratedToken}s
 * to a {@link dev.floe.api.TokenSink} as they are produced.
 *
 * <p>The research extension points are interfaces here too: a {@link dev.floe.api.Router} decides which experts a
 * token goes to, an {@link dev.floe.api.ExpertStore} supplies expert weights, and a {@link dev.floe.api.Scheduler}
 * chooses the work of each forward pass. Their implementations are found by name through the providers of the
 * {@code dev.floe.spi} module.
 *
 * <p>Contract: every failure caused by input (a malformed checkpoint, config, tokenizer or request) is reported as a
 * {@link dev.floe.api.FloeException} subclass whose message names the file, tensor, field or argument and the value
 * at fault. Nothing in this package exposes a third-party type.
 */
package dev.floe.api;
