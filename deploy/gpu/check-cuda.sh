#!/usr/bin/env bash
# GPU check for the teacher: builds it with ONNX Runtime's CUDA build (-Pgpu) and measures texts/s
# of the built-in teacher on CUDA and on the CPU. Run from the repository root on a machine with an
# NVIDIA GPU; writes its logs and results under $OUT when that variable is set.
#
# NOT RUN YET: written on a machine without a GPU; nothing here has been executed.
#
# Needs on that machine: nvidia-smi and the driver; a JDK 17+ (the source launcher compiles
# TeacherDeviceBench.java) and Maven 3.8+; Maven Central or a local repository holding the
# dependencies, onnxruntime_gpu (about 640 MB) among them; the CUDA 12 runtime libraries and
# cuDNN 9 on the loader path (onnxruntime_gpu 1.29 is built for those; CUDA 13 libraries alone do
# not do). Without them ONNX Runtime falls back to the CPU and the CUDA line says used=CPU.
#
# The module's own benchmark (mvn -pl teacher-service exec:java@benchmark, class
# teacher-service/src/test/java/io/streamdistill/teacher/bench/TeacherBenchmark.java) has no
# device flag: it always loads the teacher on the CPU (its only knob is -Dbench.texts=N). So the
# CUDA-versus-CPU numbers come from deploy/gpu/TeacherDeviceBench.java (the same tokenise, sort,
# batch, run loop as the benchmark's "raw in-process loop"), and the module's benchmark runs after
# it unchanged (CPU, through Kafka) when RUN_SERVICE_BENCH=1.
#
# Variables: TEXTS (default 3000), BATCH (32), THREADS (ORT intra-op threads, 1), RUN_SERVICE_BENCH (0).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

out="${OUT:-}"
[ -n "$out" ] && mkdir -p "$out"
texts="${TEXTS:-3000}"
batch="${BATCH:-32}"
threads="${THREADS:-1}"
summary=""

say() { echo "check-cuda: $*"; summary+="$*"$'\n'; }
save() { [ -n "$out" ] && cp "$1" "$out/$2"; return 0; }
finish() {
  [ -n "$out" ] && printf '%s' "$summary" >"$out/summary.txt"
  exit "$1"
}

# 1. The GPU and the libraries ONNX Runtime's CUDA provider opens.
if ! command -v nvidia-smi >/dev/null 2>&1; then
  say "FAIL: nvidia-smi not found (no NVIDIA driver here)"
  finish 1
fi
nvidia-smi >/tmp/check-cuda-nvidia-smi.txt 2>&1 || { say "FAIL: nvidia-smi failed"; cat /tmp/check-cuda-nvidia-smi.txt; finish 1; }
save /tmp/check-cuda-nvidia-smi.txt nvidia-smi.txt
say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
for lib in libcudart.so.12 libcublasLt.so.12 libcudnn.so.9; do
  # A warning, not a failure: the run still shows what the teacher does without them (CPU fallback).
  ldconfig -p 2>/dev/null | grep -q "$lib" || say "WARNING: $lib not in the loader cache (ldconfig -p; LD_LIBRARY_PATH not checked): the CUDA run may fall back to the CPU"
done
for tool in java mvn; do
  command -v "$tool" >/dev/null 2>&1 || { say "FAIL: $tool not found (a JDK 17+ and Maven are needed)"; finish 1; }
done

# 2. The GPU build. lib/ is emptied first: a CPU build's onnxruntime jar left beside
# onnxruntime_gpu's would put two copies of ai.onnxruntime in reach.
rm -rf teacher-service/target/lib
if ! mvn -B -ntp -q -Pgpu -pl teacher-service -am -DskipTests package >/tmp/check-cuda-build.log 2>&1; then
  save /tmp/check-cuda-build.log build.log
  tail -40 /tmp/check-cuda-build.log
  say "FAIL: mvn -Pgpu build failed (log: build.log)"
  finish 1
fi
if ! ls teacher-service/target/lib/onnxruntime_gpu-*.jar >/dev/null 2>&1; then
  say "FAIL: the -Pgpu build has no onnxruntime_gpu jar in teacher-service/target/lib"
  finish 1
fi
say "built: $(basename teacher-service/target/lib/onnxruntime_gpu-*.jar)"

# 3. CUDA, then CPU, same texts and batch size. The jar's manifest names its lib/ jars.
bench() {
  java -cp teacher-service/target/streamdistill-teacher-service.jar deploy/gpu/TeacherDeviceBench.java \
    --device="$1" --texts="$texts" --batch="$batch" --threads="$threads" >"/tmp/check-cuda-bench-$1.txt" 2>&1
  local rc=$?
  save "/tmp/check-cuda-bench-$1.txt" "bench-$1.txt"
  grep '^RESULT' "/tmp/check-cuda-bench-$1.txt" || { tail -30 "/tmp/check-cuda-bench-$1.txt"; echo "no RESULT line (exit $rc)"; }
}
cuda_line=$(bench CUDA | tail -1)
say "CUDA: $cuda_line"
cpu_line=$(bench CPU | tail -1)
say "CPU:  $cpu_line"
rate() { sed -n 's/.*texts_per_second=\([0-9.]*\).*/\1/p' <<<"$1"; }
cuda_rate=$(rate "$cuda_line")
cpu_rate=$(rate "$cpu_line")
if [ -n "$cuda_rate" ] && [ -n "$cpu_rate" ]; then
  say "texts/s: CUDA $cuda_rate, CPU $cpu_rate, ratio $(awk -v a="$cuda_rate" -v b="$cpu_rate" 'BEGIN { printf "%.1f", a / b }')x"
fi
grep -q 'used=CUDA' <<<"$cuda_line" || say "WARNING: the CUDA run did not run on CUDA (see bench-CUDA.txt for the teacher's reason)"

# 4. Optionally the module's benchmark as it exists (CPU only, through an embedded Kafka and a
# real registry; several minutes; needs the registry distribution from Maven).
if [ "${RUN_SERVICE_BENCH:-0}" = "1" ]; then
  if mvn -B -ntp -q -Pgpu -pl teacher-service -am -DskipTests install >/tmp/check-cuda-install.log 2>&1 \
      && mvn -B -ntp -Pgpu -pl teacher-service exec:java@benchmark >/tmp/check-cuda-service-bench.txt 2>&1; then
    save teacher-service/target/benchmarks/teacher-service.json teacher-service-bench.json
    say "service benchmark (CPU): see service-bench.txt"
  else
    say "WARNING: the module's benchmark failed (see service-bench.txt / install.log)"
    save /tmp/check-cuda-install.log install.log
  fi
  save /tmp/check-cuda-service-bench.txt service-bench.txt
  grep '^|' /tmp/check-cuda-service-bench.txt || true
fi

finish 0
