/* CONV_2D, int4 weights packed two per byte (reference): TFLM's arithmetic on TFLite's INT4 order. */
#include "kws_reference_ops.h"

void kws_conv2d_s4(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_conv2d_s4(p, input, output);
}
