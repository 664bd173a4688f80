/* DEQUANTIZE int8 -> float32 (reference): the model's int8 output as float. Also used by the
   cortex_m4 set. */
#include "kws_kernels.h"

void kws_dequantize_s8_f32(const kws_dequantize_params *p, const int8_t *input, float *output)
{
    for (int32_t i = 0; i < p->count; ++i) {
        output[i] = (float)(p->scale * (double)(input[i] - p->zero_point));
    }
}
