package dev.floe.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class WorkerPoolTest {
    @Test
    void runsEveryTaskExactlyOnceAcrossManyJobs() {
        try (WorkerPool pool = new WorkerPool(3, "test-pool")) {
            for (int job = 0; job < 2000; job++) {
                int tasks = 1 + job % 37;
                AtomicIntegerArray hits = new AtomicIntegerArray(tasks);
                pool.run(tasks, hits::incrementAndGet);
                for (int t = 0; t < tasks; t++) assertEquals(1, hits.get(t), "job " + job + " task " + t);
            }
        }
    }

    @Test
    void rethrowsTheFirstFailureAndStaysUsable() {
        try (WorkerPool pool = new WorkerPool(2, "test-pool")) {
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            var thrown = assertThrows(IllegalArgumentException.class, () -> pool.run(8, t -> {
                if (t == 5) throw boom;
            }));
            assertSame(boom, thrown);
            AtomicIntegerArray hits = new AtomicIntegerArray(4);
            pool.run(4, hits::incrementAndGet);
            for (int t = 0; t < 4; t++) assertEquals(1, hits.get(t));
        }
    }

    @Test
    void refusesWorkOnceClosed() {
        WorkerPool pool = new WorkerPool(2, "test-pool");
        pool.close();
        pool.close();
        assertThrows(IllegalStateException.class, () -> pool.run(2, t -> { }));
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0, "none"));
    }
}
