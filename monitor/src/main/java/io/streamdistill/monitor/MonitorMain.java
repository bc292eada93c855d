package io.streamdistill.monitor;

import io.streamdistill.schemas.ServiceConfig;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code java -jar streamdistill-monitor.jar [--config FILE] [--key=value ...]}: the monitor as a
 * service (settings: docs/monitor.md; env {@code STREAMDISTILL_MONITOR_<KEY>} works too).
 */
public final class MonitorMain {
    private static final Logger LOG = LoggerFactory.getLogger(MonitorMain.class);

    public static void main(String[] args) throws Exception {
        // Native start-up code (ONNX Runtime, DJL) needs more than the default main-thread stack.
        Throwable[] failure = {null};
        Thread t = new Thread(null, () -> {
            try {
                start(args);
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "monitor-main", 64L << 20);
        t.start();
        t.join();
        if (failure[0] != null) {
            LOG.error("monitor failed: {}", failure[0].toString(), failure[0]);
            System.exit(1);
        }
    }

    private static void start(String[] args) throws Exception {
        MonitorConfig config;
        try {
            config = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("monitor: " + e.getMessage());
            System.err.println("usage: monitor [--config FILE] [--key=value ...], e.g. --bootstrap.servers=127.0.0.1:9092 "
                    + "--schema.registry.url=http://127.0.0.1:8080/apis/ccompat/v7 --http.port=8081");
            System.exit(2);
            return;
        }
        LOG.info("starting with {}", config);
        try {
            // Wrong credentials or a wrong port: one line naming the setting, not a streams client retrying forever.
            io.streamdistill.schemas.KafkaAccess.check(config.kafkaConfig(), "kafka.", java.time.Duration.ofSeconds(30));
        } catch (IllegalArgumentException e) {
            System.err.println("monitor: " + e.getMessage());
            System.exit(2);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Monitor monitor = Monitor.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LOG.info("stopping");
            monitor.close();
            stopped.countDown();
        }, "monitor-shutdown"));
        stopped.await();
    }

    static MonitorConfig parse(String[] args) {
        ServiceConfig.CommandLine cli = ServiceConfig.CommandLine.parse(args);
        if (cli.help()) {
            throw new IllegalArgumentException("settings: see docs/monitor.md; env STREAMDISTILL_MONITOR_<KEY> also works");
        }
        return MonitorConfig.load(cli.configFile(), System.getenv(), cli.flags());
    }

    private MonitorMain() {
    }
}
