package dev.floe.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A CUDA library opened through {@code java.lang.foreign} (cuBLASLt 13, NCCL 2, NVRTC 13; JCuda's own bindings are
 * linked against CUDA 12 and cannot use them). The library is looked up by its soname through the dynamic loader,
 * then at the CUDA toolkit's usual places, which the loader's cache often does not list; a system property
 * ({@code floe.<key>.path}) names the file explicitly.
 */
final class NativeLibrary {
    private static final Linker LINKER = Linker.nativeLinker();

    private final String soname;
    private final SymbolLookup symbols;

    private NativeLibrary(String soname, SymbolLookup symbols) {
        this.soname = soname;
        this.symbols = symbols;
    }

    /** The outcome of {@link #open}: the library, or why it could not be opened. */
    sealed interface Lookup permits Found, Missing {
    }

    record Found(NativeLibrary library) implements Lookup {
    }

    record Missing(String reason) implements Lookup {
    }

    /** Standard CUDA 13 library folders, searched after the dynamic loader's own paths. */
    static final List<Path> CUDA_DIRS = List.of(
            Path.of("/usr/local/cuda-13.0/targets/x86_64-linux/lib"), Path.of("/usr/local/cuda/targets/x86_64-linux/lib"),
            Path.of("/usr/local/cuda/lib64"), Path.of("/usr/lib/x86_64-linux-gnu"));

    /**
     * Opens {@code soname} for the lifetime of the JVM. {@code property} may name the file; otherwise the loader's
     * search path and then {@code dirs} are tried. Never throws: a missing library is a {@link Missing}.
     */
    @SuppressWarnings("restricted") // loading a CUDA library is the point; callers enable native access
    static Lookup open(String soname, String property, List<Path> dirs) {
        List<String> tried = new ArrayList<>();
        String explicit = property == null ? null : System.getProperty(property);
        List<String> candidates = new ArrayList<>();
        if (explicit != null && !explicit.isBlank()) candidates.add(explicit);
        else {
            candidates.add(soname);
            for (Path d : dirs) {
                Path p = d.resolve(soname);
                if (Files.exists(p)) candidates.add(p.toString());
            }
        }
        for (String c : candidates) {
            try {
                return new Found(new NativeLibrary(soname, SymbolLookup.libraryLookup(c, Arena.global())));
            } catch (IllegalArgumentException | IllegalCallerException e) {
                tried.add(c + " (" + e.getMessage() + ")");
            }
        }
        return new Missing(soname + " not found: tried " + String.join(", ", tried)
                + (property == null ? "" : "; set -D" + property + "=<file> to name it"));
    }

    String soname() {
        return soname;
    }

    /** A downcall handle for {@code name}; a missing symbol names the library and the function. */
    @SuppressWarnings("restricted")
    MethodHandle function(String name, FunctionDescriptor descriptor) {
        MemorySegment address = symbols.find(name)
                .orElseThrow(() -> new IllegalStateException(soname + " has no symbol " + name));
        return LINKER.downcallHandle(address, descriptor);
    }
}
