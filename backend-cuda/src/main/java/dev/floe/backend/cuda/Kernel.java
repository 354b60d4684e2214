package dev.floe.backend.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel entry points the host side launches, grouped by the PTX module ({@code src/main/cuda/<module>.cu})
 * that defines them. A family that exists per weight format has one entry per {@link WeightFormat}
 * ({@code matvec_bf16}); the others have a single entry. Tests check that every entry listed here is declared by
 * the committed PTX.
 */
enum Kernel {
    EMBED(PtxModule.Name.ELEMENTWISE, "embed", true),
    RMS_NORM(PtxModule.Name.ELEMENTWISE, "rms_norm", true),
    ROPE(PtxModule.Name.ELEMENTWISE, "rope", false),
    STORE_KV(PtxModule.Name.ELEMENTWISE, "store_kv", false),
    SWIGLU(PtxModule.Name.ELEMENTWISE, "swiglu", false),
    ADD(PtxModule.Name.ELEMENTWISE, "add", false),
    GATHER_ROWS(PtxModule.Name.ELEMENTWISE, "gather_rows", false),
    SCATTER_ADD_ROWS(PtxModule.Name.ELEMENTWISE, "scatter_add_rows", false),
    F32_TO_BF16(PtxModule.Name.ELEMENTWISE, "f32_to_bf16", false),
    ABS_MAX(PtxModule.Name.ELEMENTWISE, "abs_max", false),
    QUANTIZE_E4M3(PtxModule.Name.ELEMENTWISE, "quantize_e4m3", false),
    SCALE_COLUMNS(PtxModule.Name.ELEMENTWISE, "scale_columns", false),
    MATVEC(PtxModule.Name.MATMUL, "matvec", true),
    GEMM(PtxModule.Name.MATMUL, "gemm", true),
    PAGED_ATTENTION(PtxModule.Name.ATTENTION, "paged_attention", false),
    EXPERT_SWIGLU(PtxModule.Name.MOE, "expert_swiglu", true),
    ROUTER_TOPK(PtxModule.Name.MOE, "router_topk", false);

    private final PtxModule.Name module;
    private final String base;
    private final boolean perFormat;

    Kernel(PtxModule.Name module, String base, boolean perFormat) {
        this.module = module;
        this.base = base;
        this.perFormat = perFormat;
    }

    PtxModule.Name module() {
        return module;
    }

    /** The entry name of a single-variant kernel. */
    String entry() {
        if (perFormat) throw new IllegalStateException(this + " has one entry per weight format");
        return base;
    }

    /** The entry name of the variant for {@code format}. */
    String entry(WeightFormat format) {
        if (!perFormat) throw new IllegalStateException(this + " has no per-format variants");
        return base + "_" + format.suffix();
    }

    /** Every entry name of this family. */
    List<String> entries() {
        if (!perFormat) return List.of(base);
        List<String> names = new ArrayList<>();
        for (WeightFormat f : WeightFormat.values()) names.add(entry(f));
        return names;
    }
}
