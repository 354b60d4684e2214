package dev.floe.cli.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.floe.api.GenerationRequest;
import dev.floe.api.SamplingParams;
import dev.floe.api.TokenSink;
import dev.floe.runtime.serving.ServingEngine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Streaming load over HTTP: {@code clients} concurrent clients send {@code requests} streaming completions in total
 * and time every server-sent event.
 */
public final class LoadGenerator {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One workload item. */
    public record Job(String prompt, int maxTokens) {
    }

    /** What one run measured; latencies in milliseconds. */
    public record Report(int requests, int failed, long tokens, double seconds, double[] ttftMs, double[] itlMs) {
        public double tokensPerSecond() {
            return tokens / seconds;
        }

        /** The {@code q}-quantile (0..1) of sorted values, nearest rank. */
        public static double quantile(double[] sorted, double q) {
            if (sorted.length == 0) return Double.NaN;
            int i = (int) Math.ceil(q * sorted.length) - 1;
            return sorted[Math.clamp(i, 0, sorted.length - 1)];
        }
    }

    private LoadGenerator() {
    }

    /** Runs the jobs against {@code baseUrl} with {@code clients} concurrent streams. */
    public static Report run(String baseUrl, String model, List<Job> jobs, int clients) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
        return drive(jobs, clients, (job, ttft, itl) -> one(http, baseUrl, model, job, ttft, itl));
    }

    /**
     * Runs the jobs against {@code engine} directly, without HTTP: the same clients, timing each token as the engine
     * hands it over. The difference from {@link #run} is what the HTTP layer costs.
     */
    public static Report runInProcess(ServingEngine engine, List<Job> jobs, int clients) throws Exception {
        return drive(jobs, clients, (job, ttft, itl) -> {
            long start = System.nanoTime();
            long[] last = {-1};
            TokenSink sink = token -> {
                long now = System.nanoTime();
                if (last[0] < 0) ttft.add((now - start) / 1e6);
                else itl.add((now - last[0]) / 1e6);
                last[0] = now;
            };
            GenerationRequest request = GenerationRequest.of(job.prompt(), job.maxTokens())
                    .withSampling(SamplingParams.GREEDY).withIgnoreEos(true);
            return engine.submit(request, sink).result().get().tokens().length;
        });
    }

    /** One client's way of running a job: records its latencies, returns the tokens it received. */
    private interface Client {
        long run(Job job, List<Double> ttft, List<Double> itl) throws Exception;
    }

    /** {@code clients} virtual threads take jobs in order until none are left. */
    private static Report drive(List<Job> jobs, int clients, Client client) throws Exception {
        AtomicInteger next = new AtomicInteger();
        List<Double> ttft = Collections.synchronizedList(new ArrayList<>());
        List<Double> itl = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger failed = new AtomicInteger();
        AtomicLong tokens = new AtomicLong();
        long t0 = System.nanoTime();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                futures.add(pool.submit(() -> {
                    for (int i; (i = next.getAndIncrement()) < jobs.size(); ) {
                        try {
                            tokens.addAndGet(client.run(jobs.get(i), ttft, itl));
                        } catch (Exception e) {
                            failed.incrementAndGet();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Report(jobs.size(), failed.get(), tokens.get(), seconds, sorted(ttft), sorted(itl));
    }

    private static double[] sorted(List<Double> values) {
        synchronized (values) {
            return values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        }
    }

    private static long one(HttpClient http, String baseUrl, String model, Job job, List<Double> ttft, List<Double> itl)
            throws IOException, InterruptedException {
        String body = JSON.createObjectNode().put("model", model).put("prompt", job.prompt()).put("max_tokens", job.maxTokens())
                .put("temperature", 0).put("stream", true).put("ignore_eos", true).toString();
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long start = System.nanoTime();
        HttpResponse<java.io.InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        if (response.statusCode() != 200) {
            response.body().close();
            throw new IOException("HTTP " + response.statusCode());
        }
        long last = -1;
        long tokens = 0;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (!line.startsWith("data: ") || line.equals("data: [DONE]")) continue;
                JsonNode chunk = JSON.readTree(line.substring(6));
                long now = System.nanoTime();
                if (chunk.has("usage")) {
                    tokens = chunk.get("usage").get("completion_tokens").asLong();
                    continue;
                }
                if (last < 0) ttft.add((now - start) / 1e6);
                else itl.add((now - last) / 1e6);
                last = now;
            }
        }
        return tokens;
    }
}
