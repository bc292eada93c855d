package io.streamdistill.teacher;

import io.streamdistill.schemas.ServiceConfig;
import io.streamdistill.teacher.http.HealthServer;
import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import io.streamdistill.teacher.model.TeacherDescriptor;
import io.streamdistill.teacher.service.Metrics;
import io.streamdistill.teacher.service.TeacherConfig;
import io.streamdistill.teacher.service.TeacherService;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the teacher service:
 * {@code java -jar streamdistill-teacher-service.jar [--config FILE] [--key=value ...]}.
 * Settings also come from {@code STREAMDISTILL_TEACHER_*} environment variables; see
 * {@link TeacherConfig}. SIGTERM stops it gracefully.
 */
public final class TeacherServiceMain {
    private static final Logger LOG = LoggerFactory.getLogger(TeacherServiceMain.class);

    public static void main(String[] args) throws Exception {
        // Native start-up code (ONNX Runtime, DJL) overflowed the JVM's default 1 MiB main-thread stack
        // and killed the process with a bare SIGSEGV on some class paths: run on a 64 MiB stack instead.
        Exception[] failure = new Exception[1];
        Thread main = new Thread(null, () -> {
            try {
                start(args);
            } catch (Exception e) {
                failure[0] = e;
            }
        }, "teacher-main", 64L << 20);
        main.start();
        main.join();
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private static void start(String[] args) throws Exception {
        TeacherConfig config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("teacher-service: " + e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        LOG.info("starting with {}", config);
        try {
            // Wrong credentials or a wrong port: one line naming the setting, before the model loads and no retry loop.
            io.streamdistill.schemas.KafkaAccess.check(config.kafkaConfig(), "kafka.", java.time.Duration.ofSeconds(30));
        } catch (IllegalArgumentException e) {
            System.err.println("teacher-service: " + e.getMessage());
            System.exit(2);
            return;
        }
        Teacher teacher = loadTeacher(config);
        TeacherService service = new TeacherService(config, teacher, new Metrics());
        HealthServer http = config.integer("http.port") < 0 ? null
                : new HealthServer(config.string("http.bind"), config.integer("http.port"), service::isHealthy, service::notReadyReason,
                        () -> service.metrics().prometheus(service.isReady()));
        if (http != null) {
            LOG.info("health, readiness and metrics on port {}: /health, /ready, /metrics", http.port());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping: finishing the transaction in progress");
            service.close();
            if (http != null) {
                http.close();
            }
            teacher.close();
        }, "teacher-shutdown"));
        service.run();
    }

    /** Loads a built-in teacher by id, or a descriptor file by path. */
    public static Teacher loadTeacher(TeacherConfig config) {
        String name = config.string("teacher");
        BuiltInTeachers builtIn = BuiltInTeachers.byId(name);
        TeacherDescriptor d;
        if (builtIn != null) {
            d = builtIn.descriptor();
        } else if (Files.isRegularFile(Path.of(name))) {
            d = TeacherDescriptor.read(Path.of(name));
        } else {
            throw new IllegalArgumentException("teacher '" + name + "' is neither a built-in teacher " + BuiltInTeachers.ids()
                    + " nor a descriptor file");
        }
        if (config.integer("teacher.max.tokens") > 0) {
            d = d.withMaxTokens(config.integer("teacher.max.tokens"));
        }
        return Teacher.load(d, config.integer("teacher.threads"), config.enumValue("teacher.device", Teacher.Device.class),
                config.integer("teacher.cuda.device"));
    }

    static TeacherConfig parse(String[] args) {
        ServiceConfig.CommandLine cli = ServiceConfig.CommandLine.parse(args);
        if (cli.help()) {
            System.out.println(usage());
            System.exit(0);
        }
        return TeacherConfig.load(cli.configFile(), System.getenv(), cli.flags());
    }

    static String usage() {
        return "usage: teacher-service [--config FILE] [--key=value ...]\n"
                + "  e.g. --bootstrap.servers=127.0.0.1:9092 --schema.registry.url=http://127.0.0.1:8080/apis/ccompat/v7\n"
                + "  settings: see docs/teacher-service.md; env STREAMDISTILL_TEACHER_<KEY> also works";
    }

    private TeacherServiceMain() {
    }
}
