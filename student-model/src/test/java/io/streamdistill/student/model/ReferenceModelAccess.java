package io.streamdistill.student.model;

/** Lets tests in other packages use the double-precision reference. */
public final class ReferenceModelAccess {
    public static double topK(double[] z, int[] ids, float[] topLogits, double lseTeacher) {
        return ReferenceModel.topKLoss(z, ids, topLogits, lseTeacher);
    }

    private ReferenceModelAccess() {
    }
}
