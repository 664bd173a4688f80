/* CONV_2D, int4 weights (Cortex-M4): the one-channel SMLAD fast path on one packed word per
   kernel row (conv_1ch.h), else the reference loops on TFLite's INT4 packing. */
#include "conv_1ch.h"
#include "kws_reference_ops.h"

void kws_conv2d_s4(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    if (kws_m4_conv_fast(p)) {
        kws_m4_conv_1ch(p, input, output, 1);
    } else {
        kws_ref_conv2d_s4(p, input, output);
    }
}
