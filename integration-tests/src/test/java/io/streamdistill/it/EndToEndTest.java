package io.streamdistill.it;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole pipeline on the embedded stack (the same scenario runs on containers in {@code ContainerStackTest}). */
class EndToEndTest {

    /** Text in; soft targets, a published student, and the monitor scoring it live come out. */
    @Test
    void textInStudentOutAndTheMonitorScoresIt(@TempDir Path dir) throws Exception {
        PipelineScenario.run(SharedStack.get().bootstrapServers(), SharedStack.get().registryUrl(),
                name -> SharedStack.newTopic("e2e-" + name, 1), dir);
    }
}
