package io.streamdistill.trainer;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Collects the messages one logger writes while attached (log4j2 is the test logging backend). */
final class LogCapture extends AbstractAppender implements AutoCloseable {
    final List<String> messages = new CopyOnWriteArrayList<>();
    private final Logger logger;

    LogCapture(Class<?> source) {
        this((Logger) LogManager.getLogger(source), "capture-" + source.getSimpleName());
    }

    private LogCapture(Logger logger, String name) {
        super(name, null, null, true, Property.EMPTY_ARRAY);
        this.logger = logger;
        start();
        logger.addAppender(this);
    }

    /** Every logger's messages (the root's appenders see them all), with their exceptions' text. */
    static LogCapture everything() {
        return new LogCapture((Logger) LogManager.getRootLogger(), "capture-all");
    }

    @Override
    public void append(LogEvent event) {
        messages.add(event.getMessage().getFormattedMessage() + (event.getThrown() == null ? "" : " " + event.getThrown()));
    }

    @Override
    public void close() {
        logger.removeAppender(this);
        stop();
    }
}
