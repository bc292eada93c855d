package io.streamdistill.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's dashboard in a real browser: headless Chromium (Debian package chromium; .ci/run
 * installs it) renders the page while the demo lingers after its run; the screenshot has drawn
 * charts, and the numbers on the page are the JSON endpoint's.
 */
class DashboardBrowserTest {

    @Test
    void theDashboardShowsChartsWithDataAndTheJsonEndpointsNumbers(@TempDir Path dir) throws Exception {
        String chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "chromium is not installed (Debian package chromium; .ci/run installs it)");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        int[] exit = {-1};
        Thread demo = new Thread(() -> exit[0] = Main.run("demo", "--records", "300", "--rate", "60", "--data-dir", dir.toString(),
                "--fresh", "--export-every-seconds", "5", "--eval-texts", "100", "--dashboard-port", String.valueOf(port),
                "--linger", "PT5M"), "demo");
        demo.start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(dir.resolve("summary.json")) && System.nanoTime() < deadline && demo.isAlive()) {
                Thread.sleep(500);
            }
            assertThat(dir.resolve("summary.json")).as("the demo finished its run and lingers").exists();
            String url = "http://127.0.0.1:" + port + "/";
            JsonNode summary = new ObjectMapper().readTree(HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(url + "api/summary")).build(), HttpResponse.BodyHandlers.ofString()).body());

            String dom = run(dir, chromium, "--window-size=1400,1800", "--dump-dom", url);
            assertThat(text(dom, "records-per-second")).isEqualTo(fixed(summary.get("records_per_second"), 2));
            assertThat(text(dom, "latency-p50")).isEqualTo(fixed(summary.get("teacher_latency_p50_ms"), 2));
            assertThat(text(dom, "dead-letters")).isEqualTo(summary.get("dead_letters").asText());
            JsonNode student = summary.get("students").elements().next();
            assertThat(text(dom, "latest-version")).isEqualTo("v" + student.get("version").asText());
            assertThat(text(dom, "latest-student")).isEqualTo(student.get("student").asText());
            assertThat(text(dom, "shadow-agreement")).isEqualTo(fixed(student.get("shadow_agreement"), 4));
            for (String chart : List.of("chart-throughput", "chart-latency", "chart-agreement", "chart-loss", "chart-drift")) {
                Matcher m = Pattern.compile("id=\"" + chart + "\"[^>]*data-points=\"(\\d+)\"").matcher(dom);
                assertThat(m.find()).as(chart + " was drawn").isTrue();
                assertThat(Integer.parseInt(m.group(1))).as(chart + " has data points").isPositive();
            }

            // No text cut off by its card (the page names what the browser laid out wider than its box), at a wide
            // window and at a laptop's; the loss chart leaves out versions trained on no records.
            assertThat(attribute(dom, "data-overflowing")).as("text cut off at 1400 px").isEmpty();
            assertThat(attribute(run(dir, chromium, "--window-size=1024,1400", "--dump-dom", url), "data-overflowing"))
                    .as("text cut off at 1024 px").isEmpty();
            JsonNode shadow = new ObjectMapper().readTree(HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(url + "api/shadow")).build(), HttpResponse.BodyHandlers.ofString()).body());
            long trained = java.util.stream.StreamSupport.stream(shadow.spliterator(), false)
                    .filter(v -> v.get("records_seen").asLong() > 0 && v.hasNonNull("checkpoint_loss")).count();
            Matcher loss = Pattern.compile("id=\"chart-loss\"[^>]*data-points=\"(\\d+)\"").matcher(dom);
            assertThat(loss.find()).isTrue();
            assertThat(Long.parseLong(loss.group(1))).as("loss points: versions trained on records").isEqualTo(trained);
            assertThat(dom).as("the agreement chart's version axis").containsPattern("id=\"chart-agreement\".*>v\\d+</text>");

            Path png = dir.resolve("dashboard.png");
            run(dir, chromium, "--screenshot=" + png, "--window-size=1400,1800", url);
            BufferedImage image = ImageIO.read(png.toFile());
            assertThat(image.getWidth()).isEqualTo(1400);
            assertThat(image.getHeight()).isEqualTo(1800);
            assertThat(pixels(image, 0x2563eb)).as("blue chart lines drawn").isGreaterThan(300);
            Files.copy(png, Path.of("target", "dashboard-screenshot.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            demo.interrupt();
            demo.join(TimeUnit.MINUTES.toMillis(2));
        }
        assertThat(exit[0]).isZero();
    }

    private static String chromium() {
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")) {
            if (Files.isExecutable(Path.of(c))) {
                return c;
            }
        }
        return null;
    }

    private static String run(Path dir, String chromium, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--hide-scrollbars", "--user-data-dir=" + dir.resolve("chromium-profile"), "--virtual-time-budget=10000"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(dir.resolve("chromium.log").toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(dir.resolve("chromium.log"))).isZero();
        return new String(out, StandardCharsets.UTF_8);
    }

    /** An attribute of the body, as the page left it. */
    private static String attribute(String dom, String name) {
        Matcher m = Pattern.compile("<body[^>]*\\s" + name + "=\"([^\"]*)\"").matcher(dom);
        assertThat(m.find()).as("body has " + name).isTrue();
        return m.group(1);
    }

    private static String text(String dom, String id) {
        Matcher m = Pattern.compile("id=\"" + id + "\"[^>]*>([^<]*)<").matcher(dom);
        assertThat(m.find()).as("element #" + id).isTrue();
        return m.group(1).trim();
    }

    /** The page's number format: JavaScript's toFixed. */
    private static String fixed(JsonNode v, int digits) {
        return v == null || v.isNull() ? "–" : String.format(Locale.ROOT, "%." + digits + "f", v.asDouble());
    }

    private static long pixels(BufferedImage image, int rgb) {
        long n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == rgb) {
                    n++;
                }
            }
        }
        return n;
    }
}
