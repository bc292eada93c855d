package io.streamdistill.it;

import io.streamdistill.localstack.LocalStack;
import io.streamdistill.localstack.SharedLocalStack;
import io.streamdistill.schemas.registry.RegistryConfig;
import io.streamdistill.schemas.registry.SchemaRegistryClient;
import java.util.Map;

/**
 * The one embedded cluster (KRaft broker + Apicurio Registry) that every integration test in this
 * JVM shares ({@link SharedLocalStack}), and registry settings for it. Tests stay apart by using
 * their own topics ({@link #newTopic}).
 */
final class SharedStack {
    static LocalStack get() {
        return SharedLocalStack.get();
    }

    /** Creates a fresh topic for one test and waits until its partitions have leaders. */
    static String newTopic(String prefix, int partitions) {
        return SharedLocalStack.newTopic(prefix, partitions);
    }

    static SchemaRegistryClient registryClient() {
        return new SchemaRegistryClient(RegistryConfig.builder(get().registryUrl()).build());
    }

    static Map<String, Object> registryConfig() {
        return Map.of(RegistryConfig.URL, get().registryUrl());
    }

    private SharedStack() {
    }
}
