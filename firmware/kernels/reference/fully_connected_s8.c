/* FULLY_CONNECTED int8 (reference): TFLM's reference arithmetic, per-tensor or per-channel. */
#include "kws_reference_ops.h"

void kws_fully_connected_s8(const kws_fc_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_fully_connected_s8(p, input, output);
}
