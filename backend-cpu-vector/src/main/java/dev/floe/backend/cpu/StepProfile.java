package dev.floe.backend.cpu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a compiled plan's time goes ({@value CpuVectorProvider#PROFILE}{@code =true}): the wall time of every step of
 * every run, kept per pass size (activation rows) and plan step, and of the fused MoE's phases within its step,
 * reported as medians when the backend closes.
 * Medians, because the first runs include the JIT compiling the kernels (a mean of 129 decode steps once charged a
 * layer's q/k/v with one 0.86 s call). A development aid: off by default, when a plan reads one field per step.
 */
final class StepProfile {
    /** Samples kept per step and pass size; a long-running server stops adding beyond them. */
    static final int MAX_SAMPLES = 100_000;

    /** Part 0 is the whole step, parts 1 and up its phases. */
    private record Key(int rows, int step, int part) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            if (rows != o.rows) return Integer.compare(rows, o.rows);
            return step != o.step ? Integer.compare(step, o.step) : Integer.compare(part, o.part);
        }
    }

    private record Samples(String what, List<Long> nanos) {
    }

    private final Map<Key, Samples> samples = new TreeMap<>();
    /** The pass size and step a plan is running (on its calling thread), or -1 rows between steps. */
    private int rows = -1, step;
    /** When the step began, and when its last phase ended. */
    private long started, mark;

    /** A plan starts step {@code step} of a pass of {@code rows} rows: phases recorded now belong to it. */
    synchronized void enter(int rows, int step) {
        this.rows = rows;
        this.step = step;
        started = mark = System.nanoTime();
    }

    /** The step entered last ends: records its time, labelled {@code what}. */
    synchronized void leave(String what) {
        if (rows >= 0) add(new Key(rows, step, 0), what, System.nanoTime() - started);
        rows = -1;
    }

    /**
     * Phase {@code part} (from 1) of the step being run ends: records the time since the step began or its last phase
     * ended. Outside a plan's step (an eager call) it records nothing.
     */
    synchronized void phase(int part, String what) {
        long now = System.nanoTime();
        if (rows >= 0) add(new Key(rows, step, part), what, now - mark);
        mark = now;
    }

    private void add(Key key, String what, long nanos) {
        List<Long> n = samples.computeIfAbsent(key, k -> new Samples(what, new ArrayList<>())).nanos();
        if (n.size() < MAX_SAMPLES) n.add(nanos);
    }

    /** The table: per pass size, each step's calls, median and 90th percentile, and its share of the summed medians. */
    synchronized String report() {
        StringBuilder out = new StringBuilder("cpu-vector profile: compiled-plan steps, wall time per call"
                + " (rows: activation rows of the pass; step.n: phase n of that step; share: of the step medians summed"
                + " over the pass)\n");
        out.append(String.format("%6s %5s %7s %11s %11s %7s  %s%n", "rows", "step", "calls", "median us", "p90 us", "share", "what"));
        Map<Integer, Double> total = new TreeMap<>();
        Map<Key, double[]> stats = new TreeMap<>();
        for (Map.Entry<Key, Samples> e : samples.entrySet()) {
            List<Long> sorted = new ArrayList<>(e.getValue().nanos());
            Collections.sort(sorted);
            double median = sorted.get(sorted.size() / 2) / 1e3, p90 = sorted.get(sorted.size() * 9 / 10) / 1e3;
            stats.put(e.getKey(), new double[]{sorted.size(), median, p90});
            if (e.getKey().part() == 0) total.merge(e.getKey().rows(), median, Double::sum);
        }
        for (Map.Entry<Key, double[]> e : stats.entrySet()) {
            Key k = e.getKey();
            double[] s = e.getValue();
            String step = k.part() == 0 ? Integer.toString(k.step()) : k.step() + "." + k.part();
            out.append(String.format("%6d %5s %7d %11.1f %11.1f %6.1f%%  %s%n", k.rows(), step, (long) s[0], s[1], s[2],
                    100 * s[1] / total.getOrDefault(k.rows(), s[1]), samples.get(k).what()));
        }
        total.forEach((rows, us) -> out.append(String.format("%6d %5s %7s %11.1f %11s %7s  %s%n", rows, "all", "", us, "", "", "the steps' medians summed")));
        return out.toString();
    }

    synchronized boolean isEmpty() {
        return samples.isEmpty();
    }
}
