/* FULLY_CONNECTED, int4 weights packed two per byte (reference): TFLM's arithmetic on TFLite's INT4 order. */
#include "kws_reference_ops.h"

void kws_fully_connected_s4(const kws_fc_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_fully_connected_s4(p, input, output);
}
