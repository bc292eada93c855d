package io.streamdistill.trainer.replay;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** The code version an experiment ran: the project version and the git commit it was built from. */
public final class BuildInfo {

    public static Map<String, String> describe() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/streamdistill-build.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // described as unknown below
        }
        Map<String, String> out = new LinkedHashMap<>();
        out.put("version", known(p.getProperty("version")));
        out.put("commit", known(p.getProperty("commit")));
        out.put("uncommitted_changes", known(p.getProperty("dirty")));
        return out;
    }

    /** An unfilled placeholder (built outside Maven or outside a git checkout) reads as "unknown". */
    private static String known(String v) {
        return v == null || v.isBlank() || v.startsWith("${") ? "unknown" : v;
    }

    private BuildInfo() {
    }
}
