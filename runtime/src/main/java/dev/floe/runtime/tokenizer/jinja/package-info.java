/**
 * A Jinja engine for chat templates that renders byte for byte what Python's jinja2 renders in the environment
 * transformers' {@code apply_chat_template} builds ({@code ImmutableSandboxedEnvironment}, {@code trim_blocks},
 * {@code lstrip_blocks}, loop controls, the {@code generation} tag, transformers' {@code tojson},
 * {@code raise_exception} and {@code strftime_now}).
 *
 * <p>{@link dev.floe.runtime.tokenizer.jinja.Template} is the entry point. Inside, each concern has its class:
 * {@code Lexer} (tags and whitespace control), {@code Parser} and {@code ExprParser} (the {@code Ast}),
 * {@code Interpreter} (statements, scopes, macros), {@code Values} (Python's value semantics), {@code Operators},
 * {@code Filters}, {@code Tests}, {@code Methods} (str, dict and list methods), {@code Json} ({@code json.dumps}) and
 * {@code Strftime}. Failures are {@link dev.floe.runtime.tokenizer.jinja.TemplateException}s that carry the template
 * line.
 */
package dev.floe.runtime.tokenizer.jinja;
