package io.streamdistill.student.sync;

import io.streamdistill.student.model.Student;
import io.streamdistill.student.train.Example;
import io.streamdistill.student.train.Learner;
import java.util.BitSet;
import java.util.List;

/**
 * One of N trainers that train one student together (data parallel, periodic model averaging). It
 * trains alone on its share of the records; at each sync round it hands over how far it moved
 * since the last round ({@link #take}) and, once the merged move of that round comes back,
 * {@link #adopt}s it: its parameters become the merged model plus whatever it trained since. Its
 * optimiser state (Adam's moments) stays its own.
 *
 * <p>With 8-bit moves ({@link ModelDelta#quantized}) the rounding error is not lost: what a row
 * moved beyond its 8-bit move stays between the parameters and the reference, so it goes with the
 * row's next move (error feedback). A row never trained again keeps it in this replica only, at
 * most half a step of its scale.
 */
public final class Replica {
    private final Learner trainer;
    /** Where the parameters were at the last round, as far as this replica knows the shared model. */
    private final float[][] ref;
    private final BitSet tokens = new BitSet();
    private final BitSet bigrams = new BitSet();
    private final boolean eightBit;
    private long records;

    /** A replica whose moves are at 32 bits per value. */
    public Replica(Learner trainer) {
        this(trainer, false);
    }

    /** @param eightBit whether its moves are quantized to 8 bits per value with a scale per row */
    public Replica(Learner trainer, boolean eightBit) {
        this.trainer = trainer;
        this.eightBit = eightBit;
        float[][] params = trainer.syncArrays();
        ref = new float[params.length][];
        for (int i = 0; i < params.length; i++) {
            ref[i] = params[i].clone();
        }
    }

    public Learner trainer() {
        return trainer;
    }

    /** Trains on a batch and remembers which embedding rows it may have moved. */
    public io.streamdistill.student.train.BatchResult train(List<Example> batch) {
        io.streamdistill.student.train.BatchResult result = trainer.train(batch);
        int buckets = trainer.bigramBuckets();
        for (Example e : batch) {
            int[] ids = e.tokenIds();
            for (int t = 0; t < ids.length; t++) {
                tokens.set(ids[t]);
                if (buckets > 0 && t > 0) {
                    bigrams.set(Student.bigramBucket(ids[t - 1], ids[t], buckets));
                }
            }
        }
        records += batch.size();
        return result;
    }

    /** The move since the last round; the next one starts from here. */
    public ModelDelta take() {
        float[][] params = trainer.syncArrays();
        int[] tokenRows = tokens.stream().toArray();
        int[] bigramRows = bigrams.stream().toArray();
        int dim = trainer.syncRowWidth();
        ModelDelta d;
        if (eightBit) {
            // The reference moves by what was sent; the rounding error stays for the row's next move.
            d = ModelDelta.takeQuantized(params, ref, tokenRows, bigramRows, dim, records);
        } else {
            d = ModelDelta.between(params, ref, tokenRows, bigramRows, dim, records);
            // Copied, not added: ref + (params - ref) can differ from params in the last bit.
            for (int row : tokenRows) {
                System.arraycopy(params[Student.TOKENS], row * dim, ref[Student.TOKENS], row * dim, dim);
            }
            for (int row : bigramRows) {
                System.arraycopy(params[Student.BIGRAMS], row * dim, ref[Student.BIGRAMS], row * dim, dim);
            }
        }
        for (int i = Student.BIGRAMS + 1; i < params.length; i++) {
            System.arraycopy(params[i], 0, ref[i], 0, params[i].length);
        }
        tokens.clear();
        bigrams.clear();
        records = 0;
        return d;
    }

    /**
     * The round this replica sent {@code own} for was merged into {@code merged}: replace its own
     * move by the merged one, keeping what it trained since.
     */
    public void adopt(ModelDelta merged, ModelDelta own) {
        float[][] params = trainer.syncArrays();
        merged.addTo(params, ref, 1f);
        own.addTo(params, ref, -1f);
    }
}
