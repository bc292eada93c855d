# The student trainer: Flink 2.2 with the job jar, for application mode (docker compose's
# standalone-job, or the Flink Kubernetes operator).
# Build context: the repository root, after
#   mvn -B -ntp -Pjob-jar -pl student-trainer -am -DskipTests clean package
#   docker build -f deploy/docker/trainer.Dockerfile -t streamdistill/trainer:0.1.0-SNAPSHOT .
ARG FLINK_IMAGE=flink:2.2.1-java17
FROM ${FLINK_IMAGE}
ARG VERSION=0.1.0-SNAPSHOT

# The Prometheus reporter ships as a plugin in the Flink distribution; fail here, not at run
# time, if a base image ever drops it.
RUN ls /opt/flink/plugins/metrics-prometheus/flink-metrics-prometheus-*.jar >/dev/null \
 || { echo "no Prometheus reporter under /opt/flink/plugins/metrics-prometheus" >&2; exit 1; }

# Written into conf/config.yaml with Flink's own tool, so a plain `docker run` has them. The
# Kubernetes operator writes its own conf/, so the FlinkDeployment repeats them.
# - parent-first, with the JNI packages named: the job jar is in lib/, and a JVM lets only one
#   class loader load a native library (ONNX Runtime, DJL, JNA, Kafka's codecs); a restarted job
#   in a fresh child-first loader would fail with "already loaded in another classloader", and
#   the Kafka connector (always from lib/) would see another kafka-clients than the job.
# - file-system checkpoints: the trainer's state is tens of MB, over the JobManager's 5 MB.
# - the Vector API module on TaskManagers: the transformer student's matrix kernel (a plain one without).
RUN bash /opt/flink/bin/config-parser-utils.sh /opt/flink/conf /opt/flink/bin /opt/flink/lib \
      "-Dmetrics.reporter.prom.factory.class=org.apache.flink.metrics.prometheus.PrometheusReporterFactory" \
      "-Dmetrics.reporter.prom.port=9249" \
      "-Dclassloader.resolve-order=parent-first" \
      "-Denv.java.opts.taskmanager=--add-modules jdk.incubator.vector" \
      "-Dclassloader.parent-first-patterns.additional=ai.onnxruntime.;ai.djl.;com.sun.jna.;org.xerial.snappy.;com.github.luben.zstd.;net.jpountz." \
      "-Dexecution.checkpointing.storage=filesystem" \
      "-Dexecution.checkpointing.dir=file:///data/flink-checkpoints" \
      "-Dexecution.checkpointing.savepoint-dir=file:///data/flink-savepoints"

# lib/, not usrlib/: classes in lib/ belong to the parent class loader, which loads each JNI
# library once per JVM however often the job restarts. In docker compose the job class is then
# found on the system class path and no user class loader is involved at all.
COPY --chown=flink:flink student-trainer/target/streamdistill-student-trainer-${VERSION}-job.jar /opt/flink/lib/streamdistill-student-trainer-job.jar

# Mount points owned by Flink's user (uid 9999): a new named volume or a PVC with fsGroup
# takes this ownership, so the job can write checkpoints and artifacts.
USER root
RUN mkdir -p /data/flink-checkpoints /data/flink-savepoints /data/artifacts \
 && chown -R flink:flink /data
USER flink
EXPOSE 9249
