package io.streamdistill.flinksql;

import io.streamdistill.schemas.Topics;
import io.streamdistill.serving.Cascade;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * {@code 'provider' = 'streamdistill'}: a model that answers with a student's newest verified version,
 * followed on its checkpoint topic while the job runs.
 *
 * <pre>
 * CREATE MODEL m INPUT (text STRING) OUTPUT (label STRING, confidence DOUBLE, version BIGINT) WITH (
 *   'provider' = 'streamdistill', 'student' = 'demo-classification',
 *   'bootstrap.servers' = '...', 'schema.registry.url' = '...');
 * SELECT * FROM ML_PREDICT(TABLE texts, MODEL m, DESCRIPTOR(text));
 * </pre>
 *
 * Options are checked when the query is planned; errors name the option or column and what it should be.
 * {@code kafka.*}, {@code schema.registry.*}, {@code basic.auth.*} and {@code s3.*} options pass through to the clients
 * (the secure stack's settings, as every other StreamDistill component takes them).
 */
public final class StudentModelProviderFactory implements ModelProviderFactory {
    public static final String IDENTIFIER = "streamdistill";

    public static final ConfigOption<String> STUDENT = ConfigOptions.key("student").stringType().noDefaultValue()
            .withDescription("the student line to answer with (its checkpoint records' key)");
    public static final ConfigOption<String> BOOTSTRAP_SERVERS = ConfigOptions.key("bootstrap.servers").stringType().noDefaultValue()
            .withDescription("the Kafka cluster holding the checkpoint topic");
    public static final ConfigOption<String> REGISTRY_URL = ConfigOptions.key("schema.registry.url").stringType().noDefaultValue()
            .withDescription("the schema registry the checkpoint records are framed with");
    public static final ConfigOption<String> CHECKPOINTS_TOPIC = ConfigOptions.key("checkpoints.topic").stringType()
            .defaultValue(Topics.CHECKPOINTS).withDescription("the topic the trainer publishes versions to");
    public static final ConfigOption<String> VERSION = ConfigOptions.key("version").stringType().defaultValue("latest")
            .withDescription("'latest' (follow every new version) or a version number (pinned)");
    public static final ConfigOption<String> TOKENIZER = ConfigOptions.key("tokenizer").stringType().defaultValue("all-MiniLM-L6-v2")
            .withDescription("the student's tokenizer, as the trainer's student.tokenizer");
    public static final ConfigOption<String> CASCADE = ConfigOptions.key("cascade").stringType().noDefaultValue()
            .withDescription("answer from the teacher where the student is unsure: teacher-calls=SHARE or agreement=SHARE, calibrated"
                    + " per version on the trainer's held-out soft targets (classification students)");
    public static final ConfigOption<String> CASCADE_TEACHER = ConfigOptions.key("cascade.teacher").stringType().noDefaultValue()
            .withDescription("with 'cascade': the teacher, a built-in id, descriptor file or directory with the student's classes");
    public static final ConfigOption<String> CASCADE_TOPIC = ConfigOptions.key("cascade.topic").stringType()
            .defaultValue(Topics.SOFT_TARGETS).withDescription("with 'cascade': the soft targets whose held-out records calibrate it");
    public static final ConfigOption<Integer> CASCADE_HOLDOUT_TEXTS = ConfigOptions.key("cascade.holdout-texts").intType()
            .defaultValue(2000).withDescription("with 'cascade': calibrate on at most this many held-out texts");
    public static final ConfigOption<Duration> FIRST_VERSION_WAIT = ConfigOptions.key("first-version-wait").durationType()
            .defaultValue(Duration.ofMinutes(2)).withDescription("how long a task waits at start for a version to load");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(STUDENT, BOOTSTRAP_SERVERS, REGISTRY_URL);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(CHECKPOINTS_TOPIC, VERSION, TOKENIZER, FIRST_VERSION_WAIT, CASCADE, CASCADE_TEACHER, CASCADE_TOPIC,
                CASCADE_HOLDOUT_TEXTS);
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper = FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validateExcept("kafka.", "schema.registry.", "basic.auth.", "s3.");
        ResolvedCatalogModel model = context.getCatalogModel();
        String name = context.getObjectIdentifier().asSummaryString();
        ResolvedSchema input = model.getResolvedInputSchema();
        if (input.getColumnCount() != 1 || input.getColumns().get(0).getDataType().getLogicalType().getTypeRoot() != LogicalTypeRoot.VARCHAR) {
            throw new ValidationException("model " + name + ": INPUT must be one STRING column (the text), got " + input);
        }
        List<OutputColumn> outputs = new ArrayList<>();
        for (Column c : model.getResolvedOutputSchema().getColumns()) {
            try {
                outputs.add(OutputColumn.of(c.getName(), c.getDataType().getLogicalType()));
            } catch (IllegalArgumentException e) {
                throw new ValidationException("model " + name + ": " + e.getMessage());
            }
        }
        String version = helper.getOptions().get(VERSION).trim();
        Long pinned = null;
        if (!version.equals("latest")) {
            try {
                pinned = Long.parseLong(version);
            } catch (NumberFormatException e) {
                pinned = 0L;
            }
            if (pinned < 1) {
                throw new ValidationException("model " + name + ": 'version' must be 'latest' or a version number >= 1, got '" + version + "'");
            }
        }
        StudentModelProvider.CascadeSpec cascade = cascade(helper, name, outputs);
        Map<String, String> clients = new LinkedHashMap<>();
        model.getOptions().forEach((k, v) -> {
            if (k.equals(BOOTSTRAP_SERVERS.key()) || io.streamdistill.schemas.ClientSettings.isPassThrough(k)) {
                clients.put(k, v);
            }
        });
        return new StudentModelProvider(new StudentModelProvider.Spec(helper.getOptions().get(STUDENT), clients,
                helper.getOptions().get(CHECKPOINTS_TOPIC), pinned, helper.getOptions().get(TOKENIZER),
                helper.getOptions().get(FIRST_VERSION_WAIT), outputs, cascade));
    }

    /** The cascade options, checked at planning; null without 'cascade'. */
    private static StudentModelProvider.CascadeSpec cascade(FactoryUtil.ModelProviderFactoryHelper helper, String name,
                                                            List<OutputColumn> outputs) {
        String target = helper.getOptions().getOptional(CASCADE).orElse(null);
        String teacher = helper.getOptions().getOptional(CASCADE_TEACHER).orElse(null);
        if (target == null) {
            if (teacher != null || outputs.contains(OutputColumn.ANSWERED_BY)) {
                throw new ValidationException("model " + name + ": '" + CASCADE_TEACHER.key() + "' and the answered_by column go with"
                        + " 'cascade'");
            }
            return null;
        }
        try {
            Cascade.Target.parse(target);
        } catch (IllegalArgumentException e) {
            throw new ValidationException("model " + name + ": 'cascade' must be teacher-calls=SHARE or agreement=SHARE, got '" + target + "'");
        }
        if (teacher == null || teacher.isBlank()) {
            throw new ValidationException("model " + name + ": 'cascade' needs '" + CASCADE_TEACHER.key() + "' (a built-in teacher id,"
                    + " descriptor file or directory, with the student's classes)");
        }
        int holdout = helper.getOptions().get(CASCADE_HOLDOUT_TEXTS);
        if (holdout < 10) {
            throw new ValidationException("model " + name + ": '" + CASCADE_HOLDOUT_TEXTS.key() + "' must be >= 10, got " + holdout);
        }
        if (outputs.contains(OutputColumn.EMBEDDING)) {
            throw new ValidationException("model " + name + ": a cascade answers classification students; drop the embedding column");
        }
        return new StudentModelProvider.CascadeSpec(target, teacher, helper.getOptions().get(CASCADE_TOPIC), holdout);
    }
}
