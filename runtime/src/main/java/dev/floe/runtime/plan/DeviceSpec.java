package dev.floe.runtime.plan;

import dev.floe.api.InvalidRequestException;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A set of identical devices to plan for, written {@code COUNTxSIZE} ({@code 8x80GB}, {@code 4x79.6GiB}) or
 * {@code SIZE} for one. GB, MB and TB are decimal (10^9...), GiB, MiB and TiB binary (2^30...): an H100 sold as
 * "80GB" has 79.6 GiB = 85.5 GB, so {@code 8x80GB} is slightly conservative for it.
 *
 * @param count     devices
 * @param bytesEach memory of each device
 */
public record DeviceSpec(int count, long bytesEach) {
    private static final Pattern FORM = Pattern.compile("(?:(\\d+)\\s*[xX]\\s*)?(\\d+(?:\\.\\d+)?)\\s*([KMGT]i?B)");

    public DeviceSpec {
        if (count < 1) throw new InvalidRequestException("--devices: the device count must be positive, got " + count);
        if (bytesEach < 1) throw new InvalidRequestException("--devices: the device memory must be positive, got " + bytesEach);
    }

    /** Parses {@code 8x80GB}; the error names the argument and the text at fault. */
    public static DeviceSpec parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.strip());
        if (!m.matches()) {
            throw new InvalidRequestException("--devices: '" + text + "' is not COUNTxSIZE such as 8x80GB or 4x79.6GiB");
        }
        int count;
        try {
            count = m.group(1) == null ? 1 : Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            throw new InvalidRequestException("--devices: device count in '" + text + "' is too large");
        }
        double size = Double.parseDouble(m.group(2));
        String unit = m.group(3).toUpperCase(Locale.ROOT);
        int power = "KMGT".indexOf(unit.charAt(0)) + 1;
        double base = unit.contains("I") ? 1024 : 1000;
        double bytes = size * Math.pow(base, power);
        if (bytes >= Long.MAX_VALUE) throw new InvalidRequestException("--devices: size in '" + text + "' is too large");
        return new DeviceSpec(count, (long) bytes);
    }

    /** The same devices, {@code n} of them. */
    public DeviceSpec withCount(int n) {
        return new DeviceSpec(n, bytesEach);
    }

    @Override
    public String toString() {
        String size = bytesEach % 1_000_000_000L == 0 ? bytesEach / 1_000_000_000L + "GB"
                : String.format(Locale.ROOT, "%.2fGB", bytesEach / 1e9);
        return count + "x" + size;
    }
}
