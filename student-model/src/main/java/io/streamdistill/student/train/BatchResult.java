package io.streamdistill.student.train;

/**
 * The outcome of one training step.
 *
 * @param step          the step count after it
 * @param meanLoss      mean loss over the batch, before the update
 * @param meanAgreement mean agreement (top-1 or cosine) over the batch, before the update
 * @param meanKl        mean KL(teacher || student) over the batch before the update (classification), else NaN
 * @param gradientNorm  the gradient's L2 norm before clipping
 * @param learningRate  the learning rate used
 */
public record BatchResult(long step, float meanLoss, float meanAgreement, float meanKl, float gradientNorm, float learningRate) {
}
