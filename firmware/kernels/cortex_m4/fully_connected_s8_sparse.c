/*
 * FULLY_CONNECTED, int8 weights stored sparse (Cortex-M4): per output row, each bitmap word is
 * walked set bit by set bit: CLZ gives the offset of the next input with a nonzero weight, an
 * EOR clears its bit, and only nonzero weights are loaded and multiplied, two at a time by SMLAD
 * (PKHBT pairs the two inputs, SXTB16 the two weights of one halfword). The input offset is
 * folded into the bias at generation time, so the sum is the same integer as TFLM's.
 */
#include "kws_acle.h"
#include "kws_fixedpoint.h"
#include "kws_kernels.h"
#include "kws_reference_ops.h"

/* Two consecutive int8 weights at w as the signed halfwords {w[0], w[1]}: byte 0 and byte 2 of
   h | h << 8 are w[0] and w[1] (SXTB16 reads those). */
static inline int32_t kws_weight_pair(const int8_t *w)
{
    uint16_t h;
    memcpy(&h, w, sizeof h);
    return kws_sxtb16((int32_t)((uint32_t)h | (uint32_t)h << 8));
}

/* acc + the dot product of one row's nonzero weights (from *values, advanced past them) with in. */
static int32_t kws_m4_sparse_row(const int8_t *in, const uint32_t *bitmap, int32_t words, const int8_t **values,
                                 int32_t acc)
{
    const int8_t *w = *values;
    for (int32_t j = 0; j < words; ++j, in += 32) {
        uint32_t bits = bitmap[j];
        while (bits != 0) {
            const uint32_t k0 = (uint32_t)__builtin_clz(bits); /* CLZ */
            bits ^= 0x80000000u >> k0;
            const int32_t x0 = in[k0];
            if (bits == 0) {
                acc += (int32_t)*w++ * x0;
                break;
            }
            const uint32_t k1 = (uint32_t)__builtin_clz(bits);
            bits ^= 0x80000000u >> k1;
            const int32_t x = (int32_t)(((uint32_t)x0 & 0xffffu) | ((uint32_t)in[k1] << 16)); /* PKHBT */
            acc = kws_smlad(x, kws_weight_pair(w), acc);
            w += 2;
        }
    }
    *values = w;
    return acc;
}

void kws_fully_connected_s8_sparse(const kws_fc_sparse_params *p, const int8_t *input, int8_t *output)
{
    const kws_fc_s8_params *fc = &p->fc;
    const int32_t words = (fc->in_depth + 31) / 32;
    for (int32_t b = 0; b < fc->batches; ++b) {
        const int8_t *in = input + b * fc->in_depth;
        const int8_t *w = (const int8_t *)fc->weights;
        for (int32_t o = 0; o < fc->out_depth; ++o) {
            const int32_t acc = kws_m4_sparse_row(in, p->bitmap + o * words, words, &w, fc->bias[o]);
            output[b * fc->out_depth + o] = kws_fc_output(fc, o, acc);
        }
    }
}
