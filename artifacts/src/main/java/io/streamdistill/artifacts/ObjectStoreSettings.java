package io.streamdistill.artifacts;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a component reaches an S3-compatible object store: the keys Flink's S3 file system reads, so one
 * client file serves the trainer and every reader. A key left out falls back to the AWS SDK's own
 * chain (environment {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY}/{@code AWS_REGION}/
 * {@code AWS_ENDPOINT_URL}, profiles, instance roles).
 *
 * @param endpoint  {@code s3.endpoint}, e.g. {@code http://127.0.0.1:9000}; null: AWS (or {@code AWS_ENDPOINT_URL})
 * @param region    {@code s3.region}; null: the SDK's chain, else us-east-1 (S3-compatible stores ignore it)
 * @param accessKey {@code s3.access-key}; null with the secret: the SDK's credential chain
 * @param secretKey {@code s3.secret-key}; never printed
 * @param pathStyle {@code s3.path.style.access}: bucket in the path, as most S3-compatible stores need
 */
public record ObjectStoreSettings(URI endpoint, String region, String accessKey, String secretKey, boolean pathStyle) {
    public static final String ENDPOINT = "s3.endpoint";
    public static final String REGION = "s3.region";
    public static final String ACCESS_KEY = "s3.access-key";
    public static final String SECRET_KEY = "s3.secret-key";
    public static final String PATH_STYLE = "s3.path.style.access";
    /** The prefix of every object-store setting a component passes through. */
    public static final String PREFIX = "s3.";

    public ObjectStoreSettings {
        if ((accessKey == null) != (secretKey == null)) {
            throw new IllegalArgumentException(ACCESS_KEY + " and " + SECRET_KEY + " go together: give both, or neither (then the"
                    + " AWS SDK's credential chain applies)");
        }
        if (endpoint != null && (endpoint.getScheme() == null || !(endpoint.getScheme().equals("http") || endpoint.getScheme().equals("https"))
                || endpoint.getHost() == null)) {
            throw new IllegalArgumentException(ENDPOINT + " '" + endpoint + "' is not an http(s)://host[:port] URL");
        }
    }

    /** Nothing set: AWS itself through the SDK's chains. */
    public static ObjectStoreSettings defaults() {
        return new ObjectStoreSettings(null, null, null, null, false);
    }

    /**
     * The {@code s3.*} keys of a component's settings. Other keys are ignored, {@code s3.*} ones this reader does not use
     * too: Flink's S3 file system takes every {@code s3.*} key (as {@code fs.s3a.*}), so a file shared with the trainer may hold more.
     */
    public static ObjectStoreSettings from(Map<String, String> settings) {
        String endpoint = blankToNull(settings.get(ENDPOINT));
        String pathStyle = settings.getOrDefault(PATH_STYLE, "false").trim();
        if (!pathStyle.equals("true") && !pathStyle.equals("false")) {
            throw new IllegalArgumentException(PATH_STYLE + " must be true or false, got '" + pathStyle + "'");
        }
        URI uri;
        try {
            uri = endpoint == null ? null : URI.create(endpoint);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(ENDPOINT + " '" + endpoint + "' is not a URL: " + e.getMessage(), e);
        }
        return new ObjectStoreSettings(uri, blankToNull(settings.get(REGION)), blankToNull(settings.get(ACCESS_KEY)),
                blankToNull(settings.get(SECRET_KEY)), Boolean.parseBoolean(pathStyle));
    }

    /** Just the {@code s3.*} entries of a settings map. */
    public static Map<String, String> only(Map<String, String> settings) {
        Map<String, String> m = new LinkedHashMap<>();
        settings.forEach((k, v) -> {
            if (k.startsWith(PREFIX)) {
                m.put(k, v);
            }
        });
        return m;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    @Override
    public String toString() {
        return "ObjectStoreSettings[endpoint=" + (endpoint == null ? "AWS" : endpoint) + ", region=" + (region == null ? "default" : region)
                + ", credentials=" + (accessKey == null ? "the SDK's chain" : "access key " + accessKey + " and its secret")
                + ", pathStyle=" + pathStyle + "]";
    }
}
