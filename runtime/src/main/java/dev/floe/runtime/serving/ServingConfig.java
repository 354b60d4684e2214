package dev.floe.runtime.serving;

import dev.floe.api.InvalidRequestException;
import dev.floe.runtime.model.FloeModel;

/**
 * Limits of a {@link ServingEngine}.
 *
 * @param maxQueue    most requests waiting to start; more are rejected with {@link QueueFullException}
 * @param maxBatch    most sequences in one forward pass
 * @param tokenBudget most tokens (rows) in one forward pass
 * @param prefixCaching whether requests share the KV blocks of identical prompt prefixes
 */
public record ServingConfig(int maxQueue, int maxBatch, int tokenBudget, boolean prefixCaching) {
    /** Rows the layer graph accepts in one pass. */
    public static final int MAX_ROWS = FloeModel.MAX_ROWS;

    public static final ServingConfig DEFAULTS = new ServingConfig(64, 16, 256);

    /** Limits with prefix caching on. */
    public ServingConfig(int maxQueue, int maxBatch, int tokenBudget) {
        this(maxQueue, maxBatch, tokenBudget, true);
    }

    public ServingConfig withPrefixCaching(boolean on) {
        return new ServingConfig(maxQueue, maxBatch, tokenBudget, on);
    }

    public ServingConfig {
        if (maxQueue < 1) throw new InvalidRequestException("max queue must be at least 1, got " + maxQueue);
        if (maxBatch < 1) throw new InvalidRequestException("max batch must be at least 1, got " + maxBatch);
        if (tokenBudget < 1 || tokenBudget > MAX_ROWS) {
            throw new InvalidRequestException("token budget must be in [1, " + MAX_ROWS + "], got " + tokenBudget);
        }
    }
}
