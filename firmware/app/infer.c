/* infer.c - model invocation between two DWT reads. */
#include "infer.h"

#include "dwt.h"
#include "line.h"

const char *const kws_model_labels[KWS_MODEL_NUM_CLASSES] = KWS_MODEL_LABELS;

#if KWS_MODEL_INT8
static void to_scores(const kws_model_value_t *out, int8_t scores[KWS_MODEL_NUM_CLASSES])
{
    for (int32_t i = 0; i < KWS_MODEL_NUM_CLASSES; i++) {
        scores[i] = out[i];
    }
}
#else
static void to_scores(const kws_model_value_t *out, int8_t scores[KWS_MODEL_NUM_CLASSES])
{
    for (int32_t i = 0; i < KWS_MODEL_NUM_CLASSES; i++) {
        /* p >= 0 (softmax): adding one half and truncating rounds half up. */
        const float q = out[i] * 256.0f + 0.5f;
        const int32_t v = q < 0.0f ? 0 : (q > 255.0f ? 255 : (int32_t)q);
        scores[i] = (int8_t)(v - 128);
    }
}
#endif

int kws_infer(const kws_model_value_t *input, int8_t scores[KWS_MODEL_NUM_CLASSES], uint32_t *cycles)
{
    kws_model_value_t out[KWS_MODEL_NUM_CLASSES];
    uint32_t start = kws_dwt_cycles();
    int status = kws_model_invoke(input, out);
    *cycles = kws_dwt_cycles() - start;
    if (status != 0) {
        struct kws_line line;
        kws_line_begin(&line, "error");
        kws_line_str(&line, "reason", "invoke");
        kws_line_i32(&line, "code", status);
        kws_line_send(&line);
        return status;
    }
    to_scores(out, scores);
    return 0;
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
