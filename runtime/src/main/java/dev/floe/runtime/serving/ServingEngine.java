package dev.floe.runtime.serving;

import dev.floe.api.FinishReason;
import dev.floe.api.GenerationRequest;
import dev.floe.api.GenerationResult;
import dev.floe.api.InvalidRequestException;
import dev.floe.api.ModelConfig;
import dev.floe.api.Scheduler;
import dev.floe.api.SchedulerState;
import dev.floe.api.StepPlan;
import dev.floe.api.TokenSink;
import dev.floe.api.Tokenizer;
import dev.floe.runtime.generate.TokenSelector;
import dev.floe.runtime.kv.KvBlockManager;
import dev.floe.runtime.model.FloeModel;
import dev.floe.runtime.model.ForwardBatch;
import dev.floe.runtime.model.SinkWindow;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serves many requests on one {@link FloeModel}: callers {@link #submit} from any thread; one engine thread runs
 * steps. Each step builds the {@link SchedulerState}, asks the scheduler for a plan, preempts (by recomputation)
 * what it names, allocates KV blocks, runs ONE forward pass with the rows of every planned chunk, samples each
 * sequence whose pending tokens are all fed, streams the tokens and retires finished or cancelled requests,
 * returning their blocks to the shared pool. When the model has an attention-sink window ({@code attention.window}),
 * every sequence runs in it: keys are cached before RoPE at their index in the cache, the oldest window blocks are
 * evicted as a sequence grows, and generation may run past the model's context.
 */
public final class ServingEngine implements AutoCloseable {
    private final FloeModel model;
    private final Scheduler scheduler;
    private final ServingConfig config;
    private final ServingMetrics metrics = new ServingMetrics();
    private final ConcurrentLinkedQueue<ActiveRequest> inbox = new ConcurrentLinkedQueue<>();
    /** Requests submitted and not yet started (inbox plus waiting): what {@code maxQueue} limits. */
    private final AtomicInteger queued = new AtomicInteger();
    /**
     * Preempted requests waiting to run again. They were admitted once and hold their place; counting them against
     * {@code maxQueue} would turn away new clients exactly while the pool thrashes.
     */
    private final AtomicInteger requeued = new AtomicInteger();
    private final AtomicInteger runningCount = new AtomicInteger();
    private final AtomicLong ids = new AtomicLong();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final List<ActiveRequest> waiting = new ArrayList<>();
    private final List<ActiveRequest> running = new ArrayList<>();
    /** The attention-sink window in blocks, or null for ordinary attention. */
    private final SinkWindow.Layout sinks;
    /** Tokens a sequence's cache holds at most: the sink window's capacity, unbounded without one. */
    private final int cacheLimit;
    private final Thread thread;
    /** Shares the KV blocks of common prompt prefixes between requests; null when prefix caching is off. */
    private final PrefixCache prefixCache;
    private volatile boolean closed;
    /** Requests with ids up to this one are ended at the next step ({@link #cancelAll}). */
    private volatile long cancelUpTo;

    /** @throws InvalidRequestException when the model's attention-sink window does not fit it or its backend */
    public ServingEngine(FloeModel model, Scheduler scheduler, ServingConfig config) {
        this(model, scheduler, config, true);
    }

    /** With {@code ownThread} false the caller drives the steps ({@link #generate}). */
    private ServingEngine(FloeModel model, Scheduler scheduler, ServingConfig config, boolean ownThread) {
        this.model = model;
        this.scheduler = scheduler;
        this.config = config;
        this.sinks = model.sinkWindow() == null ? null : model.sinkLayout(model.sinkWindow());
        this.cacheLimit = sinks == null ? Integer.MAX_VALUE : sinks.capacityTokens();
        // dynamic NTK rotates a key by the length of its sequence when it was computed: a cached block would carry
        // another request's rotation, so such models never share blocks
        boolean shareable = !model.config().ropeScaling().dependsOnLength();
        this.prefixCache = config.prefixCaching() && shareable ? new PrefixCache(model.kvBlocks(), metrics, config.maxBatch(), cacheLimit) : null;
        this.thread = ownThread ? Thread.ofPlatform().name("floe-engine").daemon().start(this::loop) : null;
    }

    /**
     * {@code Model.generate}: one request through this engine's steps, run on the calling thread (the sink is
     * called there too), so that the stop, EOS, length, context and BOS rules are the server's. An exception thrown
     * by the sink ends the request and is rethrown here.
     *
     * @throws InvalidRequestException when the request cannot be served (see {@link #submit})
     */
    public static GenerationResult generate(FloeModel model, GenerationRequest request, TokenSink sink) {
        try (ServingEngine engine = new ServingEngine(model, new SoloScheduler(), new ServingConfig(1, 1, ServingConfig.MAX_ROWS, false), false)) {
            RequestHandle handle = engine.submit(request, sink);
            ActiveRequest r = engine.inbox.peek();
            while (!handle.result().isDone()) {
                engine.drainInbox();
                try {
                    if (!engine.step()) Thread.onSpinWait(); // blocks are held by other users of the pool
                } catch (RuntimeException | Error e) {
                    if (!handle.result().isDone()) engine.fail(r, e);
                    throw e;
                }
            }
            GenerationResult result = handle.result().join();
            if (r.sinkFailure != null) {
                if (r.sinkFailure instanceof RuntimeException re) throw re;
                throw new IllegalStateException("the token sink failed: " + r.sinkFailure, r.sinkFailure);
            }
            return result;
        }
    }

    public FloeModel model() {
        return model;
    }

    /** Most tokens one request may generate: the context less one, or 2^20 with an attention-sink window. */
    public int maxNewTokens() {
        return sinks == null ? model.config().maxPositions() - 1 : 1 << 20;
    }

    /** Most tokens a prompt and its completion may hold together: the model's context, unbounded with a sink window. */
    public int contextLength() {
        return sinks == null ? model.config().maxPositions() : Integer.MAX_VALUE;
    }

    /** Tokenizes a text prompt as {@link #submit} does: special tokens added, BOS unless the text starts with it. */
    public int[] tokenize(String text) {
        return encode(model.tokenizer(), text);
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public ServingConfig config() {
        return config;
    }

    public ServingMetrics metrics() {
        return metrics;
    }

    /** Requests waiting to start or, preempted, to run again. */
    public int queueLength() {
        return queued.get() + requeued.get();
    }

    /** Whether {@link #close} was called: the engine takes no more requests. */
    public boolean closed() {
        return closed;
    }

    /**
     * Ends every request submitted so far, waiting or running, with {@link FinishReason#CANCELLED} at the engine's
     * next step (their tokens so far are in their results), freeing their KV blocks. For a server's drain deadline.
     */
    public void cancelAll() {
        cancelUpTo = ids.get();
        signal();
    }

    /** Requests holding KV blocks. */
    public int runningRequests() {
        return runningCount.get();
    }

    /** KV blocks in use in the shared pool. */
    public int kvBlocksUsed() {
        return model.kvBlocks().usedBlocks();
    }

    /**
     * Queues a request. Tokens go to {@code sink} on the engine thread as they are generated.
     *
     * @throws QueueFullException      when {@code maxQueue} requests are already waiting
     * @throws InvalidRequestException when the prompt cannot be served (empty, ids outside the vocabulary, longer
     *                                 than the context or than the KV pool)
     */
    public RequestHandle submit(GenerationRequest request, TokenSink sink) {
        if (closed) throw new IllegalStateException("serving engine is closed");
        Tokenizer tokenizer = model.tokenizer();
        int[] prompt = request.promptIds() != null ? request.promptIds() : encode(tokenizer, request.prompt());
        if (prompt.length == 0) throw new InvalidRequestException("prompt is empty after tokenization");
        ModelConfig c = model.config();
        for (int id : prompt) {
            if (id < 0 || id >= c.vocabSize()) throw new InvalidRequestException("token id " + id + " is outside the vocabulary [0, " + c.vocabSize() + ")");
        }
        if (sinks == null && prompt.length >= c.maxPositions()) {
            throw new InvalidRequestException("prompt of " + prompt.length + " tokens leaves no room in the context of " + c.maxPositions() + " tokens");
        }
        KvBlockManager pool = model.kvBlocks();
        int longest = Math.min(sinks == null ? c.maxPositions() : sinks.capacityTokens(), prompt.length + request.maxTokens());
        if (pool.blocksFor(longest) > pool.totalBlocks()) {
            throw new InvalidRequestException("a request of " + prompt.length + " prompt tokens and max_tokens " + request.maxTokens()
                    + " needs " + pool.blocksFor(longest) + " KV blocks; the pool has " + pool.totalBlocks() + " (raise kv.blocks)");
        }
        while (true) {
            int q = queued.get();
            if (q >= config.maxQueue()) {
                metrics.countRejected();
                throw new QueueFullException(config.maxQueue());
            }
            if (queued.compareAndSet(q, q + 1)) break;
        }
        long id = ids.incrementAndGet();
        RequestHandle handle = new RequestHandle(id);
        inbox.add(new ActiveRequest(id, request, prompt, sink, handle, model.newSequenceKv(), tokenizer));
        signal();
        return handle;
    }

    private static int[] encode(Tokenizer tokenizer, String text) {
        boolean hasBos = tokenizer.bosId().isPresent() && text.startsWith(tokenizer.tokenString(tokenizer.bosId().getAsInt()));
        return tokenizer.encode(text, !hasBos);
    }

    private void signal() {
        lock.lock();
        try {
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (!closed) {
            try {
                drainInbox();
                if (waiting.isEmpty() && running.isEmpty()) {
                    lock.lock();
                    try {
                        if (inbox.isEmpty() && !closed) work.awaitNanos(50_000_000L);
                    } finally {
                        lock.unlock();
                    }
                    continue;
                }
                if (!step()) {
                    // nothing could be planned (blocks are coming back): wait briefly instead of spinning
                    lock.lock();
                    try {
                        work.awaitNanos(1_000_000L);
                    } finally {
                        lock.unlock();
                    }
                }
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                // a failed step (a broken scheduler plan, a backend error) fails the requests in flight, never the
                // engine; waiting ones fail too, or a plan that always throws would leave them hanging
                for (ActiveRequest r : List.copyOf(running)) fail(r, e);
                for (ActiveRequest r : List.copyOf(waiting)) fail(r, e);
            }
        }
        drainInbox();
        for (ActiveRequest r : List.copyOf(waiting)) fail(r, new IllegalStateException("serving engine closed"));
        for (ActiveRequest r : List.copyOf(running)) fail(r, new IllegalStateException("serving engine closed"));
    }

    private void drainInbox() {
        for (ActiveRequest r; (r = inbox.poll()) != null; ) waiting.add(r);
    }

    /** One engine step; false when no pass could be planned. */
    boolean step() {
        long now = System.nanoTime();
        for (ActiveRequest r : waiting) if (r.id <= cancelUpTo) r.handle.cancel();
        for (ActiveRequest r : running) if (r.id <= cancelUpTo) r.handle.cancel();
        for (ActiveRequest r : List.copyOf(waiting)) if (r.cancelled()) finish(r, FinishReason.CANCELLED, now);
        for (ActiveRequest r : List.copyOf(running)) if (r.cancelled()) finish(r, FinishReason.CANCELLED, now);
        if (waiting.isEmpty() && running.isEmpty()) return true;
        KvBlockManager pool = model.kvBlocks();
        if (prefixCache != null) prefixCache.reuseForWaiting(waiting);
        SchedulerState state = new SchedulerState(waiting.stream().map(r -> r.view(cacheLimit)).toList(),
                running.stream().map(r -> r.view(cacheLimit)).toList(), pool.freeBlocks(), pool.blockSize(),
                config.tokenBudget(), config.maxBatch());
        StepPlan plan = scheduler.plan(state);
        Map<Long, ActiveRequest> byId = new HashMap<>();
        for (ActiveRequest r : waiting) byId.put(r.id, r);
        for (ActiveRequest r : running) byId.put(r.id, r);
        for (long id : plan.preempt()) {
            ActiveRequest r = byId.get(id);
            if (r == null || !running.remove(r)) throw new IllegalStateException(scheduler.name() + " preempted sequence " + id + ", which is not running");
            r.resetKv();
            r.preempted = true;
            waiting.add(r);
            requeued.incrementAndGet();
            metrics.countPreempted();
        }
        waiting.sort(Comparator.comparingLong(r -> r.id));
        if (prefixCache != null) {
            java.util.Set<Long> planned = new java.util.HashSet<>();
            for (StepPlan.Chunk c : plan.chunks()) planned.add(c.sequenceId());
            prefixCache.releaseUnplanned(waiting, planned);
        }
        if (plan.chunks().isEmpty()) {
            runningCount.set(running.size());
            return !plan.preempt().isEmpty();
        }
        checkPlan(plan, byId);
        int rows = plan.totalTokens();
        int[] tokens = new int[rows], positions = new int[rows], sequence = new int[rows];
        int[][] tables = new int[plan.chunks().size()][];
        List<Integer> logitRows = new ArrayList<>();
        List<ActiveRequest> sampling = new ArrayList<>();
        List<ActiveRequest> fed = new ArrayList<>();
        int row = 0, decodeRows = 0;
        for (StepPlan.Chunk chunk : plan.chunks()) {
            ActiveRequest r = byId.get(chunk.sequenceId());
            int n = chunk.tokens();
            if (sinks != null) {
                n = Math.min(n, sinks.maxChunk());
                r.evicted += sinks.makeRoom(r.kv, r.cached(), n);
            }
            if (!allocate(r, r.cached() + n)) continue;
            if (leaveWaiting(r)) {
                running.add(r);
                if (prefixCache != null) prefixCache.countStart(r);
            }
            if (n == 1 && r.computed >= r.promptTokens && r.computed + 1 == r.total()) decodeRows++;
            int i = fed.size();
            fed.add(r);
            tables[i] = r.kv.table();
            for (int k = 0; k < n; k++, row++) {
                tokens[row] = r.token(r.computed + k);
                positions[row] = r.cached() + k; // with a sink window: the index in the cache
                sequence[row] = i;
            }
            r.computed += n;
            if (r.computed == r.total()) {
                logitRows.add(row - 1);
                sampling.add(r);
            }
        }
        runningCount.set(running.size());
        if (fed.isEmpty()) return false;
        if (row < rows) { // chunks capped to the sink window's largest chunk, or left out for want of blocks
            tokens = java.util.Arrays.copyOf(tokens, row);
            positions = java.util.Arrays.copyOf(positions, row);
            sequence = java.util.Arrays.copyOf(sequence, row);
        }
        if (fed.size() < tables.length) tables = java.util.Arrays.copyOf(tables, fed.size());
        List<GenerationRequest> fedRequests = new ArrayList<>(fed.size()); // indexed as sequence[] indexes
        for (ActiveRequest r : fed) fedRequests.add(r.request);
        long passStart = System.nanoTime();
        float[][] logits = model.forward(new ForwardBatch(tokens, positions, sequence, tables,
                logitRows.stream().mapToInt(Integer::intValue).toArray(), sinks != null), RoutingByRequest.of(fedRequests, sequence));
        metrics.passes().record(row, decodeRows, fed.size(), System.nanoTime() - passStart);
        if (prefixCache != null) for (ActiveRequest r : fed) prefixCache.register(r);
        long t = System.nanoTime();
        for (int i = 0; i < sampling.size(); i++) accept(sampling.get(i), logits[i], t);
        runningCount.set(running.size());
        return true;
    }

    /**
     * Makes room for {@code tokens} cached tokens of {@code r}; false when the pool is out of blocks. That happens
     * only with prefix caching, when a preempted sequence's shared blocks stayed with the others holding them, so
     * fewer came free than the scheduler counted: a running {@code r} is then preempted itself, a waiting one waits.
     */
    private boolean allocate(ActiveRequest r, int tokens) {
        try {
            r.kv.ensureCapacity(tokens);
            return true;
        } catch (InvalidRequestException poolFull) {
            if (running.remove(r)) {
                r.preempted = true;
                waiting.add(r);
                requeued.incrementAndGet();
                metrics.countPreempted();
            }
            r.resetKv();
            return false;
        }
    }

    private void checkPlan(StepPlan plan, Map<Long, ActiveRequest> byId) {
        if (plan.totalTokens() > config.tokenBudget() || plan.chunks().size() > config.maxBatch()) {
            throw new IllegalStateException(scheduler.name() + " planned " + plan.totalTokens() + " tokens in " + plan.chunks().size()
                    + " sequences; the limits are " + config.tokenBudget() + " and " + config.maxBatch());
        }
        java.util.Set<Long> seen = new java.util.HashSet<>();
        for (StepPlan.Chunk c : plan.chunks()) {
            ActiveRequest r = byId.get(c.sequenceId());
            if (r == null || !seen.add(c.sequenceId()) || !(waiting.contains(r) || running.contains(r))) {
                throw new IllegalStateException(scheduler.name() + " planned unknown, duplicate or preempted sequence " + c.sequenceId());
            }
            if (c.tokens() > r.total() - r.computed) {
                throw new IllegalStateException(scheduler.name() + " planned " + c.tokens() + " tokens of sequence " + c.sequenceId()
                        + ", which has " + (r.total() - r.computed) + " pending");
            }
        }
    }

    /** Samples the next token of {@code r} from its logits and applies the stop conditions of {@code Model.generate}. */
    private void accept(ActiveRequest r, float[] logits, long now) {
        ModelConfig c = model.config();
        TokenSelector.Choice choice = r.selector.next(logits);
        int id = choice.id();
        boolean eos = c.isEos(id) || model.tokenizer().eosId().orElse(-1) == id;
        if (eos && !r.request.ignoreEos()) {
            finish(r, FinishReason.EOS, now);
            return;
        }
        r.append(id);
        r.generated++;
        if (r.generated == 1) {
            r.firstTokenAt = now;
            metrics.timeToFirstToken().record(now - r.submittedAt);
        } else {
            metrics.interTokenLatency().record(now - r.lastTokenAt);
        }
        r.lastTokenAt = now;
        metrics.countToken();
        try {
            r.emit(id, r.stops.accept(r.decoder.next(id)), choice.logprobs());
        } catch (RuntimeException e) {
            // a sink that throws (a client gone away) cancels its own request only
            r.sinkFailure = e;
            finish(r, FinishReason.CANCELLED, now);
            return;
        }
        if (r.stops.stopped()) finish(r, FinishReason.STOP, now);
        else if (r.generated >= r.request.maxTokens()) finish(r, FinishReason.LENGTH, now);
        else if (sinks == null && r.total() >= c.maxPositions()) finish(r, FinishReason.CONTEXT, now);
    }

    private void finish(ActiveRequest r, FinishReason reason, long now) {
        retire(r);
        try {
            r.handle.result().complete(r.finish(reason, now));
        } catch (RuntimeException e) {
            r.handle.result().complete(new dev.floe.api.GenerationResult("", new int[0], reason, r.promptTokens, 0, 0));
        }
        metrics.countFinished(reason);
    }

    private void fail(ActiveRequest r, Throwable e) {
        retire(r);
        metrics.countFailed();
        r.handle.result().completeExceptionally(e);
    }

    /** Takes {@code r} out of the waiting list and its count; false when it was not waiting. */
    private boolean leaveWaiting(ActiveRequest r) {
        if (!waiting.remove(r)) return false;
        if (r.preempted) requeued.decrementAndGet();
        else queued.decrementAndGet();
        r.preempted = false;
        return true;
    }

    private void retire(ActiveRequest r) {
        leaveWaiting(r);
        running.remove(r);
        r.kv.close();
        runningCount.set(running.size());
    }

    /** Stops the engine thread; unfinished requests fail. The model stays open. */
    @Override
    public void close() {
        closed = true;
        if (thread == null) {
            drainInbox();
            for (ActiveRequest r : List.copyOf(waiting)) fail(r, new IllegalStateException("serving engine closed"));
            for (ActiveRequest r : List.copyOf(running)) fail(r, new IllegalStateException("serving engine closed"));
            return;
        }
        signal();
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
