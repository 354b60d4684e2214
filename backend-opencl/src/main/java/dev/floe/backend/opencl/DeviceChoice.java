package dev.floe.backend.opencl;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Picks a device from the discovered ones by the settings {@code opencl.platform} and {@code opencl.device}: each an
 * index or a case-insensitive substring of the name. Without a device setting the first GPU wins, else the first
 * device. A device index counts within the chosen platforms (all platforms when none is set).
 */
final class DeviceChoice {
    private DeviceChoice() {
    }

    /**
     * @throws IllegalArgumentException naming the setting and its value when nothing matches
     */
    static ClDevice select(List<ClDevice> devices, String platform, String device) {
        if (devices.isEmpty()) throw new IllegalArgumentException("no OpenCL device on any platform");
        List<ClDevice> candidates = devices;
        if (!blank(platform)) {
            List<String> names = devices.stream().map(ClDevice::platformName).distinct().toList();
            candidates = devices.stream().filter(d -> matches(platform, d.platformIndex(), d.platformName())).toList();
            if (candidates.isEmpty()) {
                throw new IllegalArgumentException("opencl.platform=" + platform + " matches no platform with devices; "
                        + "platforms: " + numbered(names));
            }
        }
        if (blank(device)) {
            return candidates.stream().filter(ClDevice::gpu).findFirst().orElse(candidates.getFirst());
        }
        String key = device.strip();
        if (isIndex(key)) {
            int index = Integer.parseInt(key);
            if (index < candidates.size()) return candidates.get(index);
        } else {
            for (ClDevice d : candidates) {
                if (d.name().toLowerCase(Locale.ROOT).contains(key.toLowerCase(Locale.ROOT))) return d;
            }
        }
        throw new IllegalArgumentException("opencl.device=" + device + " matches no device; devices: "
                + numbered(candidates.stream().map(ClDevice::name).toList()));
    }

    private static boolean matches(String setting, int index, String name) {
        String key = setting.strip();
        if (isIndex(key)) return Integer.parseInt(key) == index;
        return name.toLowerCase(Locale.ROOT).contains(key.toLowerCase(Locale.ROOT));
    }

    private static boolean isIndex(String s) {
        return !s.isEmpty() && s.length() < 9 && s.chars().allMatch(Character::isDigit);
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    private static String numbered(List<String> names) {
        return java.util.stream.IntStream.range(0, names.size()).mapToObj(i -> i + ": " + names.get(i))
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
