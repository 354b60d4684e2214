package dev.floe.api;

/** Element types of checkpoint tensors, with their safetensors names. */
public enum DType {
    F32("F32", 4), F16("F16", 2), BF16("BF16", 2), F8_E4M3("F8_E4M3", 1), F8_E5M2("F8_E5M2", 1), I64("I64", 8), I32("I32", 4);

    private final String safetensorsName;
    private final int bytes;

    DType(String safetensorsName, int bytes) {
        this.safetensorsName = safetensorsName;
        this.bytes = bytes;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** The name used in safetensors headers. */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** True for the floating-point types a weight may have. */
    public boolean isFloat() {
        return this != I64 && this != I32;
    }

    /** Looks a dtype up by its safetensors name, or returns null if unknown. */
    public static DType fromSafetensors(String name) {
        for (DType t : values()) {
            if (t.safetensorsName.equals(name)) return t;
        }
        return null;
    }
}
