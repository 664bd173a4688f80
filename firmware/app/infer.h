/*
 * infer.h - one timed model invocation and the arg-max of its scores.
 *
 * Scores are int8 whatever the model: an int8 model's outputs as they are; a
 * float32 model's probabilities p on the scale of TFLite's int8 softmax
 * output (scale 1/256, zero point -128): round(256 p) - 128, clamped to
 * [-128, 127].  RecognizeCommands and the protocol lines take them as they are.
 */
#ifndef KWS_APP_INFER_H
#define KWS_APP_INFER_H

#include <stdint.h>

#include "model_api.h"

/* Runs the model on input; returns 0 and fills scores and *cycles, or reports
 * `error reason=invoke code=N` and returns the model's non-zero status. */
int kws_infer(const kws_model_value_t *input, int8_t scores[KWS_MODEL_NUM_CLASSES], uint32_t *cycles);

/* Index of the highest score; ties go to the lower index. */
int32_t kws_argmax(const int8_t scores[KWS_MODEL_NUM_CLASSES]);

#endif /* KWS_APP_INFER_H */
