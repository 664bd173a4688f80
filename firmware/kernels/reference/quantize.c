/* QUANTIZE float32 -> int8 (reference): the model's float input into its int8 layers. Also used by
   the cortex_m4 set. */
#include <math.h>

#include "kws_kernels.h"

void kws_quantize_f32_s8(const kws_quantize_params *p, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        const float q = roundf(input[i] / p->scale); /* ties away from zero, as TFLite rounds */
        /* clamp in float first: the conversion of a quotient beyond int32 is undefined in C (and in
           TFLite's kernel: x86 wraps); here it saturates, as the Cortex-M4's VCVT does */
        const float clamped = q < -256.0f ? -256.0f : (q > 256.0f ? 256.0f : q);
        const int32_t v = (int32_t)clamped + p->zero_point;
        output[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
}
