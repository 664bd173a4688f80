/* FULLY_CONNECTED float32 (reference): TFLM's summation order. */
#include "kws_kernels.h"

void kws_fully_connected_f32(const kws_fc_f32_params *p, const float *input, float *output)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const float *in = input + b * p->in_depth;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            const float *w = p->weights + o * p->in_depth;
            float total = 0.0f;
            for (int32_t d = 0; d < p->in_depth; ++d) {
                total += in[d] * w[d];
            }
            const float v = total + p->bias[o];
            output[b * p->out_depth + o] = v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v);
        }
    }
}
