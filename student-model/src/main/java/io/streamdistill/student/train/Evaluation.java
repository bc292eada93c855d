package io.streamdistill.student.train;

/**
 * How the student does on one example before (or without) training on it.
 *
 * @param loss      the training loss on this example
 * @param agreement classification: 1 when the student's top class is the teacher's, else 0;
 *                  embedding: the cosine between the student's and the teacher's vectors
 * @param kl        classification: KL(teacher || student) at the training temperature; embedding: 0
 * @param correct   1 or 0 against the hard label when there is one, else NaN
 */
public record Evaluation(float loss, float agreement, float kl, float correct) {
}
