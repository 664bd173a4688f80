/*
 * FULLY_CONNECTED int8 (Cortex-M4): four outputs per pass share each input word; SXTB16 splits
 * input and weight words into halfword pairs and SMLAD does two MACs. The input offset is
 * folded into the bias at generation time (bias + input_offset * sum(w[o])), so the sum is
 * the same integer as TFLM's.
 */
#include "kws_acle.h"
#include "kws_fixedpoint.h"
#include "kws_kernels.h"

static inline int32_t dot4(int32_t xe, int32_t xo, const int8_t *w, int32_t acc)
{
    const int32_t v = kws_read32(w);
    return kws_smlad(xo, kws_sxtb16_ror8(v), kws_smlad(xe, kws_sxtb16(v), acc));
}

static inline int8_t output_value(const kws_fc_s8_params *p, int32_t o, int32_t acc)
{
    const int32_t q = p->per_channel ? o : 0;
    return (int8_t)kws_clamp(kws_requantize(acc, p->multiplier[q], p->shift[q]) + p->output_offset, p->act_min,
                             p->act_max);
}

void kws_fully_connected_s8(const kws_fc_s8_params *p, const int8_t *input, int8_t *output)
{
    const int32_t n = p->in_depth;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * n;
        int8_t *out = output + b * p->out_depth;
        int32_t o = 0;
        for (; o + 4 <= p->out_depth; o += 4) {
            const int8_t *w0 = p->weights + o * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
            int32_t a0 = p->bias[o], a1 = p->bias[o + 1], a2 = p->bias[o + 2], a3 = p->bias[o + 3];
            int32_t d = 0;
            for (; d + 4 <= n; d += 4) {
                const int32_t x = kws_read32(in + d);
                const int32_t xe = kws_sxtb16(x), xo = kws_sxtb16_ror8(x);
                a0 = dot4(xe, xo, w0 + d, a0);
                a1 = dot4(xe, xo, w1 + d, a1);
                a2 = dot4(xe, xo, w2 + d, a2);
                a3 = dot4(xe, xo, w3 + d, a3);
            }
            for (; d < n; ++d) {
                a0 += in[d] * w0[d];
                a1 += in[d] * w1[d];
                a2 += in[d] * w2[d];
                a3 += in[d] * w3[d];
            }
            out[o] = output_value(p, o, a0);
            out[o + 1] = output_value(p, o + 1, a1);
            out[o + 2] = output_value(p, o + 2, a2);
            out[o + 3] = output_value(p, o + 3, a3);
        }
        for (; o < p->out_depth; ++o) {
            const int8_t *w = p->weights + o * n;
            int32_t acc = p->bias[o];
            int32_t d = 0;
            for (; d + 4 <= n; d += 4) {
                const int32_t x = kws_read32(in + d);
                acc = dot4(kws_sxtb16(x), kws_sxtb16_ror8(x), w + d, acc);
            }
            for (; d < n; ++d) {
                acc += in[d] * w[d];
            }
            out[o] = output_value(p, o, acc);
        }
    }
}
