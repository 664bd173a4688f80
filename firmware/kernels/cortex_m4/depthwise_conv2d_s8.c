/* DEPTHWISE_CONV_2D int8 (Cortex-M4): with one input channel it is the one-channel CONV_2D. */
#include "conv_1ch.h"
#include "kws_reference_ops.h"

void kws_depthwise_conv2d_s8(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    if (kws_m4_conv_fast(p)) {
        kws_m4_conv_1ch(p, input, output, 0);
    } else {
        kws_ref_depthwise_conv2d_s8(p, input, output);
    }
}
