package io.streamdistill.student.transformer;

import io.streamdistill.student.math.Gemm;
import io.streamdistill.student.train.Adam;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trains a {@link CausalLm}: each batch's loss ({@link CausalLm#loss}), its gradient clipped by the global norm,
 * a linear warm-up then a constant rate, and Adam on every tensor (the tied word table gets a gradient on every
 * row from the head, so no lazy update). The state, with Adam's moments and the step, is written and read back so
 * that training goes on bit for bit ({@code train-lm}'s resumable state).
 */
public final class LmTrainer {
    /** The state file's magic ("SDLM") and format version. */
    public static final int MAGIC = 0x53444C4D;
    public static final int STATE_FORMAT_VERSION = 1;

    /** Learning rate, warm-up steps, the gradient's largest global norm, Adam's betas and epsilon. */
    public record Settings(float learningRate, int warmupSteps, float clipNorm, float beta1, float beta2, float epsilon) {
        public Settings {
            if (!(learningRate > 0) || warmupSteps < 0 || !(clipNorm > 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)
                    || !(epsilon > 0)) {
                throw new IllegalArgumentException("LM training settings out of range: " + this);
            }
        }

        public static Settings defaults(float learningRate) {
            return new Settings(learningRate, 100, 1f, 0.9f, 0.999f, 1e-8f);
        }
    }

    private final CausalLm lm;
    private final Settings settings;
    private final List<String> names;
    private final Map<String, float[]> m = new java.util.LinkedHashMap<>();
    private final Map<String, float[]> v = new java.util.LinkedHashMap<>();
    private long step;

    public LmTrainer(EncoderParams params, Settings settings, Gemm gemm) {
        if (params.spec().typeVocab() != 0) {
            throw new IllegalArgumentException("a causal language model has no token types; got typeVocab " + params.spec().typeVocab());
        }
        this.lm = new CausalLm(params, gemm);
        this.settings = settings;
        this.names = new ArrayList<>(params.tensors().keySet());
        params.tensors().forEach((name, t) -> {
            m.put(name, new float[t.length]);
            v.put(name, new float[t.length]);
        });
    }

    public CausalLm model() {
        return lm;
    }

    public long step() {
        return step;
    }

    /** One step on a batch; returns its loss before the update. */
    public double train(int[][] tokens, CausalLm.TopK[] teacher, float alpha) {
        EncoderParams grads = EncoderParams.zeros(lm.spec());
        double loss = lm.loss(tokens, teacher, alpha, grads);
        double norm = 0;
        for (String name : names) {
            for (float g : grads.get(name)) {
                norm += (double) g * g;
            }
        }
        norm = Math.sqrt(norm);
        float gradScale = norm > settings.clipNorm() ? (float) (settings.clipNorm() / norm) : 1f;
        step++;
        float lr = settings.learningRate() * (settings.warmupSteps() == 0 ? 1f : Math.min(1f, step / (float) settings.warmupSteps()));
        float c1 = (float) (1 - Math.pow(settings.beta1(), step));
        float c2 = (float) (1 - Math.pow(settings.beta2(), step));
        for (String name : names) {
            float[] p = lm.params().get(name);
            Adam.update(p, grads.get(name), m.get(name), v.get(name), 0, p.length, settings.beta1(), settings.beta2(), c2, lr / c1,
                    settings.epsilon(), gradScale);
        }
        return loss;
    }

    /** Format version, the model's shape, the settings, the step, then every tensor with its Adam moments. */
    public void writeTo(DataOutputStream out) throws IOException {
        EncoderSpec s = lm.spec();
        out.writeInt(MAGIC);
        out.writeInt(STATE_FORMAT_VERSION);
        out.writeInt(s.vocab());
        out.writeInt(s.width());
        out.writeInt(s.layers());
        out.writeInt(s.heads());
        out.writeInt(s.ffn());
        out.writeInt(s.maxPositions());
        out.writeFloat(s.eps());
        out.writeFloat(settings.learningRate());
        out.writeInt(settings.warmupSteps());
        out.writeFloat(settings.clipNorm());
        out.writeFloat(settings.beta1());
        out.writeFloat(settings.beta2());
        out.writeFloat(settings.epsilon());
        out.writeLong(step);
        for (String name : names) {
            out.writeUTF(name);
            for (float[] a : new float[][] {lm.params().get(name), m.get(name), v.get(name)}) {
                out.writeInt(a.length);
                for (float x : a) {
                    out.writeFloat(x);
                }
            }
        }
        out.flush();
    }

    /** A trainer from {@link #writeTo}'s bytes; a file of another kind or version is refused with what it is. */
    public static LmTrainer readFrom(DataInputStream in, Gemm gemm) throws IOException {
        int magic = in.readInt();
        if (magic != MAGIC) {
            throw new IOException("not a language-model trainer state (magic " + Integer.toHexString(magic) + ")");
        }
        int version = in.readInt();
        if (version != STATE_FORMAT_VERSION) {
            throw new IOException("language-model trainer state format " + version + " is not " + STATE_FORMAT_VERSION);
        }
        EncoderSpec spec = new EncoderSpec(in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(), in.readInt(), 0,
                in.readFloat(), EncoderSpec.Pooling.MEAN);
        Settings settings = new Settings(in.readFloat(), in.readInt(), in.readFloat(), in.readFloat(), in.readFloat(), in.readFloat());
        long step = in.readLong();
        LmTrainer t = new LmTrainer(EncoderParams.zeros(spec), settings, gemm);
        t.step = step;
        for (String expected : t.names) {
            String name = in.readUTF();
            if (!name.equals(expected)) {
                throw new IOException("language-model trainer state holds tensor '" + name + "' where '" + expected + "' belongs");
            }
            for (float[] a : new float[][] {t.lm.params().get(name), t.m.get(name), t.v.get(name)}) {
                int n = in.readInt();
                if (n != a.length) {
                    throw new IOException("tensor '" + name + "' has " + n + " values in the state, " + a.length + " in the model");
                }
                for (int i = 0; i < n; i++) {
                    a[i] = in.readFloat();
                }
            }
        }
        return t;
    }
}
