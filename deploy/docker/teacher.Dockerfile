# The teacher service on the CPU build of ONNX Runtime.
# Build context: the repository root, after
#   mvn -B -ntp -pl teacher-service -am -DskipTests clean package
#   docker build -f deploy/docker/teacher.Dockerfile -t streamdistill/teacher:0.1.0-SNAPSHOT .
# The GPU variant is teacher-gpu.Dockerfile (another base image, and a -Pgpu build).
ARG JRE_IMAGE=eclipse-temurin:17-jre-noble
FROM ${JRE_IMAGE}

# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it; a real home, because DJL
# unpacks the tokenizer's native library under ~/.djl.ai.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/streamdistill streamdistill \
 && mkdir -p /var/cache/streamdistill \
 && chown streamdistill:streamdistill /var/cache/streamdistill

WORKDIR /opt/streamdistill
# Libraries first: they change less often than the service jar, so this layer is reused.
COPY teacher-service/target/lib/ lib/
COPY teacher-service/target/streamdistill-teacher-service.jar ./
# A lib/ left over from a -Pgpu build would add 640 MB of CUDA libraries this image cannot use.
RUN if ls lib/onnxruntime_gpu-*.jar >/dev/null 2>&1; then \
      echo "teacher-service/target/lib holds onnxruntime_gpu: rebuild with 'mvn clean package' without -Pgpu" >&2; exit 1; \
    fi

# Built-in teachers are copied out of their jars on first use (native code reads files).
ENV STREAMDISTILL_CACHE_DIR=/var/cache/streamdistill
USER 10001
EXPOSE 8080
# Half the memory for the heap: ONNX Runtime's arena and the tokenizer live outside it.
# Settings: STREAMDISTILL_TEACHER_* variables or --key=value arguments after the image name;
# JDK_JAVA_OPTIONS adds JVM flags.
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/streamdistill/streamdistill-teacher-service.jar"]
