# The monitor (Kafka Streams metrics, shadow evaluation, dashboard).
# Build context: the repository root, after
#   mvn -B -ntp -pl monitor -am -DskipTests clean package
#   docker build -f deploy/docker/monitor.Dockerfile -t streamdistill/monitor:0.1.0-SNAPSHOT .
ARG JRE_IMAGE=eclipse-temurin:17-jre-noble
FROM ${JRE_IMAGE}

# Same fixed uid and home as the teacher image (DJL unpacks its tokenizer library under ~).
# /data/artifacts is where the trainer's file:// artifacts are mounted (read only). Its owner is
# Flink's uid 9999 so that the compose volume, which takes the owner of whichever image mounts
# it first, stays writable for the trainer even when this container creates it.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/streamdistill streamdistill \
 && mkdir -p /var/cache/streamdistill /data/artifacts \
 && chown streamdistill:streamdistill /var/cache/streamdistill \
 && chown 9999:9999 /data/artifacts

WORKDIR /opt/streamdistill
COPY monitor/target/lib/ lib/
COPY monitor/target/streamdistill-monitor.jar ./

ENV STREAMDISTILL_CACHE_DIR=/var/cache/streamdistill
USER 10001
EXPOSE 8081
# Settings: STREAMDISTILL_MONITOR_* variables or --key=value arguments; JDK_JAVA_OPTIONS adds JVM flags.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/streamdistill/streamdistill-monitor.jar"]
