package dev.floe.backend.cpu;

/** What the Vector API offers on this machine. Touching this class loads the incubator module. */
final class VectorSupport {
    private VectorSupport() {
    }

    /** Bits of the preferred float vector. */
    static int vectorBits() {
        return Matmul.FS.vectorBitSize();
    }

    /** E.g. "x86_64, 2 threads, FloatVector 512-bit (AVX-512)". */
    static String describe(int threads) {
        String arch = System.getProperty("os.arch", "unknown");
        if (arch.equals("amd64")) arch = "x86_64";
        int bits = vectorBits();
        return arch + ", " + threads + (threads == 1 ? " thread" : " threads") + ", FloatVector " + bits + "-bit ("
                + isa(arch, bits) + (Matmul.FORCED_WIDTH ? ", forced by floe.cpu.vector-bits" : "") + ")" + Matmul.unstagedNote();
    }

    private static String isa(String arch, int bits) {
        boolean x86 = arch.equals("amd64") || arch.equals("x86_64");
        if (x86) return bits >= 512 ? "AVX-512" : bits >= 256 ? "AVX2" : "SSE";
        if (arch.equals("aarch64")) return bits > 128 ? "SVE" : "NEON";
        return bits + "-bit SIMD";
    }
}
