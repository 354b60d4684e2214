package dev.floe.backend.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * The kernel entry points the host side launches, grouped by the PTX module ({@code src/main/cuda/<module>.cu})
 * that defines them. A family that exists per weight format has one entry per {@link WeightFormat}
 * ({@code matvec_bf16}); the others have a single entry. Tests check that every entry listed here is declared by
 * the committed PTX, with the parameter types of {@link #signature()}.
 */
enum Kernel {
    EMBED(PtxModule.Name.ELEMENTWISE, "embed", true, "ppipip"),
    RMS_NORM(PtxModule.Name.ELEMENTWISE, "rms_norm", true, "pppfip"),
    ROPE(PtxModule.Name.ELEMENTWISE, "rope", false, "piiipf"),
    ROPE_TABLE(PtxModule.Name.ELEMENTWISE, "rope_table", false, "piiipp"),
    STORE_KV(PtxModule.Name.ELEMENTWISE, "store_kv", false, "ppppiip"),
    SWIGLU(PtxModule.Name.ELEMENTWISE, "swiglu", false, "pplp"),
    ADD(PtxModule.Name.ELEMENTWISE, "add", false, "pplp"),
    GATHER_ROWS(PtxModule.Name.ELEMENTWISE, "gather_rows", false, "pipp"),
    SCATTER_ADD_ROWS(PtxModule.Name.ELEMENTWISE, "scatter_add_rows", false, "pippip"),
    F32_TO_BF16(PtxModule.Name.ELEMENTWISE, "f32_to_bf16", false, "plp"),
    ABS_MAX(PtxModule.Name.ELEMENTWISE, "abs_max", false, "plp"),
    QUANTIZE_E4M3(PtxModule.Name.ELEMENTWISE, "quantize_e4m3", false, "plppp"),
    SCALE_COLUMNS(PtxModule.Name.ELEMENTWISE, "scale_columns", false, "piipi"),
    MATVEC(PtxModule.Name.MATMUL, "matvec", true, "pippipii"),
    GEMM(PtxModule.Name.MATMUL, "gemm", true, "pippipii"),
    MATMUL_BLOCK(PtxModule.Name.MATMUL, "matmul_block_fp8", false, "pippiiipii"),
    PAGED_ATTENTION(PtxModule.Name.ATTENTION, "paged_attention", false, "ppppppiiiiifipp"),
    ATTENTION_COMBINE(PtxModule.Name.ATTENTION, "attention_combine", false, "piiiip"),
    MOE_ROUTE(PtxModule.Name.MOE, "moe_route", false, "piiiippp"),
    MOE_UP(PtxModule.Name.MOE, "moe_up", true, "piipppppipii"),
    MOE_DOWN(PtxModule.Name.MOE, "moe_down", true, "piipppipii"),
    MOE_UP_BLOCK(PtxModule.Name.MOE, "moe_up_block_fp8", false, "piipppppiiipii"),
    MOE_DOWN_BLOCK(PtxModule.Name.MOE, "moe_down_block_fp8", false, "piipppiiipii"),
    MOE_COMBINE(PtxModule.Name.MOE, "moe_combine", false, "piippip");

    private final PtxModule.Name module;
    private final String base;
    private final boolean perFormat;
    private final String signature;

    Kernel(PtxModule.Name module, String base, boolean perFormat, String signature) {
        this.module = module;
        this.base = base;
        this.perFormat = perFormat;
        this.signature = signature;
    }

    /**
     * The parameter list of the CUDA function, in {@link KernelArgs#signature()} notation ({@code p} pointer,
     * {@code i} int, {@code l} long long, {@code f} float). Launches are checked against it, and tests check it
     * against the {@code .param} list of the committed PTX.
     */
    String signature() {
        return signature;
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
