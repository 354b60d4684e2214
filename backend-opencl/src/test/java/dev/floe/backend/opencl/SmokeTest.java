package dev.floe.backend.opencl;

import dev.floe.spi.Backend;
import dev.floe.spi.Buffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class SmokeTest {
    @Test
    void addsTwoBuffers() {
        try (Backend b = OpenClTestSupport.openOrSkip()) {
            System.out.println("device: " + b.device());
            Buffer x = OpenClTestSupport.upload(b, new float[]{1, 2, 3});
            Buffer y = OpenClTestSupport.upload(b, new float[]{10, 20, 30});
            Buffer z = b.allocate(3);
            b.add(x, y, 3, z);
            assertArrayEquals(new float[]{11, 22, 33}, OpenClTestSupport.download(b, z, 3));
        }
    }
}
