package dev.floe.cli;

import dev.floe.api.DType;
import dev.floe.runtime.checkpoint.CheckpointLayout;
import dev.floe.runtime.config.ConfigReader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.floe.cli.CommandsTest.ROOT;
import static dev.floe.cli.CommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code floe plan} and {@code floe inspect} on the real Arctic layout as sparse files (headers, data left as holes). */
class PlanCommandTest {
    @TempDir
    static Path arctic;

    @BeforeAll
    static void writeSparseArctic() throws Exception {
        Files.copy(ROOT.resolve("runtime/src/test/resources/arctic-instruct/config.json"), arctic.resolve("config.json"));
        CheckpointLayout.writeSparse(arctic, ConfigReader.read(arctic), DType.BF16);
    }

    @Test
    void eightEightyGigabyteDevicesFitArcticInFp8() {
        CommandsTest.Run r = run("plan", "--model", arctic.toString(), "--devices", "8x80GB", "--weights", "fp8");
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("arctic, 478.58B parameters, 957.17 GB stored"), r.out());
        assertTrue(r.out().contains("layout: tp 8 x ep 8 (chosen), weights fp8"), r.out());
        assertTrue(r.out().matches("(?s).*\n {4}experts +58\\.61 GB\n.*"), r.out());
        assertTrue(r.out().matches("(?s).*total +60\\.25 GB of 72\\.00 GB usable: fits.*"), r.out());
    }

    @Test
    void fourEightyGigabyteDevicesInBf16FallShortAndTheFixIsNamed() {
        CommandsTest.Run r = run("plan", "--model", arctic.toString(), "--devices", "4x80GB", "--weights", "bf16", "--tp", "4", "--ep", "4");
        assertEquals(1, r.status(), r.out() + r.err());
        assertTrue(r.out().matches("(?s).*does not fit, 1\\d\\d\\.\\d\\d GB short on each device.*"), r.out());
        assertTrue(r.out().contains("suggestion: 16x80GB with --tp 8 --ep 16 --weights bf16"), r.out());
        assertTrue(r.out().contains("suggestion: 8x80GB with --tp 8 --ep 8 --weights fp8"), r.out());
    }

    @Test
    void badArgumentsAreNamed() {
        CommandsTest.Run r = run("plan", "--model", arctic.toString(), "--devices", "lots");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--devices: 'lots' is not COUNTxSIZE"), r.err());
        r = run("plan", "--model", arctic.toString(), "--devices", "8x80GB", "--tp", "16");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("--tp 16 does not divide the 8 devices"), r.err());
        r = run("plan", "--model", arctic.toString(), "--devices", "8x80GB", "--weights", "int4");
        assertTrue(r.err().contains("--weights: 'int4' is not one of stored, bf16, fp8"), r.err());
    }

    @Test
    void inspectReadsOnlyTheHeadersOfASparseCheckpoint() {
        CommandsTest.Run r = run("inspect", arctic.toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("arctic: 35 layers, hidden 7168, 56 heads / 8 KV heads of 128"), r.out());
        assertTrue(r.out().contains("parameters: 478.58B total"), r.out());
        assertTrue(r.out().contains("36 files, 891.43 GiB of tensor data"), r.out());
    }

    @Test
    void planOnTheBuiltInModelFitsOneSmallDevice() {
        CommandsTest.Run r = run("plan", "--devices", "1x1GB");
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().contains("layout: tp 1 x ep 1"), r.out());
    }
}
