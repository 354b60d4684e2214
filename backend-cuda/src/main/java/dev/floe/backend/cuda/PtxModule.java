package dev.floe.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text of one committed PTX resource ({@code dev/floe/backend/cuda/<module>.<arch>.ptx}, made by
 * {@code ptx.sh}) and what its header declares: the PTX ISA version, the target and the kernel entries.
 *
 * @param name    the module
 * @param arch    the virtual architecture it was compiled for, e.g. {@code compute_90}
 * @param text    the PTX source
 * @param isa     the {@code .version} directive, e.g. {@code 9.0}
 * @param entries the {@code .entry} names, in file order
 */
record PtxModule(Name name, String arch, String text, String isa, Set<String> entries) {
    private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.([a-z]\\d+)");
    private static final Pattern VERSION = Pattern.compile("(?m)^\\s*\\.version\\s+(\\d+\\.\\d+)");
    private static final Pattern ENTRY = Pattern.compile("(?m)^\\s*(?:\\.visible\\s+|\\.weak\\s+)?\\.entry\\s+([A-Za-z_$][\\w$]*)");

    /** The kernel source files. */
    enum Name {
        ELEMENTWISE, MATMUL, ATTENTION, MOE;

        String fileStem() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The architectures {@code ptx.sh} compiles for, best first. */
    static final String[] ARCHS = {"compute_90", "compute_80"};

    /** The PTX to load on a device of compute capability {@code major.minor}: the newest one it can run. */
    static String archFor(int major, int minor) {
        return major * 10 + minor >= 90 ? "compute_90" : "compute_80";
    }

    static String resourceName(Name name, String arch) {
        return name.fileStem() + "." + arch + ".ptx";
    }

    /** Reads and parses a committed PTX resource; a missing resource is a packaging error. */
    static PtxModule load(Name name, String arch) {
        String resource = resourceName(name, arch);
        try (InputStream in = PtxModule.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("PTX resource " + resource + " is missing from the module");
            return parse(name, arch, new String(in.readAllBytes(), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read PTX resource " + resource + ": " + e.getMessage(), e);
        }
    }

    static PtxModule parse(Name name, String arch, String text) {
        Matcher v = VERSION.matcher(text);
        if (!v.find()) throw new IllegalStateException("PTX " + resourceName(name, arch) + " has no .version directive");
        Set<String> entries = new LinkedHashSet<>();
        Matcher e = ENTRY.matcher(text);
        while (e.find()) entries.add(e.group(1));
        return new PtxModule(name, arch, text, v.group(1), Set.copyOf(entries));
    }

    /**
     * The parameter types of {@code entry} in {@link KernelArgs#signature()} notation, except that every 64-bit
     * parameter reads {@code w} (PTX does not tell a pointer from a {@code long long}): {@code i} for 32-bit
     * integers, {@code f} for {@code .f32}.
     */
    String parameterTypes(String entry) {
        Matcher m = Pattern.compile("\\.entry\\s+" + Pattern.quote(entry) + "\\s*\\(([^)]*)\\)").matcher(text);
        if (!m.find()) throw new IllegalArgumentException("PTX " + resourceName(name, arch) + " has no entry " + entry);
        StringBuilder types = new StringBuilder();
        Matcher p = PARAM.matcher(m.group(1));
        while (p.find()) {
            types.append(switch (p.group(1)) {
                case "u64", "s64", "b64" -> 'w';
                case "u32", "s32", "b32" -> 'i';
                case "f32" -> 'f';
                default -> '?';
            });
        }
        return types.toString();
    }

    /** A {@link KernelArgs#signature()} as {@link #parameterTypes} spells it: pointers and longs become {@code w}. */
    static String ptxTypes(String signature) {
        return signature.replace('p', 'w').replace('l', 'w');
    }

    /** The PTX as the NUL-terminated bytes {@code cuModuleLoadData} expects. */
    byte[] image() {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        byte[] z = new byte[b.length + 1];
        System.arraycopy(b, 0, z, 0, b.length);
        return z;
    }

    /**
     * The oldest CUDA driver (as {@code cuDriverGetVersion} reports it, 1000 * major + 10 * minor) that
     * JIT-compiles this PTX ISA: ISA 9.0 came with CUDA 13.0, ISA 8.x with CUDA 12.x.
     */
    static int requiredDriver(String isa) {
        String[] p = isa.split("\\.");
        int major = Integer.parseInt(p[0]), minor = Integer.parseInt(p[1]);
        if (major >= 9) return 13000 + 1000 * (major - 9) + 10 * minor;
        if (major == 8) return 12000 + 10 * Math.min(minor, 9);
        return 11000;
    }
}
