/* FULLY_CONNECTED, int8 weights stored sparse (reference): TFLM's sum over the nonzero weights
   only (a zero weight adds nothing to it), walking each row's bitmap input by input. */
#include "kws_reference_ops.h"

void kws_fully_connected_s8_sparse(const kws_fc_sparse_params *p, const int8_t *input, int8_t *output)
{
    const kws_fc_s8_params *fc = &p->fc;
    const int32_t words = (fc->in_depth + 31) / 32;
    for (int32_t b = 0; b < fc->batches; ++b) {
        const int8_t *in = input + b * fc->in_depth;
        const int8_t *w = (const int8_t *)fc->weights;
        for (int32_t o = 0; o < fc->out_depth; ++o) {
            const uint32_t *row = p->bitmap + o * words;
            int32_t acc = 0;
            for (int32_t d = 0; d < fc->in_depth; ++d) {
                if ((row[d / 32] >> (31 - d % 32)) & 1u) {
                    acc += (int32_t)*w++ * ((int32_t)in[d] + fc->input_offset);
                }
            }
            output[b * fc->out_depth + o] = kws_fc_output(fc, o, acc + fc->bias[o]);
        }
    }
}
