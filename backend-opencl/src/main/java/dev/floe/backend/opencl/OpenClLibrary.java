package dev.floe.backend.opencl;

import org.lwjgl.opencl.CL;
import org.lwjgl.system.Configuration;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.Optional;

/**
 * Loads the OpenCL ICD loader through LWJGL, so that a failure is an answer instead of a broken JVM.
 *
 * <p>LWJGL's {@code CL} class loads the library in its static initialiser unless explicit initialisation is
 * configured; a failure there would leave the class unusable for the JVM's lifetime. This class therefore switches to
 * explicit initialisation, checks first with {@code dlopen} (through {@link SymbolLookup#libraryLookup}) that the
 * library opens at all, and only then calls {@link CL#create()}, whose failure leaves LWJGL ready for another try.
 */
final class OpenClLibrary {
    /** The soname of the ICD loader that distributions ship at run time (the unversioned name is a dev package). */
    static final String DEFAULT_NAME = "libOpenCL.so.1";
    /** LWJGL's own setting for the library name. */
    static final String LWJGL_LIBNAME = "org.lwjgl.opencl.libname";
    /** Floe's setting for the library name, for tests and unusual installs. */
    static final String LIBRARY_PROPERTY = "opencl.library";

    private static final Object LOCK = new Object();
    private static volatile boolean created;

    private OpenClLibrary() {
    }

    /** The library name from the system properties: Floe's, else LWJGL's, else {@value #DEFAULT_NAME}. */
    static String configuredName() {
        String floe = System.getProperty(LIBRARY_PROPERTY);
        if (floe != null && !floe.isBlank()) return floe;
        String lwjgl = System.getProperty(LWJGL_LIBNAME);
        return lwjgl != null && !lwjgl.isBlank() ? lwjgl : DEFAULT_NAME;
    }

    /**
     * Makes LWJGL's OpenCL bindings usable with {@code libraryName}, or says why they cannot be. Never throws.
     *
     * @return empty when OpenCL is ready, else the reason
     */
    static Optional<String> load(String libraryName) {
        synchronized (LOCK) {
            String opened = dlopen(libraryName);
            if (opened != null) return Optional.of(opened);
            if (created) return Optional.empty();
            try {
                if (System.getProperty(LWJGL_LIBNAME) == null) System.setProperty(LWJGL_LIBNAME, libraryName);
                Configuration.OPENCL_LIBRARY_NAME.set(libraryName);
                Configuration.OPENCL_EXPLICIT_INIT.set(true);
                if (!alreadyCreated()) CL.create();
                created = true;
                return Optional.empty();
            } catch (LinkageError | RuntimeException e) {
                return Optional.of("LWJGL could not load OpenCL from " + libraryName + ": " + e);
            }
        }
    }

    /** Whether LWJGL's CL was set up before (by its static initialiser, or by other code of this JVM). */
    private static boolean alreadyCreated() {
        try {
            CL.getFunctionProvider();
            return true;
        } catch (IllegalStateException notLoaded) {
            return false;
        }
    }

    /** Null when {@code name} opens with dlopen and exports {@code clGetPlatformIDs}, else why not. */
    @SuppressWarnings("restricted")
    private static String dlopen(String name) {
        try (Arena arena = Arena.ofConfined()) {
            // A library without the loader's entry point would make CL.create() "succeed" with null functions.
            if (SymbolLookup.libraryLookup(name, arena).find("clGetPlatformIDs").isEmpty()) {
                return name + " is not an OpenCL library: it does not export clGetPlatformIDs";
            }
            return null;
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return "cannot open the OpenCL library " + name + " (install an OpenCL ICD loader and driver, e.g. "
                    + "ocl-icd-libopencl1 with pocl-opencl-icd, or set -D" + LIBRARY_PROPERTY + "): " + e.getMessage();
        }
    }
}
