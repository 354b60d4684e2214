package dev.floe.backend.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class NcclTest {
    @Test
    void missingLibraryIsReportedUnavailable() {
        Nccl.Lookup lookup = Nccl.lookup();
        assumeTrue(lookup instanceof Nccl.Unavailable, "libnccl.so.2 is installed here");
        String reason = assertInstanceOf(Nccl.Unavailable.class, lookup).reason();
        assertTrue(reason.contains("libnccl.so.2"), reason);
    }

    @Test
    void uniqueIdIsA128ByteStruct() {
        assertEquals(128, Nccl.UNIQUE_ID.byteSize());
    }

    @Test
    void rendezvousHandsTheIdToOtherRanks(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sub/nccl.id");
        byte[] id = new byte[128];
        for (int i = 0; i < id.length; i++) id[i] = (byte) (i * 7 + 3);
        CompletableFuture<byte[]> rank1 = CompletableFuture.supplyAsync(
                () -> new NcclRendezvous(file, Duration.ofSeconds(20)).await());
        Thread.sleep(120);
        new NcclRendezvous(file, Duration.ofSeconds(1)).publish(id);
        assertArrayEquals(id, rank1.get());
        assertEquals(128, Files.size(file));
        try (var s = Files.list(file.getParent())) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
    }

    @Test
    void rendezvousTimesOutNamingTheFile(@TempDir Path dir) {
        Path file = dir.resolve("never.id");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new NcclRendezvous(file, Duration.ofMillis(150)).await());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("FLOE_NCCL_ID_FILE"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NcclRendezvous(file, Duration.ofSeconds(1)).publish(new byte[5]));
    }

    @Test
    void allToAllTransfersAddressEachSlice() {
        List<Nccl.Transfer> t = NcclCommunicator.transfers(2, 0x1000, 10, new long[]{0, 4}, new long[]{4, 6},
                0x9000, 8, new long[]{0, 3}, new long[]{3, 5});
        assertEquals(List.of(
                new Nccl.Transfer(true, 0x1000, 4, 0), new Nccl.Transfer(false, 0x9000, 3, 0),
                new Nccl.Transfer(true, 0x1000 + 16, 6, 1), new Nccl.Transfer(false, 0x9000 + 12, 5, 1)), t);
    }

    @Test
    void allToAllRejectsSlicesOutsideTheBuffers() {
        var e = assertThrows(IllegalArgumentException.class, () -> NcclCommunicator.transfers(2, 0, 10,
                new long[]{0, 8}, new long[]{4, 6}, 0, 100, new long[]{0, 0}, new long[]{1, 1}));
        assertTrue(e.getMessage().contains("send slice for rank 1 [8, 14)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> NcclCommunicator.transfers(3, 0, 10,
                new long[]{0, 8}, new long[]{1, 1}, 0, 100, new long[]{0, 0}, new long[]{1, 1}));
        assertTrue(e.getMessage().contains("3 ranks"), e.getMessage());
    }
}
