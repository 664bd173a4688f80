/* infer.h - one timed model invocation and the arg-max of its scores. */
#ifndef KWS_APP_INFER_H
#define KWS_APP_INFER_H

#include <stdint.h>

#include "model_api.h"

/* Runs the model on input; returns 0 and fills scores and *cycles, or reports
 * `error reason=invoke code=N` and returns the model's non-zero status. */
int kws_infer(const int8_t *input, int8_t scores[KWS_MODEL_NUM_CLASSES], uint32_t *cycles);

/* Index of the highest score; ties go to the lower index. */
int32_t kws_argmax(const int8_t scores[KWS_MODEL_NUM_CLASSES]);

#endif /* KWS_APP_INFER_H */
