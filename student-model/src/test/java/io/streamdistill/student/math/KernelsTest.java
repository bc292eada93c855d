package io.streamdistill.student.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The kernel choice: with and without the Vector API module, and the system property that overrides it. */
class KernelsTest {
    @Test
    void withoutAnOverrideTheVectorKernelIsChosenWhenTheModuleIsThereElsePlainJava() {
        assertThat(Kernels.choose(null, true).kernel().name()).startsWith("vector");
        assertThat(Kernels.choose("auto", true).kernel().name()).startsWith("vector");
        Kernels.Choice absent = Kernels.choose("", false);
        assertThat(absent.kernel()).isSameAs(Kernels.plain());
        assertThat(absent.reason()).contains("--add-modules jdk.incubator.vector");
    }

    @Test
    void thePropertyOverridesTheChoice() {
        assertThat(Kernels.choose("plain", true).kernel()).isSameAs(Kernels.plain());
        assertThat(Kernels.choose(" NETLIB ", false).kernel()).isSameAs(Kernels.netlib());
        assertThat(Kernels.choose("vector", true).kernel().name()).startsWith("vector");
        assertThatThrownBy(() -> Kernels.choose("vector", false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("--add-modules jdk.incubator.vector");
        assertThatThrownBy(() -> Kernels.choose("blas", true)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plain, vector, netlib or auto, got 'blas'");
    }

    @Test
    void aJvmWithoutTheModuleChoosesPlainJavaAndNeverLoadsTheVectorKernel() throws Exception {
        List<String> out = probe();
        assertThat(out).contains("chosen: plain", "vector module: false", "matches reference: true");
        // -Xlog:class+load lists every class the JVM loaded: VectorGemm must not be among them.
        assertThat(out).noneMatch(line -> line.contains("VectorGemm"));
    }

    @Test
    void aJvmWithTheModuleChoosesTheVectorKernel() throws Exception {
        List<String> out = probe("--add-modules", "jdk.incubator.vector");
        assertThat(out).contains("vector module: true", "matches reference: true");
        assertThat(out).anyMatch(line -> line.startsWith("chosen: vector"));
    }

    @Test
    void aJvmWithTheModuleHonoursTheOverride() throws Exception {
        List<String> out = probe("--add-modules", "jdk.incubator.vector", "-D" + Kernels.PROPERTY + "=plain");
        assertThat(out).contains("chosen: plain", "vector module: true", "matches reference: true");
    }

    /** Runs {@link KernelProbe} in a fresh JVM with these options (and none of this JVM's), and returns its output. */
    private static List<String> probe(String... jvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xlog:class+load=info");
        command.addAll(List.of(jvmOptions));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(KernelProbe.class.getName());
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(output).isZero();
        return output.lines().toList();
    }
}
