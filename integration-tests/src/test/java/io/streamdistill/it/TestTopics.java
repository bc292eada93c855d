package io.streamdistill.it;

import java.util.Map;

/** One test's own text, soft-target and dead-letter topics, and teacher settings that use them. */
record TestTopics(String in, String out, String dead) {
    static TestTopics create(String prefix) {
        return new TestTopics(SharedStack.newTopic(prefix + "-text", 1), SharedStack.newTopic(prefix + "-soft", 1),
                SharedStack.newTopic(prefix + "-dead", 1));
    }

    Map<String, String> teacherSettings() {
        return Map.of("input.topic", in, "output.topic", out, "dead.letter.topic", dead,
                "group.id", in + "-teacher", "transactional.id", in + "-teacher");
    }
}
