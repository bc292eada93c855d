package io.streamdistill.it;

import io.streamdistill.teacher.TeacherServiceMain;
import io.streamdistill.teacher.http.HealthServer;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.service.Metrics;
import io.streamdistill.teacher.service.TeacherConfig;
import io.streamdistill.teacher.service.TeacherService;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The real teacher service (all-MiniLM-L6-v2 through ONNX Runtime) on its own thread, with its
 * HTTP health server, as a deployment runs it; the model is loaded once per JVM.
 */
final class RunningTeacher implements AutoCloseable {
    private static Teacher teacher;

    final TeacherService service;
    final HealthServer http;
    private final Thread thread;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private RunningTeacher(TeacherService service, HealthServer http) {
        this.service = service;
        this.http = http;
        this.thread = new Thread(service, "teacher-loop");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** Starts a teacher on the shared stack; {@code settings} override the topics, ids and anything else. */
    static RunningTeacher start(Map<String, String> settings) {
        Map<String, String> s = new HashMap<>(Map.of(
                "bootstrap.servers", SharedStack.get().bootstrapServers(),
                "schema.registry.url", SharedStack.get().registryUrl(),
                "http.port", "0"));
        s.putAll(settings);
        TeacherConfig config = TeacherConfig.of(s);
        synchronized (RunningTeacher.class) {
            if (teacher == null) {
                teacher = TeacherServiceMain.loadTeacher(config);
            }
        }
        TeacherService service = new TeacherService(config, teacher, new Metrics());
        try {
            HealthServer http = new HealthServer(config.integer("http.port"), service::isHealthy, service::notReadyReason,
                    () -> service.metrics().prometheus(service.isReady()));
            return new RunningTeacher(service, http);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** GET {@code path} on the health server: the status code and the body. */
    HttpResponse<String> get(String path) {
        try {
            return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    boolean alive() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        service.close();
        http.close();
    }
}
