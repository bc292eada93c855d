package io.streamdistill.artifacts;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Reads the file a checkpoint record names: {@code file:}, {@code http(s):} or {@code s3://bucket/key}.
 * Two kinds of failure: {@link ArtifactUnavailableException} when the store is down or answers 5xx
 * (wait and read again), a plain {@link IOException} when the file is missing or access is denied (the
 * version cannot be had). It only reads: the caller checks the bytes against the record's sha256.
 */
public final class ArtifactReader implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofMinutes(2);
    private final ObjectStoreSettings s3Settings;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private S3Client s3;

    public ArtifactReader(ObjectStoreSettings s3Settings) {
        this.s3Settings = s3Settings;
    }

    /** A reader taking its object-store settings from a component's {@code s3.*} settings. */
    public static ArtifactReader fromSettings(Map<String, String> settings) {
        return new ArtifactReader(ObjectStoreSettings.from(settings));
    }

    public byte[] read(URI uri) throws IOException {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme();
        switch (scheme) {
            case "file":
                try {
                    return Files.readAllBytes(Path.of(uri));
                } catch (NoSuchFileException e) {
                    throw new IOException("no file at " + uri, e);
                }
            case "http":
            case "https":
                return readHttp(uri);
            case "s3":
            case "s3a":
                return readS3(uri);
            default:
                throw new IOException("artifact URI scheme '" + scheme + "' is not supported (file, http, https, s3)");
        }
    }

    private byte[] readHttp(URI uri) throws IOException {
        HttpResponse<byte[]> r;
        try {
            r = http.send(HttpRequest.newBuilder(uri).timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException | HttpTimeoutException e) {
            throw new ArtifactUnavailableException("GET " + uri + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted reading " + uri);
        }
        if (r.statusCode() >= 500) {
            throw new ArtifactUnavailableException("GET " + uri + " answered " + r.statusCode(), null);
        }
        if (r.statusCode() != 200) {
            throw new IOException("GET " + uri + " answered " + r.statusCode());
        }
        return r.body();
    }

    private byte[] readS3(URI uri) throws IOException {
        String bucket = uri.getHost();
        String key = uri.getPath() == null || uri.getPath().length() < 2 ? null : uri.getPath().substring(1);
        if (bucket == null || key == null) {
            throw new IOException(uri + " names no object: expected s3://bucket/key");
        }
        try {
            return client().getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
        } catch (S3Exception e) {
            int status = e.statusCode();
            String what = "GET " + uri + " from " + where() + ": " + status + " " + (e.awsErrorDetails() == null ? e.getMessage()
                    : e.awsErrorDetails().errorCode());
            if (status >= 500) {
                throw new ArtifactUnavailableException(what, e);
            }
            if (status == 403) {
                throw new IOException(what + " (check " + ObjectStoreSettings.ACCESS_KEY + " and " + ObjectStoreSettings.SECRET_KEY + ")", e);
            }
            throw new IOException(what, e);
        } catch (SdkClientException e) {
            // No answer at all (connection refused, timed out, reset): the store is down or unreachable.
            throw new ArtifactUnavailableException("GET " + uri + " from " + where() + ": the store did not answer (" + e.getMessage() + ")", e);
        }
    }

    private String where() {
        return s3Settings.endpoint() == null ? "S3" : s3Settings.endpoint().toString();
    }

    private synchronized S3Client client() {
        if (s3 == null) {
            S3ClientBuilder b = S3Client.builder()
                    .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(5))
                            .socketTimeout(Duration.ofSeconds(60)).build())
                    .overrideConfiguration(o -> o.apiCallTimeout(TIMEOUT))
                    .forcePathStyle(s3Settings.pathStyle())
                    // Checksums only where S3 requires them: newer SDK defaults send headers S3-compatible stores refuse.
                    .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                    .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
            if (s3Settings.endpoint() != null) {
                b.endpointOverride(s3Settings.endpoint());
            }
            if (s3Settings.region() != null) {
                b.region(Region.of(s3Settings.region()));
            } else if (s3Settings.endpoint() != null) {
                b.region(Region.US_EAST_1); // an S3-compatible store ignores it; the SDK needs one to sign
            }
            b.credentialsProvider(s3Settings.accessKey() != null
                    ? StaticCredentialsProvider.create(AwsBasicCredentials.create(s3Settings.accessKey(), s3Settings.secretKey()))
                    : DefaultCredentialsProvider.builder().build());
            s3 = b.build();
        }
        return s3;
    }

    @Override
    public synchronized void close() {
        if (s3 != null) {
            s3.close();
            s3 = null;
        }
    }
}
