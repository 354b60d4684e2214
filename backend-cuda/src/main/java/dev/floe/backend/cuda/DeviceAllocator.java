package dev.floe.backend.cuda;

/** Raw device memory, as {@link MemoryPool} sees it: the driver in production, a fake in tests. */
interface DeviceAllocator {
    /** Allocates {@code bytes}; throws {@link OutOfDeviceMemory} when the device is full. */
    long allocate(long bytes);

    /** Frees memory returned by {@link #allocate}. */
    void free(long address);

    /** The device reported {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    final class OutOfDeviceMemory extends RuntimeException {
        OutOfDeviceMemory(String message) {
            super(message);
        }
    }
}
