package dev.floe.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * Makes JCuda's driver library loadable wherever the natives jar sits.
 *
 * <p>JCuda 12.0.0 first tries {@code System.loadLibrary}, then {@code LibUtils.class.getResourceAsStream("/lib/...")}
 * from inside the {@code jcuda} module, which finds nothing when the natives jar is a separate module or on the
 * class path; before that it checks for {@code ${java.io.tmpdir}/libJCudaDriver-12.0.0-linux-x86_64.so} and loads
 * that file if it exists, without checking it. So before JCuda is first touched we copy the library from wherever
 * our class loader sees it (class path, or an automatic module: {@code lib/} is not a package, so it is not
 * encapsulated) to exactly that file, replacing it atomically when its content differs. Runs give themselves a
 * private {@code java.io.tmpdir} (surefire and {@code gpu-check.sh} do) so that no foreign copy is ever picked up;
 * {@code --patch-module jcuda=<natives jar>} remains an alternative that needs none of this.
 */
final class JCudaNatives {
    static final String DRIVER_LIBRARY = "libJCudaDriver-12.0.0-linux-x86_64.so";

    private JCudaNatives() {
    }

    /**
     * Ensures the driver library is in {@code java.io.tmpdir}; returns its path, or null when the natives jar is not
     * visible (JCuda may still find the library itself, e.g. through --patch-module).
     */
    static synchronized Path install() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")
                || !System.getProperty("os.arch", "").matches("amd64|x86_64")) {
            return null;
        }
        ClassLoader loader = JCudaNatives.class.getClassLoader();
        try (InputStream in = loader == null ? null : loader.getResourceAsStream("lib/" + DRIVER_LIBRARY)) {
            if (in == null) return null;
            byte[] library = in.readAllBytes();
            Path dir = Path.of(System.getProperty("java.io.tmpdir"));
            Files.createDirectories(dir);
            Path target = dir.resolve(DRIVER_LIBRARY);
            if (Files.isRegularFile(target) && Arrays.equals(sha256(Files.readAllBytes(target)), sha256(library))) {
                return target;
            }
            Path tmp = Files.createTempFile(dir, "floe-jcuda-", ".so");
            Files.write(tmp, library);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (IOException e) {
            throw new IllegalStateException("cannot place " + DRIVER_LIBRARY + " in java.io.tmpdir="
                    + System.getProperty("java.io.tmpdir") + ": " + e.getMessage(), e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
