# The teacher service on ONNX Runtime's CUDA build.
# Build context: the repository root, after
#   mvn -B -ntp -Pgpu -pl teacher-service -am -DskipTests clean package
#   docker build -f deploy/docker/teacher-gpu.Dockerfile -t streamdistill/teacher-gpu:0.1.0-SNAPSHOT .
# Run it with a GPU (docker run --gpus all, or deploy/compose.gpu.yml, or the Kubernetes
# Deployment) and STREAMDISTILL_TEACHER_TEACHER_DEVICE=CUDA. Without a usable GPU the teacher
# logs one line and runs on the CPU.
# onnxruntime_gpu 1.29 needs the CUDA 12 runtime libraries and cuDNN 9: the "cudnn-runtime"
# images of CUDA 12.x carry both (the host needs only the NVIDIA driver).
ARG CUDA_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
ARG JRE_IMAGE=eclipse-temurin:17-jre-noble
FROM ${JRE_IMAGE} AS jre

FROM ${CUDA_IMAGE}
ENV JAVA_HOME=/opt/java/openjdk
ENV PATH=${JAVA_HOME}/bin:${PATH}
# The same Temurin 17 runtime as the CPU image, without a package manager round trip.
COPY --from=jre /opt/java/openjdk /opt/java/openjdk
# curl for the compose health check; CA certificates for TLS to Kafka or the registry.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --create-home --home-dir /home/streamdistill streamdistill \
 && mkdir -p /var/cache/streamdistill \
 && chown streamdistill:streamdistill /var/cache/streamdistill

WORKDIR /opt/streamdistill
COPY teacher-service/target/lib/ lib/
COPY teacher-service/target/streamdistill-teacher-service.jar ./
# A CPU build copied here would silently never use the GPU: refuse it.
RUN if ! ls lib/onnxruntime_gpu-*.jar >/dev/null 2>&1; then \
      echo "teacher-service/target/lib has no onnxruntime_gpu jar: build with 'mvn -Pgpu clean package'" >&2; exit 1; \
    fi

ENV STREAMDISTILL_CACHE_DIR=/var/cache/streamdistill \
    STREAMDISTILL_TEACHER_TEACHER_DEVICE=CUDA
USER 10001
EXPOSE 8080
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/streamdistill/streamdistill-teacher-service.jar"]
