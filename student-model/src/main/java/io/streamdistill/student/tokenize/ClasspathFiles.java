package io.streamdistill.student.tokenize;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Copies files that ship inside jars on the classpath (models, tokenizers) into the cache
 * directory once, because native libraries read files: {@code $STREAMDISTILL_CACHE_DIR/<sub>},
 * default {@code ~/.cache/streamdistill/<sub>}. Safe when several processes race.
 */
public final class ClasspathFiles {
    public static Path cacheDir(String sub) {
        String dir = System.getenv("STREAMDISTILL_CACHE_DIR");
        Path base = dir != null && !dir.isBlank() ? Path.of(dir) : Path.of(System.getProperty("user.home"), ".cache", "streamdistill");
        return base.resolve(sub);
    }

    /** The resource as a file in {@code dir}, copied there on first use. */
    public static Path extract(String resource, Path dir) {
        Path target = dir.resolve(resource);
        if (Files.isRegularFile(target)) {
            return target;
        }
        try (InputStream in = ClasspathFiles.class.getResourceAsStream("/" + resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is not on the classpath: the jar that ships it is missing");
            }
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, resource, ".tmp");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException raced) {
                Files.deleteIfExists(tmp); // another process copied it first
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + resource + " into " + dir, e);
        }
    }

    private ClasspathFiles() {
    }
}
