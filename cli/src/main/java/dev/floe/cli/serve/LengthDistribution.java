package dev.floe.cli.serve;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * How {@code floe bench-serve} draws each request's {@code max_tokens} from {@code [min, max]}. Real traffic is not
 * uniform: most completions are short and a few run long, and how a scheduler copes with the long ones (a static
 * batch runs until its longest member ends) is much of what separates schedulers.
 */
public enum LengthDistribution {
    /** Every length in {@code [min, max]} equally likely: mean (min + max) / 2. */
    UNIFORM,
    /**
     * A long tail: {@code min} plus an exponential draw whose mean is a quarter of {@code max - min}, cut at
     * {@code max} (about 2% of the draws). Its mean is about {@code min + (max - min) / 4}, so {@code 8..120} has the
     * mean of uniform {@code 8..64} and a tail to 120.
     */
    EXPONENTIAL;

    /** One length in {@code [min, max]}; {@code min} must be positive and at most {@code max}. */
    public int draw(SplittableRandom random, int min, int max) {
        if (min < 1 || min > max) throw new IllegalArgumentException("lengths [" + min + ", " + max + "] are not a range of positive lengths");
        return switch (this) {
            case UNIFORM -> min + random.nextInt(max - min + 1);
            case EXPONENTIAL -> {
                double mean = (max - min) / 4.0;
                double tail = -mean * Math.log(1 - random.nextDouble()); // nextDouble is in [0, 1): log of (0, 1]
                yield (int) Math.min(max, min + Math.floor(tail));
            }
        };
    }

    /** The distribution named {@code name} (case-insensitive), or an error naming the option and the value. */
    public static LengthDistribution named(String name) {
        for (LengthDistribution d : values()) if (d.name().equalsIgnoreCase(name)) return d;
        throw new IllegalArgumentException("--length-distribution: '" + name + "' is not uniform or exponential");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
