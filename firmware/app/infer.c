/* infer.c - model invocation between two DWT reads. */
#include "infer.h"

#include "dwt.h"
#include "line.h"

const char *const kws_model_labels[KWS_MODEL_NUM_CLASSES] = KWS_MODEL_LABELS;

int kws_infer(const int8_t *input, int8_t scores[KWS_MODEL_NUM_CLASSES], uint32_t *cycles)
{
    uint32_t start = kws_dwt_cycles();
    int status = kws_model_invoke(input, scores);
    *cycles = kws_dwt_cycles() - start;
    if (status != 0) {
        struct kws_line line;
        kws_line_begin(&line, "error");
        kws_line_str(&line, "reason", "invoke");
        kws_line_i32(&line, "code", status);
        kws_line_send(&line);
    }
    return status;
}

int32_t kws_argmax(const int8_t scores[KWS_MODEL_NUM_CLASSES])
{
    int32_t best = 0;
    for (int32_t i = 1; i < KWS_MODEL_NUM_CLASSES; i++) {
        if (scores[i] > scores[best]) {
            best = i;
        }
    }
    return best;
}
