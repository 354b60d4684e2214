package dev.floe.backend.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A JCuda device pointer whose raw address we can read: kernels take addresses as 64-bit values, and cuBLASLt and
 * NCCL (through {@code java.lang.foreign}) take them as {@code void*}. {@code getNativePointer} is protected in
 * JCuda, hence the subclass; the driver fills it in through {@code cuMemAlloc(this, ...)}.
 */
final class DevicePointer extends CUdeviceptr {
    /** The device address. */
    long address() {
        return getNativePointer() + getByteOffset();
    }
}
