package io.streamdistill.flinksql;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/** The columns a model's OUTPUT may declare, by name, each with the one SQL type it is written as. */
public enum OutputColumn {
    /** The most probable class (classification). */
    LABEL("label", "STRING"),
    /** Its probability (classification). */
    CONFIDENCE("confidence", "DOUBLE"),
    /** Every class's probability, in the student's class order (classification). */
    PROBABILITIES("probabilities", "ARRAY<DOUBLE>"),
    /** The unit embedding (embedding students). */
    EMBEDDING("embedding", "ARRAY<FLOAT>"),
    /** The student version that answered the row. */
    VERSION("version", "BIGINT"),
    /** The student line's name. */
    STUDENT("student", "STRING"),
    /** Who answered the row: 'student', or 'teacher' where a cascade sent it to the teacher. */
    ANSWERED_BY("answered_by", "STRING");

    private final String column;
    private final String sqlType;

    OutputColumn(String column, String sqlType) {
        this.column = column;
        this.sqlType = sqlType;
    }

    public String column() {
        return column;
    }

    /**
     * The output column {@code name} of {@code type} declares.
     *
     * @throws IllegalArgumentException naming the column, its type and what the provider writes, when it does not fit
     */
    public static OutputColumn of(String name, LogicalType type) {
        for (OutputColumn c : values()) {
            if (c.column.equals(name.toLowerCase(Locale.ROOT))) {
                if (!c.fits(type)) {
                    throw new IllegalArgumentException("OUTPUT column '" + name + "' is " + type.asSummaryString() + "; the streamdistill"
                            + " provider writes it as " + c.sqlType);
                }
                return c;
            }
        }
        throw new IllegalArgumentException("OUTPUT column '" + name + "' is not one the streamdistill provider writes; it writes "
                + Arrays.stream(values()).map(c -> c.column + " " + c.sqlType).collect(Collectors.joining(", ")));
    }

    private boolean fits(LogicalType type) {
        LogicalTypeRoot root = type.getTypeRoot();
        return switch (this) {
            case LABEL, STUDENT, ANSWERED_BY -> root == LogicalTypeRoot.VARCHAR || root == LogicalTypeRoot.CHAR;
            case CONFIDENCE -> root == LogicalTypeRoot.DOUBLE;
            case VERSION -> root == LogicalTypeRoot.BIGINT;
            case PROBABILITIES -> root == LogicalTypeRoot.ARRAY && type.getChildren().get(0).getTypeRoot() == LogicalTypeRoot.DOUBLE;
            case EMBEDDING -> root == LogicalTypeRoot.ARRAY && type.getChildren().get(0).getTypeRoot() == LogicalTypeRoot.FLOAT;
        };
    }
}
