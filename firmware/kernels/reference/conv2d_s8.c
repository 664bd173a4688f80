/* CONV_2D int8 (reference): TFLM's per-channel reference arithmetic, one output at a time. */
#include "kws_reference_ops.h"

void kws_conv2d_s8(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_conv2d_s8(p, input, output);
}
