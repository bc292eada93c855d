package io.streamdistill.schemas;

import org.apache.avro.util.ClassSecurityValidator;

/**
 * Avro 1.12 refuses to load generated classes from packages it has not been told to trust. This
 * adds the project's record package to whatever the JVM already trusts (system properties
 * included), once.
 */
public final class AvroTrust {
    public static final String RECORDS_PACKAGE = "io.streamdistill.records.";
    private static boolean installed;

    public static synchronized void install() {
        if (installed) {
            return;
        }
        ClassSecurityValidator.ClassSecurityPredicate ours = c -> c.getName().startsWith(RECORDS_PACKAGE);
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(ClassSecurityValidator.getGlobal(), ours));
        installed = true;
    }

    private AvroTrust() {
    }
}
