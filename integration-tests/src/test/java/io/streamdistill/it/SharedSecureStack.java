package io.streamdistill.it;

import io.streamdistill.localstack.LocalStack;
import io.streamdistill.schemas.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * The one secure stack (SASL_SSL, ACLs, the registry over TLS) the integration tests of this JVM
 * share: making its certificates and starting it costs about 15 s. Its topics are the pipeline's
 * own ({@link Topics#ALL}), since the ACLs name them; tests keep apart by their record ids.
 */
final class SharedSecureStack {
    private static LocalStack stack;

    static synchronized LocalStack get() {
        if (stack == null) {
            try {
                stack = LocalStack.builder().dataDir(Files.createTempDirectory("streamdistill-secure-it-")).secure(true)
                        .topics(Topics.ALL, 1).build().start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            LocalStack s = stack;
            Runtime.getRuntime().addShutdownHook(new Thread(s::close, "shared-secure-stack-close"));
        }
        return stack;
    }

    private SharedSecureStack() {
    }
}
