package io.streamdistill.flinkcluster;

import io.streamdistill.localstack.ApicurioRegistry;
import io.streamdistill.localstack.LocalStackException;
import io.streamdistill.localstack.ParentWatchdog;
import io.streamdistill.localstack.Ports;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Flink session cluster of child JVMs, from the Flink runtime's Maven jars ({@link FlinkLib}; no
 * Flink distribution): one JobManager with its REST API and web UI, and N TaskManagers. Each child gets the same
 * lifeline as the registry ({@link ParentWatchdog}: it ends when this JVM does, even on SIGKILL).
 * The config is written to {@code <dir>/conf}, logs go to {@code <dir>/log}, checkpoints to
 * {@code <dir>/checkpoints}: one directory every process of the cluster shares. Memory settings and
 * JVM flags are computed the way Flink's own start scripts do ({@code BashJavaUtils}).
 */
public final class FlinkCluster implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FlinkCluster.class);
    static final String JOB_MANAGER = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint";
    static final String TASK_MANAGER = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner";
    static final String BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils";
    /** What Flink's scripts pass to every JVM (env.java.opts.all): without them REST job runs fail on Java 17. */
    static final List<String> OPENS = List.of("--add-exports=java.base/sun.net.util=ALL-UNNAMED",
            "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED", "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED", "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.text=ALL-UNNAMED",
            "--add-opens=java.base/java.time=ALL-UNNAMED", "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    /** Each process logs to its own file ({@code -Dlog.file}, which the web UI's log view reads too), at INFO, Kafka at WARN. */
    private static final String LOG4J = String.join("\n",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.file.ref = file",
            "appender.file.type = File",
            "appender.file.name = file",
            "appender.file.fileName = ${sys:log.file}",
            "appender.file.layout.type = PatternLayout",
            "appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n",
            "logger.kafka.name = org.apache.kafka",
            "logger.kafka.level = WARN",
            // The sink committer registers its gauge 'pendingCommittables' again at every checkpoint (Flink 2.2,
            // FLINK-37559 = FLINK-35321, open upstream): the first one stays and reports; the WARN repeated every
            // checkpoint says nothing. Only that message is dropped.
            "logger.metricgroup.name = org.apache.flink.metrics.MetricGroup",
            "logger.metricgroup.filter.pending.type = RegexFilter",
            "logger.metricgroup.filter.pending.regex = .*'pendingCommittables'.*",
            "logger.metricgroup.filter.pending.onMatch = DENY",
            "logger.metricgroup.filter.pending.onMismatch = NEUTRAL",
            // DJL probes for CUDA when the tokenizer loads; a CPU-only TaskManager needs no GPU.
            "logger.djlcuda.name = ai.djl.util.cuda.CudaUtils",
            "logger.djlcuda.level = ERROR",
            "");

    private final Path dir;
    private final int taskManagers;
    private final int slots;
    private final String classpath;
    private final Map<String, String> extraConfig;
    private final Duration startTimeout;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private int restPort;
    private Child jobManager;
    private final List<Child> taskManagerProcesses = new ArrayList<>();
    private int started;

    /** A child JVM and its log; the process holds the stdin pipe that is the child's lifeline. */
    private record Child(String name, Process process, Path log) {
        void kill() {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private FlinkCluster(Builder b) {
        this.dir = b.dir.toAbsolutePath();
        this.taskManagers = b.taskManagers;
        this.slots = b.slots;
        List<Path> jars = new ArrayList<>(b.classpath != null ? b.classpath : FlinkLib.jars());
        jars.addAll(b.libJars);
        this.classpath = String.join(java.io.File.pathSeparator, jars.stream().map(Path::toString).toList());
        this.extraConfig = new LinkedHashMap<>(b.config);
        this.startTimeout = b.startTimeout;
        this.restPort = b.restPort;
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Writes the config, starts the JobManager and the TaskManagers, and returns once every
     * TaskManager has registered.
     *
     * @throws LocalStackException a port in use, a process that exits, or a TaskManager that never
     *                             registers, with the last lines of its log
     */
    public synchronized FlinkCluster start() {
        if (!classpath.contains("flink-runtime")) {
            throw new LocalStackException("the classpath for the Flink cluster holds no flink-runtime jar: run it from a module that "
                    + "depends on Flink, or give the jars with FlinkCluster.builder().classpath(...)");
        }
        long t0 = System.nanoTime();
        restPort = Ports.claim(restPort, "Flink REST");
        try {
            Files.createDirectories(dir.resolve("conf"));
            Files.createDirectories(dir.resolve("log"));
            Files.createDirectories(dir.resolve("checkpoints"));
            Files.writeString(dir.resolve("conf").resolve("config.yaml"), config(), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("conf").resolve("log4j.properties"), LOG4J, StandardCharsets.UTF_8);
            // What every process runs from, one jar a line: the cluster's lib/.
            Files.writeString(dir.resolve("conf").resolve("classpath.txt"),
                    classpath.replace(java.io.File.pathSeparator, "\n") + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new LocalStackException("cannot write the Flink cluster's config under " + dir + ": " + e.getMessage(), e);
        }
        try {
            jobManager = launch("jobmanager", JOB_MANAGER, "GET_JM_RESOURCE_PARAMS");
            awaitRest();
            for (int i = 0; i < taskManagers; i++) {
                startTaskManager();
            }
            awaitTaskManagers(taskManagers);
        } catch (RuntimeException e) {
            close(); // no half-started cluster left behind
            throw e;
        }
        LOG.info("Flink cluster ready in {} ms: REST {} with {} TaskManager(s) of {} slot(s)", (System.nanoTime() - t0) / 1_000_000,
                restUrl(), taskManagers, slots);
        return this;
    }

    /** Starts one more TaskManager (a replacement after a kill); returns its index, which is also in its resource id. */
    public synchronized int startTaskManager() {
        int index = started++;
        taskManagerProcesses.add(launch("taskmanager-" + index, TASK_MANAGER, "GET_TM_RESOURCE_PARAMS",
                "taskmanager.resource-id=taskmanager-" + index));
        return index;
    }

    /** SIGKILLs a TaskManager, as a crash would. */
    public synchronized void killTaskManager(int index) {
        taskManagerProcesses.get(index).kill();
    }

    /** Whether the TaskManager process of that index is alive (false once {@link #killTaskManager} took it down). */
    public synchronized boolean taskManagerAlive(int index) {
        return taskManagerProcesses.get(index).process().isAlive();
    }

    /** How many TaskManager processes are alive. */
    public synchronized int aliveTaskManagers() {
        return (int) taskManagerProcesses.stream().filter(c -> c.process().isAlive()).count();
    }

    /** SIGKILLs the JobManager, as a crash would; the TaskManagers keep running and wait for a new one. */
    public synchronized void killJobManager() {
        jobManager.kill();
    }

    /**
     * Starts the JobManager again on the same addresses and waits for its REST API and for every
     * running TaskManager to reconnect. Without an HA service it knows no jobs: a job is submitted
     * again, and resumes from its retained checkpoint.
     */
    public synchronized void restartJobManager() {
        if (jobManager != null && jobManager.process().isAlive()) {
            throw new IllegalStateException("the JobManager is still running (pid " + jobManager.process().pid() + ")");
        }
        jobManager = launch("jobmanager", JOB_MANAGER, "GET_JM_RESOURCE_PARAMS");
        awaitRest();
        awaitTaskManagers(aliveTaskManagers());
    }

    /**
     * The index of the TaskManager that runs the job's (first) task now, from the REST API; -1 while
     * none does (the job is being scheduled or restarted).
     */
    public int taskManagerRunning(String jobId) {
        JsonNode job = get("/jobs/" + jobId);
        if (job == null || job.path("vertices").isEmpty()) {
            return -1;
        }
        JsonNode tms = get("/jobs/" + jobId + "/vertices/" + job.path("vertices").get(0).path("id").asText() + "/taskmanagers");
        if (tms == null) {
            return -1;
        }
        for (JsonNode tm : tms.path("taskmanagers")) {
            String id = tm.path("taskmanager-id").asText("");
            if (id.startsWith("taskmanager-") && "RUNNING".equals(tm.path("status").asText())) {
                return Integer.parseInt(id.substring("taskmanager-".length()));
            }
        }
        return -1;
    }

    /**
     * What a failed wait should say: each job the JobManager knows with its state and, from its
     * exception history, why it restarted (each distinct root cause once, with how often), then
     * which TaskManager processes are alive and the end of their stdout (a JVM that crashed says
     * so there, not in its log).
     */
    public synchronized String jobReport() {
        StringBuilder sb = new StringBuilder();
        JsonNode jobs = get("/jobs/overview");
        if (jobs == null) {
            sb.append("the JobManager's REST API does not answer\n");
        } else {
            for (JsonNode job : jobs.path("jobs")) {
                String id = job.path("jid").asText();
                sb.append("job '").append(job.path("name").asText()).append("' ").append(id).append(": ")
                        .append(job.path("state").asText()).append('\n');
                JsonNode exceptions = get("/jobs/" + id + "/exceptions?maxExceptions=50");
                Map<String, Integer> causes = new LinkedHashMap<>();
                for (JsonNode e : exceptions == null ? List.<JsonNode>of() : exceptions.path("exceptionHistory").path("entries")) {
                    causes.merge(rootCause(e.path("stacktrace").asText(e.path("exceptionName").asText())), 1, Integer::sum);
                }
                causes.forEach((cause, n) -> sb.append("  ").append(n).append("x ").append(cause).append('\n'));
            }
        }
        for (int i = 0; i < taskManagerProcesses.size(); i++) {
            Child tm = taskManagerProcesses.get(i);
            sb.append(tm.name()).append(tm.process().isAlive() ? " alive" : " not alive (exit " + tm.process().exitValue() + ")")
                    .append("; the end of its stdout:\n").append(tailOf(tm.log().resolveSibling(tm.name() + ".out"), 5)).append('\n');
        }
        return sb.toString();
    }

    /** The innermost "Caused by" line of a stack trace (its first line when it has none). */
    static String rootCause(String stacktrace) {
        String cause = stacktrace.lines().findFirst().orElse("(no exception text)");
        for (String line : stacktrace.lines().toList()) {
            if (line.startsWith("Caused by: ")) {
                cause = line.substring("Caused by: ".length());
            }
        }
        return cause.length() > 400 ? cause.substring(0, 400) + "…" : cause;
    }

    /** The TaskManagers the JobManager knows now. */
    public int registeredTaskManagers() {
        JsonNode overview = get("/overview");
        return overview == null ? 0 : overview.path("taskmanagers").asInt();
    }

    public String restUrl() {
        return "http://127.0.0.1:" + restPort;
    }

    /** host:port of the REST API, as {@code train --flink-cluster} and a remote environment take it. */
    public String restAddress() {
        return "127.0.0.1:" + restPort;
    }

    /** The directory every process shares (checkpoints, artifacts). */
    public Path sharedDir() {
        return dir;
    }

    /** The process ids of the JobManager and the running TaskManagers, for RSS reports. */
    public List<Long> pids() {
        List<Long> out = new ArrayList<>();
        if (jobManager != null) {
            out.add(jobManager.process().pid());
        }
        taskManagerProcesses.stream().filter(c -> c.process().isAlive()).forEach(c -> out.add(c.process().pid()));
        return out;
    }

    @Override
    public synchronized void close() {
        taskManagerProcesses.forEach(Child::kill);
        if (jobManager != null) {
            jobManager.kill();
        }
    }

    /** config.yaml: loopback addresses, memory that fits a laptop, fast failure detection, then the builder's entries over these. */
    private String config() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("jobmanager.rpc.address", "127.0.0.1");
        c.put("jobmanager.rpc.port", String.valueOf(Ports.free()));
        c.put("jobmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.bind-host", "127.0.0.1");
        c.put("taskmanager.host", "127.0.0.1");
        c.put("rest.address", "127.0.0.1");
        c.put("rest.bind-address", "127.0.0.1");
        c.put("rest.port", String.valueOf(restPort));
        c.put("jobmanager.memory.process.size", "768m");
        c.put("taskmanager.memory.process.size", "1g");
        c.put("taskmanager.memory.managed.size", "64m");
        c.put("taskmanager.numberOfTaskSlots", String.valueOf(slots));
        c.put("parallelism.default", "1");
        c.put("restart-strategy.type", "fixed-delay");
        // Enough for a slow, shared machine to ride out a minute of trouble; a job that still fails is
        // reported by jobReport() with the causes of its restarts.
        c.put("restart-strategy.fixed-delay.attempts", "100");
        c.put("restart-strategy.fixed-delay.delay", "1 s");
        c.put("jobmanager.execution.failover-strategy", "region");
        c.put("state.backend.type", "hashmap");
        c.put("execution.checkpointing.dir", dir.toUri() + "checkpoints");
        // A killed process is noticed when two heartbeat RPCs to it fail (~2 s); a live one that is
        // slow to answer (GC, a loaded machine) is given 15 s instead of 50 s before it counts as lost.
        c.put("heartbeat.interval", "1000");
        c.put("heartbeat.timeout", "15000");
        c.put("heartbeat.rpc-failure-threshold", "2");
        c.putAll(extraConfig);
        StringBuilder sb = new StringBuilder();
        c.forEach((k, v) -> sb.append(k).append(": \"").append(v.replace("\\", "\\\\").replace("\"", "\\\"")).append("\"\n"));
        return sb.toString();
    }

    /** A child JVM with the memory flags and dynamic properties Flink's scripts would give it, then ours ({@code key=value}). */
    private Child launch(String name, String mainClass, String resourceQuery, String... dynamicProperties) {
        List<String> params = resourceParams(resourceQuery);
        Path watchdog = ApicurioRegistry.ParentWatchdogInstaller.install(dir.resolve("watchdog-classes"));
        List<String> cmd = new ArrayList<>();
        cmd.add(java());
        cmd.addAll(List.of(params.get(0).trim().split("\\s+")));
        cmd.addAll(OPENS);
        if (mainClass.equals(TASK_MANAGER)) {
            // The transformer student's matrix kernel (student-model's Kernels): what env.java.opts.taskmanager gives a real cluster.
            cmd.add("--add-modules=jdk.incubator.vector");
        }
        Path log = dir.resolve("log").resolve(name + ".log");
        cmd.add("-Dlog.file=" + log);
        cmd.add("-Dlog4j.configurationFile=" + dir.resolve("conf").resolve("log4j.properties").toUri());
        cmd.add("-cp");
        cmd.add(watchdog + java.io.File.pathSeparator + classpath);
        cmd.add(ParentWatchdog.class.getName());
        cmd.add(String.valueOf(ProcessHandle.current().pid()));
        cmd.add(mainClass);
        cmd.add("--configDir");
        cmd.add(dir.resolve("conf").toString());
        if (params.size() > 1 && !params.get(1).isBlank()) {
            cmd.addAll(List.of(params.get(1).trim().split("\\s+")));
        }
        for (String d : dynamicProperties) {
            cmd.add("-D");
            cmd.add(d);
        }
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("log").resolve(name + ".out").toFile())).start();
            return new Child(name, p, log);
        } catch (IOException e) {
            throw new LocalStackException("cannot start the Flink " + name + " JVM: " + e.getMessage(), e);
        }
    }

    /** BashJavaUtils' answer: line 1 the JVM flags, line 2 the dynamic properties (after the main class). */
    private List<String> resourceParams(String query) {
        List<String> cmd = List.of(java(), "-cp", classpath, BASH_JAVA_UTILS, query, "--configDir", dir.resolve("conf").toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new LocalStackException("Flink's BashJavaUtils " + query + " failed: " + out.strip());
            }
            // Its answer is the lines after the marker "BASH_JAVA_UTILS_EXEC_RESULT:".
            List<String> result = new ArrayList<>();
            for (String line : out.split("\n")) {
                if (line.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")) {
                    result.add(line.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()));
                }
            }
            if (result.isEmpty()) {
                throw new LocalStackException("Flink's BashJavaUtils " + query + " printed no result: " + out.strip());
            }
            return result;
        } catch (IOException e) {
            throw new LocalStackException("cannot run Flink's BashJavaUtils: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted", e);
        }
    }

    private void awaitRest() {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (get("/overview") == null) {
            if (!jobManager.process().isAlive()) {
                throw new LocalStackException("the Flink JobManager exited with " + jobManager.process().exitValue() + "; the end of "
                        + jobManager.log() + ":\n" + tail(jobManager));
            }
            if (System.nanoTime() > deadline) {
                close();
                throw new LocalStackException("the Flink JobManager's REST API did not answer at " + restUrl() + " within "
                        + startTimeout.toSeconds() + " s; the end of its log:\n" + tail(jobManager));
            }
            sleep(200);
        }
    }

    /** Waits until at least {@code n} TaskManagers have registered. */
    public void awaitTaskManagers(int n) {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (registeredTaskManagers() < n) {
            for (Child c : taskManagerProcesses) {
                if (!c.process().isAlive() && c.process().exitValue() != 137 && c.process().exitValue() != 9) {
                    throw new LocalStackException("Flink " + c.name() + " exited with " + c.process().exitValue() + "; the end of its log:\n"
                            + tail(c));
                }
            }
            if (System.nanoTime() > deadline) {
                Child last = taskManagerProcesses.get(taskManagerProcesses.size() - 1);
                throw new LocalStackException(registeredTaskManagers() + " of " + n + " TaskManagers registered within "
                        + startTimeout.toSeconds() + " s; the end of " + last.name() + "'s log:\n" + tail(last));
            }
            sleep(200);
        }
    }

    private JsonNode get(String path) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(restUrl() + path)).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? new ObjectMapper().readTree(r.body()) : null;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static String tail(Child c) {
        for (Path p : List.of(c.log(), c.log().resolveSibling(c.name() + ".out"))) {
            String tail = tailOf(p, 20);
            if (!tail.isEmpty()) {
                return tail;
            }
        }
        return "(no log yet)";
    }

    /** The last {@code n} lines of a file; empty when it is missing or empty. */
    private static String tailOf(Path p, int n) {
        try {
            if (!Files.isRegularFile(p)) {
                return "";
            }
            List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalStackException("interrupted while waiting for the Flink cluster", e);
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public static final class Builder {
        private Path dir;
        private int taskManagers = 1;
        private int slots = 1;
        private int restPort;
        private List<Path> classpath;
        private final List<Path> libJars = new ArrayList<>();
        private final Map<String, String> config = new LinkedHashMap<>();
        private Duration startTimeout = Duration.ofSeconds(90);

        /** Config, logs and checkpoints go here; every process of the cluster shares it. */
        public Builder dir(Path d) {
            this.dir = d;
            return this;
        }

        public Builder taskManagers(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("--task-managers must be >= 1, got " + n);
            }
            this.taskManagers = n;
            return this;
        }

        public Builder slots(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("slots must be >= 1, got " + n);
            }
            this.slots = n;
            return this;
        }

        /** The REST port on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder restPort(int port) {
            this.restPort = port;
            return this;
        }

        /** The Flink runtime the children run from (default: {@link FlinkLib#jars()}, found on this JVM's classpath). */
        public Builder classpath(List<Path> jars) {
            this.classpath = List.copyOf(jars);
            return this;
        }

        /** More jars for every process's classpath, as a user adds them to a distribution's lib/ (JNI libraries, loaded once per JVM). */
        public Builder libJars(List<Path> jars) {
            this.libJars.addAll(jars);
            return this;
        }

        /** One more entry of config.yaml (e.g. {@code classloader.parent-first-patterns.additional}). */
        public Builder config(String key, String value) {
            this.config.put(key, value);
            return this;
        }

        public Builder startTimeout(Duration d) {
            this.startTimeout = d;
            return this;
        }

        public FlinkCluster build() {
            if (dir == null) {
                throw new IllegalArgumentException("a Flink cluster needs a directory for its config, logs and checkpoints");
            }
            return new FlinkCluster(this);
        }
    }
}
