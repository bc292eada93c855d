package io.streamdistill.student.math;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link Gemm} kernels and the choice among them. {@link #gemm()} returns the fastest one this JVM can run,
 * as measured by {@code mvn -pl student-model exec:exec@gemm-benchmark} (docs/benchmarks.md): the Vector API
 * kernel when the JVM was started with {@code --add-modules jdk.incubator.vector}, else the plain Java one.
 * {@code -Dstreamdistill.gemm=plain|vector|netlib} overrides the choice.
 */
public final class Kernels {
    /** System property that overrides the choice: plain, vector or netlib. */
    public static final String PROPERTY = "streamdistill.gemm";
    static final String VECTOR_MODULE = "jdk.incubator.vector";

    private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
    private static Gemm chosen;

    private Kernels() {
    }

    /** The kernel for this JVM, chosen once (one INFO line says which and why). */
    public static synchronized Gemm gemm() {
        if (chosen == null) {
            Choice choice = choose(System.getProperty(PROPERTY), vectorApiPresent());
            LOG.info("gemm kernel: {} ({})", choice.kernel().name(), choice.reason());
            chosen = choice.kernel();
        }
        return chosen;
    }

    /** Whether {@code jdk.incubator.vector} is in this JVM's boot layer, i.e. the Vector API kernel can run. */
    public static boolean vectorApiPresent() {
        return ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
    }

    /** The plain Java kernel; runs on every JVM. */
    public static Gemm plain() {
        return PlainGemm.INSTANCE;
    }

    /** dev.ludovic.netlib's sgemm (whichever implementation it picked for this JVM). */
    public static Gemm netlib() {
        return NetlibGemm.INSTANCE;
    }

    /** The Vector API kernel; only where {@link #vectorApiPresent()}. */
    public static Gemm vector() {
        if (!vectorApiPresent()) {
            throw new IllegalStateException("the vector gemm kernel needs the JVM option --add-modules " + VECTOR_MODULE);
        }
        try {
            // By name, so that no class of a JVM without the module ever links against jdk.incubator.vector.
            return (Gemm) Class.forName(Kernels.class.getPackageName() + ".VectorGemm").getDeclaredField("INSTANCE").get(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot load the vector gemm kernel", e);
        }
    }

    /** Every kernel this JVM can run: plain, vector (when the module is present), netlib. */
    public static List<Gemm> available() {
        List<Gemm> kernels = new ArrayList<>();
        kernels.add(plain());
        if (vectorApiPresent()) {
            kernels.add(vector());
        }
        kernels.add(netlib());
        return kernels;
    }

    record Choice(Gemm kernel, String reason) {
    }

    /** The choice for an override (null or blank: none) on a JVM with or without the Vector API module. */
    static Choice choose(String requested, boolean vectorPresent) {
        String override = requested == null ? "" : requested.strip().toLowerCase(Locale.ROOT);
        switch (override) {
            case "":
            case "auto":
                return vectorPresent
                        ? new Choice(vector(), "fastest measured; -D" + PROPERTY + "=plain|vector|netlib overrides")
                        : new Choice(plain(), VECTOR_MODULE + " is not in this JVM: start it with --add-modules "
                                + VECTOR_MODULE + " for the vector kernel, 2-3x faster (docs/benchmarks.md)");
            case "plain":
                return new Choice(plain(), "-D" + PROPERTY + "=plain");
            case "netlib":
                return new Choice(netlib(), "-D" + PROPERTY + "=netlib");
            case "vector":
                if (!vectorPresent) {
                    throw new IllegalStateException("-D" + PROPERTY + "=vector needs the JVM option --add-modules " + VECTOR_MODULE);
                }
                return new Choice(vector(), "-D" + PROPERTY + "=vector");
            default:
                throw new IllegalArgumentException("-D" + PROPERTY + " must be plain, vector, netlib or auto, got '" + requested + "'");
        }
    }
}
