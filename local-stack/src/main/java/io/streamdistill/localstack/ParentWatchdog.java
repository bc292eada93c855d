package io.streamdistill.localstack;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Entry point of child JVMs (the registry): starts the real main class and ends the child as soon
 * as its parent is gone, even when the parent was killed with SIGKILL and had no chance to clean
 * up. Two signals, either suffices: the parent holds the write end of the child's stdin, which
 * the kernel closes when the parent dies (EOF here); and the parent's process handle exits.
 *
 * <p>Self-contained on purpose (JDK classes only, no nested classes): {@link RegistryProcess}
 * copies this one class file next to the child's own classpath.
 */
public final class ParentWatchdog {
    /** Usage: {@code ParentWatchdog <parent-pid> <main-class> [args...]}. */
    public static void main(String[] args) throws Throwable {
        if (args.length < 2) {
            System.err.println("usage: ParentWatchdog <parent-pid> <main-class> [args...]");
            System.exit(2);
        }
        long parentPid = Long.parseLong(args[0]);
        Thread stdin = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // Nothing is ever sent; we only wait for end-of-file.
                }
            } catch (IOException ignored) {
                // A broken pipe means the same as EOF.
            }
            parentGone("its stdin closed");
        }, "parent-watchdog-stdin");
        stdin.setDaemon(true);
        stdin.start();
        ProcessHandle.of(parentPid).ifPresentOrElse(
                parent -> parent.onExit().thenRun(() -> parentGone("process " + parentPid + " exited")),
                () -> parentGone("process " + parentPid + " is not running"));
        try {
            Class.forName(args[1]).getMethod("main", String[].class)
                    .invoke(null, (Object) Arrays.copyOfRange(args, 2, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void parentGone(String why) {
        System.err.println("[parent-watchdog] parent process gone (" + why + "): stopping this child");
        Thread killer = new Thread(() -> {
            try {
                Thread.sleep(5000);
            } catch (InterruptedException ignored) {
                // Halting anyway.
            }
            Runtime.getRuntime().halt(1);
        }, "parent-watchdog-halt");
        killer.setDaemon(true);
        killer.start();
        System.exit(1);
    }

    private ParentWatchdog() {
    }
}
