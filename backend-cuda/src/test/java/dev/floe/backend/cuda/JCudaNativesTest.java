package dev.floe.backend.cuda;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class JCudaNativesTest {
    /** The driver library lands in java.io.tmpdir, and a corrupt copy found there is replaced, not reused. */
    @Test
    void installsAndRepairsTheDriverLibrary() throws Exception {
        Path lib = JCudaNatives.install();
        assumeTrue(lib != null, "the JCuda natives jar for linux-x86_64 is not on this run's path");
        assertEquals(Path.of(System.getProperty("java.io.tmpdir")).resolve(JCudaNatives.DRIVER_LIBRARY), lib);
        byte[] good = Files.readAllBytes(lib);
        assertEquals(0x7f, good[0]);
        assertEquals('E', good[1]);
        Files.write(lib, new byte[]{1, 2, 3});
        JCudaNatives.install();
        assertArrayEquals(good, Files.readAllBytes(lib));
    }
}
