import io.streamdistill.teacher.model.BuiltInTeachers;
import io.streamdistill.teacher.model.Teacher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Texts per second of the built-in teacher (all-MiniLM-L6-v2) on one device: tokenise, sort by
 * length, batch, run, as the service does per poll, without Kafka. Exists because the module's
 * TeacherBenchmark always loads the teacher on the CPU. Run from the repository root with the
 * JDK's source launcher (no build step; the jar's manifest brings in its lib/):
 *
 * <pre>java -cp teacher-service/target/streamdistill-teacher-service.jar deploy/gpu/TeacherDeviceBench.java \
 *     --device=CUDA --texts=3000 --batch=32 --threads=1</pre>
 *
 * Prints one line starting with RESULT; "used" says where the teacher really ran (the teacher falls
 * back to the CPU, with a log line saying why, when CUDA cannot be had).
 */
public final class TeacherDeviceBench {
    public static void main(String[] args) throws Exception {
        // ONNX Runtime and DJL start-up overflowed the default main-thread stack on some class paths
        // (see TeacherServiceMain): run on a 64 MiB stack like the service.
        Throwable[] failure = new Throwable[1];
        Thread t = new Thread(null, () -> {
            try {
                run(args);
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "device-bench", 64L << 20);
        t.start();
        t.join();
        if (failure[0] != null) {
            failure[0].printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }

    static void run(String[] args) {
        String device = "CPU";
        int n = 3000;
        int batch = 32;
        int threads = 1;
        for (String a : args) {
            String value = a.substring(a.indexOf('=') + 1);
            if (a.startsWith("--device=")) {
                device = value;
            } else if (a.startsWith("--texts=")) {
                n = Integer.parseInt(value);
            } else if (a.startsWith("--batch=")) {
                batch = Integer.parseInt(value);
            } else if (a.startsWith("--threads=")) {
                threads = Integer.parseInt(value);
            } else {
                throw new IllegalArgumentException("unknown argument " + a + " (--device=CPU|CUDA --texts=N --batch=B --threads=T)");
            }
        }
        Teacher.Device requested = Teacher.Device.valueOf(device.toUpperCase(Locale.ROOT));
        List<String> texts = sentences(n, 42);
        try (Teacher teacher = Teacher.load(BuiltInTeachers.ALL_MINILM_L6_V2.descriptor(), threads, requested, 0)) {
            // Warm-up outside the clock: the first CUDA runs pick kernels and allocate the arena.
            runAll(teacher, texts.subList(0, Math.min(texts.size(), 8 * batch)), batch);
            long t0 = System.nanoTime();
            runAll(teacher, texts, batch);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "RESULT requested=%s used=%s texts=%d batch=%d threads=%d seconds=%.3f texts_per_second=%.1f%n",
                    requested, teacher.device(), n, batch, threads, seconds, n / seconds);
        }
    }

    /** Tokenise, sort by length (less padding), run in batches: the service's work per poll. */
    static void runAll(Teacher teacher, List<String> texts, int batch) {
        for (int from = 0; from < texts.size(); from += 256) {
            int[][] ids = teacher.tokenizer().encode(texts.subList(from, Math.min(texts.size(), from + 256)));
            Arrays.sort(ids, Comparator.comparingInt(a -> a.length));
            for (int b = 0; b < ids.length; b += batch) {
                teacher.infer(Arrays.copyOfRange(ids, b, Math.min(ids.length, b + batch)));
            }
        }
    }

    /** Deterministic sentences of 8 to 30 common words (about the corpus' length). */
    static List<String> sentences(int n, long seed) {
        String[] words = ("the a of and to in is was for on that with as by at from it an be this are which or "
                + "animal food plant person water small large green sweet wild river tree bird fish fruit bread cheese "
                + "meat leaf flower root seed farmer teacher child city house road field forest mountain light dark "
                + "quickly slowly often grows eats lives moves carries makes finds keeps holds").split(" ");
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = 8 + r.nextInt(23);
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < len; w++) {
                if (w > 0) {
                    sb.append(' ');
                }
                sb.append(words[r.nextInt(words.length)]);
            }
            out.add(sb.append('.').toString());
        }
        return out;
    }

    private TeacherDeviceBench() {
    }
}
