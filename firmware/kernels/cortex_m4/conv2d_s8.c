/* CONV_2D int8 (Cortex-M4): the SMLAD fast path for one input channel, else the reference loops. */
#include "conv_1ch.h"
#include "kws_reference_ops.h"

void kws_conv2d_s8(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    if (kws_m4_conv_fast(p)) {
        kws_m4_conv_1ch(p, input, output, 0);
    } else {
        kws_ref_conv2d_s8(p, input, output);
    }
}
