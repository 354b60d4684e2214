package dev.floe.cli.serve;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code floe serve} as a process, the way the issue broke it: under {@code ulimit -n 256}, 300 connections that
 * each send half a request used to exhaust the descriptors (normal requests timed out, the dispatcher spun, and a
 * first response made then broke the server for good). Then SIGTERM with a stream running: the stream must end with
 * a final chunk and {@code [DONE]}, and the process with status 0.
 */
class ServeProcessTest {
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");

    @Test
    void survivesDescriptorExhaustionAndDrainsOnSigterm() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String modulePath = System.getProperty("jdk.module.path");
        assertNotNull(modulePath, "the tests run on the module path");
        String command = "ulimit -n 256 && exec '" + java + "' --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
                + " --module-path '" + modulePath + "' --add-modules ALL-MODULE-PATH -m dev.floe.cli/dev.floe.cli.FloeCli serve"
                + " --model '" + OpenAiServerTest.BUILT_IN + "' --backend cpu-vector --port 0 --warmup 0 --drain-timeout 1";
        Process p = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true).start();
        LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) lines.add(line);
            } catch (IOException e) {
                // the process ended
            }
        });
        List<Socket> slow = new ArrayList<>();
        try {
            int port = -1;
            StringBuilder output = new StringBuilder();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (port < 0 && System.nanoTime() < end) {
                String line = lines.poll(1, TimeUnit.SECONDS);
                if (line == null) continue;
                output.append(line).append('\n');
                Matcher m = LISTENING.matcher(line);
                if (m.find()) port = Integer.parseInt(m.group(1));
            }
            assertTrue(port > 0, "the server did not start:\n" + output);
            assertTrue(output.toString().contains("KV pool"), "startup says the pool and the batch:\n" + output);

            for (int i = 0; i < 300; i++) {
                Socket s = new Socket();
                s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 5000);
                s.getOutputStream().write("POST /v1/completions HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.UTF_8));
                slow.add(s);
            }
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            URI base = URI.create("http://127.0.0.1:" + port);
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(base.resolve("/health")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode(), "/health behind 300 half-sent requests under ulimit -n 256");
            for (Socket s : slow) s.close();
            slow.clear();
            assertEquals(200, http.send(HttpRequest.newBuilder(base.resolve("/health")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode(), "and after them");

            String body = "{\"prompt\":\"def main():\",\"max_tokens\":1000,\"ignore_eos\":true,\"stream\":true}";
            CompletableFuture<HttpResponse<java.util.stream.Stream<String>>> stream = http.sendAsync(HttpRequest.newBuilder(base.resolve("/v1/completions"))
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofLines());
            HttpResponse<java.util.stream.Stream<String>> r = stream.get(30, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode());
            java.util.Iterator<String> events = r.body().filter(l -> l.startsWith("data: ")).iterator();
            events.next(); // a token has streamed: the request is running
            p.destroy(); // SIGTERM
            String last = null, beforeLast = null;
            while (events.hasNext()) {
                beforeLast = last;
                last = events.next();
            }
            assertEquals("data: [DONE]", last, "the stream ends with [DONE]");
            assertTrue(beforeLast != null && beforeLast.contains("\"finish_reason\":\"abort\""), "after a final chunk: " + beforeLast);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the process exits");
            assertEquals(0, p.exitValue(), "with status 0; output:\n" + String.join("\n", lines));
        } finally {
            for (Socket s : slow) s.close();
            p.destroyForcibly();
            reader.join(5000);
        }
    }
}
