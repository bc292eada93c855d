package io.streamdistill.localstack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Loopback port helpers. */
public final class Ports {
    /** A port free on 127.0.0.1 right now (the OS picks it). */
    public static int free() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new LocalStackException("cannot find a free port on 127.0.0.1: " + e.getMessage(), e);
        }
    }

    /** Returns {@code port} if it is free, a free port when it is 0, and fails clearly when it is taken. */
    public static int claim(int port, String what) {
        if (port == 0) {
            return free();
        }
        if (port < 0 || port > 65535) {
            throw new LocalStackException(what + " port " + port + " is out of range 0..65535 (0 picks a free port)");
        }
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return port;
        } catch (IOException e) {
            throw new LocalStackException(what + " port " + port + " on 127.0.0.1 is already in use (" + e.getMessage()
                    + "): stop whatever holds it (e.g. `ss -ltnp | grep :" + port + "`), or pass 0 to pick a free port");
        }
    }

    private Ports() {
    }
}
