package dev.floe.backend.opencl;

/**
 * One OpenCL device as discovery found it.
 *
 * @param platformIndex  index of its platform in {@code clGetPlatformIDs} order
 * @param platformName   the platform's {@code CL_PLATFORM_NAME}
 * @param id             the {@code cl_device_id}
 * @param name           {@code CL_DEVICE_NAME}
 * @param gpu            whether {@code CL_DEVICE_TYPE} includes {@code CL_DEVICE_TYPE_GPU}
 * @param type           the device type in words
 * @param version        {@code CL_DEVICE_VERSION}
 * @param globalMemory   {@code CL_DEVICE_GLOBAL_MEM_SIZE} in bytes
 * @param maxAllocation  {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE} in bytes
 * @param localMemory    {@code CL_DEVICE_LOCAL_MEM_SIZE} in bytes
 * @param maxWorkGroup   {@code CL_DEVICE_MAX_WORK_GROUP_SIZE}
 */
record ClDevice(int platformIndex, String platformName, long id, String name, boolean gpu, String type,
                String version, long globalMemory, long maxAllocation, long localMemory, long maxWorkGroup) {

    /** The device in words, e.g. {@code NVIDIA H100 (GPU, OpenCL 3.0 CUDA, NVIDIA CUDA, 79.1 GiB)}. */
    String describe() {
        return "%s (%s, %s, %s, %.1f GiB)".formatted(name, type, version, platformName,
                globalMemory / (double) (1L << 30));
    }
}
