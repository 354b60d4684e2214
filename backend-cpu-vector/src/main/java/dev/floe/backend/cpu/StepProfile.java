package dev.floe.backend.cpu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a compiled plan's time goes ({@value CpuVectorProvider#PROFILE}{@code =true}): the wall time of every step of
 * every run, kept per pass size (activation rows) and plan step, reported as medians when the backend closes.
 * Medians, because the first runs include the JIT compiling the kernels (a mean of 129 decode steps once charged a
 * layer's q/k/v with one 0.86 s call). A development aid: off by default, when a plan reads one field per step.
 */
final class StepProfile {
    /** Samples kept per step and pass size; a long-running server stops adding beyond them. */
    static final int MAX_SAMPLES = 100_000;

    private record Key(int rows, int step) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            return rows != o.rows ? Integer.compare(rows, o.rows) : Integer.compare(step, o.step);
        }
    }

    private record Samples(String what, List<Long> nanos) {
    }

    private final Map<Key, Samples> samples = new TreeMap<>();

    /** Records one run of plan step {@code step} ({@code what} it does) in a pass of {@code rows} rows. */
    synchronized void record(int rows, int step, String what, long nanos) {
        List<Long> n = samples.computeIfAbsent(new Key(rows, step), k -> new Samples(what, new ArrayList<>())).nanos();
        if (n.size() < MAX_SAMPLES) n.add(nanos);
    }

    /** The table: per pass size, each step's calls, median and 90th percentile, and its share of the summed medians. */
    synchronized String report() {
        StringBuilder out = new StringBuilder("cpu-vector profile: compiled-plan steps, wall time per call"
                + " (rows: activation rows of the pass; share: of the step medians summed over the pass)\n");
        out.append(String.format("%6s %5s %7s %11s %11s %7s  %s%n", "rows", "step", "calls", "median us", "p90 us", "share", "what"));
        Map<Integer, Double> total = new TreeMap<>();
        Map<Key, double[]> stats = new TreeMap<>();
        for (Map.Entry<Key, Samples> e : samples.entrySet()) {
            List<Long> sorted = new ArrayList<>(e.getValue().nanos());
            Collections.sort(sorted);
            double median = sorted.get(sorted.size() / 2) / 1e3, p90 = sorted.get(sorted.size() * 9 / 10) / 1e3;
            stats.put(e.getKey(), new double[]{sorted.size(), median, p90});
            total.merge(e.getKey().rows(), median, Double::sum);
        }
        for (Map.Entry<Key, double[]> e : stats.entrySet()) {
            Key k = e.getKey();
            double[] s = e.getValue();
            out.append(String.format("%6d %5d %7d %11.1f %11.1f %6.1f%%  %s%n", k.rows(), k.step(), (long) s[0], s[1], s[2],
                    100 * s[1] / total.get(k.rows()), samples.get(k).what()));
        }
        total.forEach((rows, us) -> out.append(String.format("%6d %5s %7s %11.1f %11s %7s  %s%n", rows, "all", "", us, "", "", "the steps' medians summed")));
        return out.toString();
    }

    synchronized boolean isEmpty() {
        return samples.isEmpty();
    }
}
