package io.streamdistill.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamdistill.student.Hashing;
import io.streamdistill.student.math.Kernels;
import io.streamdistill.student.tokenize.ByteTokenizer;
import io.streamdistill.student.transformer.EncoderOnnx;
import io.streamdistill.student.transformer.EncoderParams;
import io.streamdistill.student.transformer.EncoderSpec;
import io.streamdistill.student.transformer.LmTrainer;
import io.streamdistill.student.transformer.LmWindows;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streamdistill train-lm --corpus FILE... --out DIR}: trains a small causal transformer on text (next-token
 * cross-entropy; the seed's first step, a teacher of the project's own) over the byte vocabulary, and writes it in
 * the signature Hugging Face's exporter gives causal LMs: {@code model.onnx}, {@code tokenizer.json} and a
 * descriptor, {@code teacher.json}. Progress and held-out perplexity as it goes; an interrupted run resumes from
 * {@code state.bin} in the output directory.
 */
@Command(name = "train-lm", mixinStandardHelpOptions = true,
        description = "Train a small causal language model on text (next-token cross-entropy, byte vocabulary) and export it as"
                + " model.onnx (input_ids, attention_mask -> logits) + tokenizer.json + teacher.json; resumable.")
public final class TrainLmCommand implements Callable<Integer> {
    @Option(names = "--corpus", required = true, description = "text files, a text a line; repeatable")
    List<Path> corpora;

    @Option(names = "--out", required = true, description = "where model.onnx, tokenizer.json, teacher.json and state.bin go")
    Path out;

    @Option(names = "--spec", defaultValue = "layers=2,width=64,heads=4,ffn=256,context=128",
            description = "the model: layers, width, heads, ffn, context (tokens, i.e. bytes) (default: ${DEFAULT-VALUE})")
    String spec;

    @Option(names = "--steps", defaultValue = "2000", description = "training steps in all, counting those a resumed run did (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--batch", defaultValue = "16", description = "windows of --spec's context per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--learning-rate", defaultValue = "0.003", description = "Adam's rate after a 100-step warm-up (default: ${DEFAULT-VALUE})")
    float learningRate;

    @Option(names = "--eval-every", defaultValue = "200", description = "held-out perplexity every N steps (default: ${DEFAULT-VALUE})")
    int evalEvery;

    @Option(names = "--save-every", defaultValue = "PT1M", description = "save the state this often, ISO-8601 (default: ${DEFAULT-VALUE})")
    Duration saveEvery;

    @Option(names = "--seed", defaultValue = "1", description = "initial weights and the windows drawn (default: ${DEFAULT-VALUE})")
    long seed;

    /** Every this-many-th text is held out of training, for the perplexity reported. */
    static final int HOLDOUT_EVERY = 20;

