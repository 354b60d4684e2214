package dev.floe.backend.cuda;

import dev.floe.api.BackendDevice;
import dev.floe.api.BackendUnavailableException;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The {@code cuda} backend provider (rank 100: preferred whenever a suitable NVIDIA GPU is present). Construction
 * touches nothing native; {@link #probe()} loads the driver binding and answers {@link Probe.Unavailable} with the
 * reason when the driver library, a device, a new enough driver or compute capability 8.0 is missing. The device
 * is chosen by the {@code cuda.device} option or system property (default 0); {@code cuda.graphs=false} (option
 * or system property) interprets plans instead of capturing CUDA graphs; {@code cuda.prefill=cublaslt}
 * sends prefill GEMMs of BF16 and FP8 E4M3 weights to cuBLASLt (default {@code kernels}: our own, float32
 * activations throughout).
 */
public final class CudaProvider implements BackendProvider {
    static final String NAME = "cuda";
    static final String VERSION = "0.1.0";

    private final Supplier<DriverApi> driver;

    /** The provider ServiceLoader creates. */
    public CudaProvider() {
        this(JCudaDriverApi::load);
    }

    /** A provider over another driver binding (tests simulate a failing one). */
    CudaProvider(Supplier<DriverApi> driver) {
        this.driver = driver;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public Probe probe() {
        try {
            return new CudaProbe(driver, requiredDriver()).probe(System.getProperty(DeviceSelection.PROPERTY));
        } catch (RuntimeException | LinkageError e) {
            return new Probe.Unavailable("CUDA probe failed: " + e);
        }
    }

    /** The driver the committed PTX needs, read from the PTX's own {@code .version}. */
    static int requiredDriver() {
        return PtxModule.requiredDriver(PtxModule.load(PtxModule.Name.ELEMENTWISE, PtxModule.ARCHS[1]).isa());
    }

    /**
     * Every device the driver lists, with its total memory and, through each device's primary context, its free
     * memory; an empty list when the driver cannot load. Never throws.
     */
    @Override
    public List<BackendDevice> devices() {
        DriverApi api;
        try {
            api = driver.get();
            api.init();
            List<BackendDevice> out = new ArrayList<>();
            for (int i = 0, n = api.deviceCount(); i < n; i++) {
                DeviceInfo d = api.device(i);
                long free;
                try {
                    free = api.freeMemory(i);
                } catch (RuntimeException e) {
                    free = BackendDevice.UNKNOWN; // a device busy in exclusive mode refuses a context
                }
                out.add(new BackendDevice(i, d.name() + " (compute capability " + d.major() + "." + d.minor() + ")",
                        d.totalMemory(), free));
            }
            return out;
        } catch (RuntimeException | LinkageError e) {
            return List.of();
        }
    }

    @Override
    public Set<Capability> capabilities() {
        return CudaBackend.CAPABILITIES;
    }

    /**
     * A group of one rank on this process's GPU, with an NCCL communicator of world size 1 ({@link CudaGroup}). More
     * ranks need one process per GPU, which is not wired yet: refused, naming the reason.
     */
    @Override
    public dev.floe.spi.DeviceGroup openGroup(int size, BackendOptions options) {
        if (size != 1) {
            throw new UnsupportedOperationException("cuda: a device group in one process has one rank (its GPU); " + size
                    + " ranks need one process per GPU, joined by the launch rendezvous, which is not wired to NCCL yet");
        }
        return CudaGroup.open((CudaBackend) open(options));
    }

    /** NCCL's unique id for a new group of processes; unavailable, naming the library, where NCCL is missing. */
    @Override
    public byte[] groupId(BackendOptions options) {
        return switch (Nccl.lookup()) {
            case Nccl.Available a -> a.nccl().uniqueId();
            case Nccl.Unavailable u -> throw new BackendUnavailableException("cuda: " + u.reason());
        };
    }

    /** Opens the GPU {@code options} names and joins the NCCL group of {@code groupId} as {@code rank}. */
    @Override
    public dev.floe.spi.GroupMember joinGroup(int rank, int size, byte[] groupId, BackendOptions options) {
        CudaBackend backend = (CudaBackend) open(options);
        try {
            return new dev.floe.spi.GroupMember(backend, backend.communicator(rank, size, groupId));
        } catch (RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    @Override
    public Backend open(BackendOptions options) {
        String device = DeviceSelection.setting(options);
        boolean cublas = CudaBackend.cublasRequested(options == null ? null : options.properties().get(CudaBackend.PREFILL_PROPERTY));
        String graphsSetting = options == null ? null : options.properties().get(CudaBackend.GRAPHS_PROPERTY);
        boolean graphs = CudaBackend.graphsRequested(graphsSetting != null ? graphsSetting : System.getProperty(CudaBackend.GRAPHS_PROPERTY));
        CudaProbe.Result result;
        try {
            result = new CudaProbe(driver, requiredDriver()).find(device);
        } catch (RuntimeException | LinkageError e) {
            throw new BackendUnavailableException("cuda: " + e);
        }
        return switch (result) {
            case CudaProbe.Missing m -> throw new BackendUnavailableException("cuda: " + m.reason());
            case CudaProbe.Found f -> new CudaBackend(new CudaContext(f.device()), cublas, graphs);
        };
    }
}
