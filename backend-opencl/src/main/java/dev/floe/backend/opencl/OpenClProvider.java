package dev.floe.backend.opencl;

import dev.floe.api.BackendDevice;
import dev.floe.spi.Backend;
import dev.floe.spi.BackendException;
import dev.floe.spi.BackendOptions;
import dev.floe.spi.BackendProvider;
import dev.floe.spi.Capability;
import dev.floe.spi.Probe;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The {@code opencl} backend provider. Settings (backend options first, then system properties):
 * {@code opencl.platform} and {@code opencl.device} (index or name substring), {@code opencl.library} (the ICD
 * loader, default {@code libOpenCL.so.1}) and the system property {@code opencl.rank} (default 5, below the CPU
 * backend's 10, so that a machine's default stays the CPU backend unless asked otherwise).
 */
public final class OpenClProvider implements BackendProvider {
    /** The backend's name. */
    public static final String NAME = "opencl";
    /** Rank when {@code opencl.rank} is not set. */
    public static final int DEFAULT_RANK = 5;

    private final String library;

    /** The provider ServiceLoader creates: the library comes from the system properties. */
    public OpenClProvider() {
        this(null);
    }

    /** A provider bound to an ICD loader library name (null: from the system properties). */
    OpenClProvider(String library) {
        this.library = library;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String version() {
        return "0.1.0";
    }

    @Override
    public int rank() {
        return Integer.getInteger("opencl.rank", DEFAULT_RANK);
    }

    @Override
    public Probe probe() {
        try {
            return new Probe.Available(choose(System.getProperty("opencl.platform"),
                    System.getProperty("opencl.device")).describe());
        } catch (BackendException | IllegalArgumentException e) {
            return new Probe.Unavailable(e.getMessage());
        } catch (LinkageError | RuntimeException e) {
            return new Probe.Unavailable("OpenCL failed: " + e);
        }
    }

    @Override
    public Set<Capability> capabilities() {
        return OpenClBackend.CAPABILITIES;
    }

    /**
     * Every device of every platform, numbered in platform order (the numbering {@code opencl.device} uses when no
     * platform is set). OpenCL has no standard query for free memory, so it is {@link BackendDevice#UNKNOWN}.
     */
    @Override
    public List<BackendDevice> devices() {
        try {
            String lib = library != null ? library : OpenClLibrary.configuredName();
            if (OpenClLibrary.load(lib).isPresent()) return List.of();
            List<ClDevice> found = Discovery.devices().devices();
            List<BackendDevice> out = new ArrayList<>();
            for (int i = 0; i < found.size(); i++) {
                ClDevice d = found.get(i);
                out.add(new BackendDevice(i, d.name() + " (" + d.type() + ", " + d.platformName() + ")", d.globalMemory(),
                        BackendDevice.UNKNOWN));
            }
            return out;
        } catch (LinkageError | RuntimeException e) {
            return List.of();
        }
    }

    @Override
    public Backend open(BackendOptions options) {
        ClDevice device;
        try {
            // a device chosen by index (--devices) counts over all platforms, as devices() numbers them
            boolean byIndex = !options.devices().isEmpty();
            device = choose(byIndex ? null : options.property("opencl.platform", System.getProperty("opencl.platform")),
                    byIndex ? Integer.toString(options.device(0)) : options.property("opencl.device", System.getProperty("opencl.device")));
        } catch (LinkageError e) {
            throw new BackendException("OpenCL failed: " + e, e);
        }
        return OpenClBackend.open(device);
    }

    /** Loads OpenCL, lists the devices and applies the settings; throws with the reason when none fits. */
    private ClDevice choose(String platform, String device) {
        String lib = library != null ? library : OpenClLibrary.configuredName();
        var failure = OpenClLibrary.load(lib);
        if (failure.isPresent()) throw new BackendException(failure.get());
        Discovery.Found found = Discovery.devices();
        if (found.devices().isEmpty()) {
            throw new BackendException("no OpenCL platform with a device (" + String.join("; ", found.problems())
                    + "; is a driver such as pocl-opencl-icd registered in /etc/OpenCL/vendors?)");
        }
        return DeviceChoice.select(found.devices(), platform, device);
    }
}
