package dev.floe.runtime.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.floe.api.ModelFormatException;
import dev.floe.api.RopeScaling;

import java.util.Set;

/**
 * Reads {@code rope_scaling} (transformers 4) or {@code rope_parameters} (transformers 5, which also carries
 * {@code rope_theta}) from a config, with the required and optional keys of transformers' {@code rope_config_validation}
 * in {@code modeling_rope_utils.py}. A type Floe does not implement, a missing required key or a value of the wrong
 * kind is an error naming the field and the value.
 */
final class RopeScalingReader {
    static final Set<String> TYPES = Set.of("default", "linear", "dynamic", "yarn", "llama3");

    /** The block's name and content, or null when the config has none. */
    private record Block(String name, JsonNode node) {
    }

    private final String source;
    private final Block block;

    RopeScalingReader(JsonNode root, String source) {
        this.source = source;
        Block b = null;
        for (String name : new String[]{"rope_parameters", "rope_scaling"}) {
            JsonNode n = root.get(name);
            if (n == null || n.isNull()) continue;
            if (!n.isObject()) throw error(name, n, "is not an object");
            b = new Block(name, n);
            break;
        }
        this.block = b;
        JsonNode partial = root.get("partial_rotary_factor");
        if (partial != null && !partial.isNull() && !(partial.isNumber() && partial.asDouble() == 1.0)) {
            throw new ModelFormatException(source + ": field partial_rotary_factor = " + partial + " is not supported (only 1.0)");
        }
    }

    /** {@code rope_parameters.rope_theta} when given (it wins over the top-level field, as in transformers 5). */
    double theta(double topLevel) {
        if (block == null || !block.node().has("rope_theta")) return topLevel;
        return number("rope_theta", Double.NaN);
    }

    /** The scaling, given {@code max_position_embeddings}. */
    RopeScaling scaling(int maxPositionEmbeddings) {
        if (block == null) return RopeScaling.NONE;
        JsonNode node = block.node();
        if (node.has("partial_rotary_factor") && number("partial_rotary_factor", 1.0) != 1.0) {
            throw error("partial_rotary_factor", node.get("partial_rotary_factor"), "is not supported (only 1.0)");
        }
        String typeField = node.hasNonNull("rope_type") ? "rope_type" : "type";
        JsonNode typeNode = node.get(typeField);
        if (typeNode == null || typeNode.isNull()) {
            if (block.name().equals("rope_parameters")) return RopeScaling.NONE; // transformers 5 writes {"rope_theta": ...} alone
            throw new ModelFormatException(source + ": field rope_scaling has no rope_type (expected one of " + sorted() + ")");
        }
        if (!typeNode.isTextual()) throw error(typeField, typeNode, "is not a string");
        String type = typeNode.asText();
        if (!TYPES.contains(type)) throw error(typeField, typeNode, "is not supported (expected one of " + sorted() + ")");
        return switch (type) {
            case "default" -> RopeScaling.NONE;
            case "linear" -> new RopeScaling.Linear(required("factor"));
            case "dynamic" -> new RopeScaling.Dynamic(required("factor"), maxPositionEmbeddings);
            case "yarn" -> {
                int original = integer("original_max_position_embeddings", maxPositionEmbeddings);
                // transformers 5: the factor given, else max_position_embeddings / original_max_position_embeddings
                double factor = node.hasNonNull("factor") ? number("factor", Double.NaN) : (double) maxPositionEmbeddings / original;
                yield new RopeScaling.Yarn(factor, original,
                        orDefault("beta_fast", 32), orDefault("beta_slow", 1),
                        number("mscale", 0), number("mscale_all_dim", 0), number("attention_factor", Double.NaN),
                        bool("truncate", true));
            }
            case "llama3" -> new RopeScaling.Llama3(required("factor"), required("low_freq_factor"),
                    required("high_freq_factor"), requiredInteger("original_max_position_embeddings"));
            default -> throw new AssertionError(type);
        };
    }

    private static String sorted() {
        return String.join(", ", new java.util.TreeSet<>(TYPES));
    }

    private ModelFormatException error(String field, JsonNode value, String why) {
        String name = block == null || field.equals(block.name()) ? field : block.name() + "." + field;
        return new ModelFormatException(source + ": field " + name + " = " + value + " " + why);
    }

    private double required(String field) {
        if (!block.node().hasNonNull(field)) {
            throw new ModelFormatException(source + ": field " + block.name() + "." + field + " is missing (rope_type "
                    + block.node().path("rope_type").asText(block.node().path("type").asText()) + " needs it)");
        }
        return number(field, Double.NaN);
    }

    /** transformers reads beta_fast/beta_slow with {@code get(...) or default}: 0 and null mean the default too. */
    private double orDefault(String field, double fallback) {
        double v = number(field, fallback);
        return v == 0 ? fallback : v;
    }

    private double number(String field, double fallback) {
        JsonNode n = block.node().get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isNumber() || !Double.isFinite(n.asDouble())) throw error(field, n, "is not a number");
        return n.asDouble();
    }

    private int requiredInteger(String field) {
        if (!block.node().hasNonNull(field)) {
            throw new ModelFormatException(source + ": field " + block.name() + "." + field + " is missing (rope_type "
                    + block.node().path("rope_type").asText(block.node().path("type").asText()) + " needs it)");
        }
        return integer(field, 0);
    }

    private int integer(String field, int fallback) {
        JsonNode n = block.node().get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw error(field, n, "is not an integer");
        return n.asInt();
    }

    private boolean bool(String field, boolean fallback) {
        JsonNode n = block.node().get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isBoolean()) throw error(field, n, "is not true or false");
        return n.asBoolean();
    }
}
