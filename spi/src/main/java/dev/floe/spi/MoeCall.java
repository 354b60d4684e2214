package dev.floe.spi;

/**
 * One MoE block, as {@link Backend#moe} runs it: for each of the {@code rows} rows of {@code input} (normalised hidden
 * states, {@code [rows, hidden]}), route (see {@link MoeRouting}), run the chosen experts of {@code bank}, and add each
 * expert's output times its routing weight into {@code dst} ({@code [rows, hidden]}): for row {@code r},
 * {@code dst[r] += sum_j weight[r][j] * expert_j(input[r])}. Additions into a row go in ascending expert index (the
 * order of the SPI 1 decomposition, so the two agree).
 *
 * @param gate  the router weight {@code [experts, hidden]}; needed for {@link MoeRouting.OnDevice}
 * @param trace null, or where to report the logits and decision of a device routing (someone observes them)
 */
public record MoeCall(Buffer input, int rows, Weight gate, ExpertBank bank, MoeRouting routing, Buffer dst, MoeTrace trace) {
    public MoeCall {
        if (input == null || bank == null || routing == null || dst == null) {
            throw new IllegalArgumentException("moe: input, bank, routing and dst are required");
        }
        if (rows < 0) throw new IllegalArgumentException("moe: rows " + rows + " is negative");
        if (routing instanceof MoeRouting.OnDevice && gate == null) {
            throw new IllegalArgumentException("moe: routing on the device needs the gate weight");
        }
        if (routing instanceof MoeRouting.Decided d && d.decision().tokens() != rows) {
            throw new IllegalArgumentException("moe: a decision for " + d.decision().tokens() + " tokens, " + rows + " rows");
        }
    }
}