    @Override
    public Integer call() throws Exception {
        EncoderSpec shape = parseSpec(spec);
        if (steps < 1 || batch < 1 || evalEvery < 1 || !(learningRate > 0)) {
            throw new IllegalArgumentException("--steps, --batch and --eval-every must be >= 1 and --learning-rate > 0");
        }
        List<String> texts = new ArrayList<>();
        for (Path f : corpora) {
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("--corpus " + f + " is not a file");
            }
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    texts.add(line.strip());
                }
            }
        }
        List<String> train = new ArrayList<>();
        List<String> heldOut = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            (i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1 ? heldOut : train).add(texts.get(i));
        }
        int context = shape.maxPositions();
        int[] trainStream = LmWindows.stream(train);
        int[] heldOutStream = LmWindows.stream(heldOut);
        if (trainStream.length <= context || heldOutStream.length < 2) {
            throw new IllegalArgumentException("the corpus is too small: " + trainStream.length + " training bytes for a context of " + context
                    + " and " + heldOutStream.length + " held-out bytes (every " + HOLDOUT_EVERY + "th text is held out)");
        }
        Files.createDirectories(out);
        Path stateFile = out.resolve("state.bin");
        LmTrainer trainer;
        if (Files.isRegularFile(stateFile)) {
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(stateFile)))) {
                trainer = LmTrainer.readFrom(in, Kernels.gemm());
            }
            if (!trainer.model().spec().equals(shape)) {
                throw new IllegalArgumentException(stateFile + " holds a model of " + trainer.model().spec() + ", not --spec " + spec
                        + ": give the same --spec, or another --out");
            }
            System.out.printf("resuming at step %d of %d from %s%n", trainer.step(), steps, stateFile);
        } else {
            trainer = new LmTrainer(EncoderParams.random(shape, seed), LmTrainer.Settings.defaults(learningRate), Kernels.gemm());
        }
        long parameters = trainer.model().params().tensors().values().stream().mapToLong(t -> t.length).sum();
        System.out.printf("train-lm: %,d texts (%,d bytes) to train on, %,d held out (%,d bytes); %s, %,d parameters%n", train.size(),
                trainStream.length, heldOut.size(), heldOutStream.length, describe(shape), parameters);
        long t0 = System.nanoTime();
        long lastSave = t0;
        long startStep = trainer.step();
        double lossSum = 0;
        int lossCount = 0;
        double perplexity = Double.NaN;
        while (trainer.step() < steps) {
            lossSum += trainer.train(LmWindows.random(trainStream, context, batch, seed * 1_000_003L + trainer.step()), null, 0f);
            lossCount++;
            if (trainer.step() % evalEvery == 0 || trainer.step() == steps) {
                perplexity = heldOutPerplexity(trainer, heldOutStream, context);
                double rate = (trainer.step() - startStep) / ((System.nanoTime() - t0) / 1e9);
                System.out.printf("step %d/%d  train loss %.3f  held-out perplexity %.2f (per byte)  %.1f steps/s%n", trainer.step(), steps,
                        lossSum / lossCount, perplexity, rate);
                lossSum = 0;
                lossCount = 0;
            }
            if (System.nanoTime() - lastSave > saveEvery.toNanos()) {
                save(trainer, stateFile);
                lastSave = System.nanoTime();
            }
        }
        save(trainer, stateFile);
        if (Double.isNaN(perplexity)) {
            perplexity = heldOutPerplexity(trainer, heldOutStream, context);
        }
        byte[] model = EncoderOnnx.exportCausalLm(trainer.model().params());
        Files.write(out.resolve("model.onnx"), model);
        Files.writeString(out.resolve("tokenizer.json"), ByteTokenizer.tokenizerJson());
        writeDescriptor(shape, parameters, perplexity, trainer.step(), Hashing.sha256(model), (System.nanoTime() - t0) / 1e9);
        System.out.printf("wrote %s (%,d bytes), tokenizer.json and teacher.json to %s; held-out perplexity %.2f per byte%n",
                "model.onnx", model.length, out.toAbsolutePath(), perplexity);
        return 0;
    }

    /** exp of the mean next-token cross-entropy over the held-out stream, in windows of the context (at most 64). */
    static double heldOutPerplexity(LmTrainer trainer, int[] stream, int context) {
        return trainer.model().perplexity(LmWindows.consecutive(stream, context, 64));
    }

    private static void save(LmTrainer trainer, Path file) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
            trainer.writeTo(o);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void writeDescriptor(EncoderSpec shape, long parameters, double perplexity, long trainedSteps, String sha256, double seconds)
            throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode d = json.createObjectNode();
        d.put("id", "streamdistill-lm-" + sha256.substring(0, 12));
        d.put("task", "LANGUAGE_MODEL");
        d.put("model", "model.onnx");
        d.put("tokenizer", "tokenizer.json");
        d.put("maxTokens", shape.maxPositions());
        d.put("vocab", shape.vocab());
        d.put("endOfTextId", ByteTokenizer.END_OF_TEXT);
        ObjectNode trained = d.putObject("trained");
        trained.put("spec", describe(shape));
        trained.put("parameters", parameters);
        trained.put("steps", trainedSteps);
        trained.put("batch", batch);
        trained.put("learning_rate", learningRate);
        trained.put("held_out_perplexity_per_byte", perplexity);
        trained.put("seconds_this_run", seconds);
        trained.putPOJO("corpus", corpora.stream().map(p -> p.toAbsolutePath().toString()).toList());
        json.writerWithDefaultPrettyPrinter().writeValue(out.resolve("teacher.json").toFile(), d);
    }

    static String describe(EncoderSpec s) {
        return String.format("causal transformer %d layers, width %d, %d heads, ffn %d, context %d, vocab %d (bytes)", s.layers(), s.width(),
                s.heads(), s.ffn(), s.maxPositions(), s.vocab());
    }

    /** {@code layers=2,width=64,heads=4,ffn=256,context=128}; a key left out keeps its default, an unknown one is refused. */
    static EncoderSpec parseSpec(String text) {
        Map<String, Integer> v = new LinkedHashMap<>(Map.of("layers", 2, "width", 64, "heads", 4, "ffn", 256, "context", 128));
        for (String part : text.split(",")) {
            String[] kv = part.split("=", 2);
            String key = kv[0].trim();
            if (!v.containsKey(key) || kv.length != 2) {
                throw new IllegalArgumentException("--spec: '" + part + "' is not one of layers=, width=, heads=, ffn=, context=");
            }
            try {
                v.put(key, Integer.parseInt(kv[1].trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--spec: " + key + " must be a whole number, got '" + kv[1] + "'");
            }
        }
        if (v.get("layers") < 1 || v.get("layers") > 12) {
            throw new IllegalArgumentException("--spec: layers must be in 1..12, got " + v.get("layers"));
        }
        if (v.get("context") < 8) {
            throw new IllegalArgumentException("--spec: context must be >= 8, got " + v.get("context"));
        }
        return new EncoderSpec(ByteTokenizer.VOCAB, v.get("width"), v.get("layers"), v.get("heads"), v.get("ffn"), v.get("context"), 0,
                1e-12f, EncoderSpec.Pooling.MEAN);
    }
}
