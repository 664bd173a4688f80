/*
 * conv_1ch.h - the Cortex-M4 fast path shared by CONV_2D and DEPTHWISE_CONV_2D when the input
 * has one channel (TinyConv's first layer, whichever of the two ops the converter chose):
 *
 *   out[oy][ox][c] = requantize(bias'[c] + sum_{ky,kx} x[oy*sh + ky][2*ox + kx] * w[c][ky][kx])
 *
 * with VALID geometry (the PAD op before it did the padding), stride_w 2 and k_w a multiple of 4.
 * bias' = bias + input_offset * sum(w[c]) is folded at generation time, so the inner loop is
 * raw int8 products: one unaligned LDR gives 4 input bytes, SXTB16 / SXTB16 ROR #8 split them
 * into (x0, x2) and (x1, x3), and SMLAD multiplies each pair with the generator's pre-arranged
 * weight pairs {w0, w2}, {w1, w3}: 2 MACs per instruction. Four outputs along x share every
 * weight load, and with stride 2 their input words overlap: for k_w = 8, 6 input words feed the
 * 16 SMLADs of a kernel row. The sum is the same integer as TFLM's (integer
 * arithmetic is exact), so the result is bit-exact.
 */
#ifndef KWS_CONV_1CH_H
#define KWS_CONV_1CH_H

#include "kws_acle.h"
#include "kws_fixedpoint.h"
#include "kws_kernels.h"

/* Whether the fast path applies (model/codegen.py arranges the weights by the same rule). */
static inline int kws_m4_conv_fast(const kws_conv_geometry *g)
{
    return g->in_c == 1 && g->pad_top == 0 && g->pad_left == 0 && g->dilation_h == 1 && g->dilation_w == 1 &&
           g->stride_w == 2 && g->k_w % 4 == 0;
}

static inline int8_t kws_m4_output(const kws_conv_s8_params *p, int32_t acc, int32_t multiplier, int32_t shift)
{
    /* Requantization is monotonic (Q31 multipliers are >= 0) and maps 0 to 0, so without a left
       shift a sum <= 0 lands at or below the output zero point: with a fused ReLU (act_min >=
       output_offset) that is act_min, and about half of the outputs skip the double rounding. */
    if (acc <= 0 && shift <= 0 && p->act_min >= p->output_offset) {
        return (int8_t)p->act_min;
    }
    return (int8_t)kws_clamp(kws_requantize(acc, multiplier, shift) + p->output_offset, p->act_min, p->act_max);
}

/* Adds the 4-tap group at `s` (pairs we = {w0, w2}, wo = {w1, w3}) to acc. */
static inline int32_t kws_m4_taps4(const int8_t *s, int32_t we, int32_t wo, int32_t acc)
{
    const int32_t x = kws_read32(s);
    return kws_smlad(kws_sxtb16_ror8(x), wo, kws_smlad(kws_sxtb16(x), we, acc));
}

/* k_w is a parameter so that callers can pass a literal: the group loop then unrolls. */
static inline __attribute__((always_inline)) void kws_m4_conv_1ch(const kws_conv_s8_params *p, const int8_t *input,
                                                                 int8_t *output, const int32_t k_w)
{
    const kws_conv_geometry *g = &p->g;
    const int32_t row_words = k_w / 2; /* two weight words per group of 4 taps */
    for (int32_t oy = 0; oy < g->out_h; ++oy) {
        const int8_t *rows = input + oy * g->stride_h * g->in_w;
        int8_t *out_row = output + oy * g->out_w * g->out_c;
        for (int32_t c = 0; c < g->out_c; ++c) {
            const int32_t *wc = (const int32_t *)p->weights + c * g->k_h * row_words;
            const int32_t bias = p->bias[c], multiplier = p->multiplier[c], shift = p->shift[c];
            int32_t ox = 0;
            for (; ox + 4 <= g->out_w; ox += 4) {
                int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                const int8_t *row = rows + 2 * ox;
                const int32_t *w = wc;
                for (int32_t ky = 0; ky < g->k_h; ++ky, row += g->in_w, w += row_words) {
                    for (int32_t k = 0; k < k_w; k += 4) {
                        const int32_t we = w[k / 2], wo = w[k / 2 + 1];
                        a0 = kws_m4_taps4(row + k, we, wo, a0);
                        a1 = kws_m4_taps4(row + k + 2, we, wo, a1);
                        a2 = kws_m4_taps4(row + k + 4, we, wo, a2);
                        a3 = kws_m4_taps4(row + k + 6, we, wo, a3);
                    }
                }
                int8_t *out = out_row + ox * g->out_c + c;
                out[0] = kws_m4_output(p, a0, multiplier, shift);
                out[g->out_c] = kws_m4_output(p, a1, multiplier, shift);
                out[2 * g->out_c] = kws_m4_output(p, a2, multiplier, shift);
                out[3 * g->out_c] = kws_m4_output(p, a3, multiplier, shift);
            }
            for (; ox < g->out_w; ++ox) {
                int32_t acc = bias;
                const int8_t *row = rows + 2 * ox;
                const int32_t *w = wc;
                for (int32_t ky = 0; ky < g->k_h; ++ky, row += g->in_w, w += row_words) {
                    for (int32_t k = 0; k < k_w; k += 4) {
                        acc = kws_m4_taps4(row + k, w[k / 2], w[k / 2 + 1], acc);
                    }
                }
                out_row[ox * g->out_c + c] = kws_m4_output(p, acc, multiplier, shift);
            }
        }
    }
}

/*
 * k_w == 8 (TinyConv), four outputs along x at a time. Their kernel window, k_h rows of 12 bytes,
 * is unpacked once into halfword pairs and reused by every output channel: xs[ky][j] =
 * SXTB16(the word at byte j) = (x[j], x[j + 2]), so even j are the pairs for {w0, w2}, odd j those
 * for {w1, w3}, and pair j serves taps 0..3 of output j / 2 and taps 4..7 of output j / 2 - 2.
 * The per-channel loop is then loads of ready pairs and weights, and SMLADs.
 */
static void kws_m4_conv_1ch_k8(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    const kws_conv_geometry *g = &p->g;
    int32_t xs[g->k_h][12]; /* k_h * 48 bytes of stack: 480 for TinyConv's 10 rows */
    for (int32_t oy = 0; oy < g->out_h; ++oy) {
        const int8_t *rows = input + oy * g->stride_h * g->in_w;
        int8_t *out_row = output + oy * g->out_w * g->out_c;
        int32_t ox = 0;
        for (; ox + 4 <= g->out_w; ox += 4) {
            const int8_t *row = rows + 2 * ox;
            for (int32_t ky = 0; ky < g->k_h; ++ky, row += g->in_w) {
                /* Fully unrolled (-O2 does not peel it): 12 LDR, SXTB16, STR, no loop counter. */
#pragma GCC unroll 12
                for (int32_t j = 0; j < 12; ++j) {
                    xs[ky][j] = kws_sxtb16(kws_read32(row + j));
                }
            }
            int8_t *out = out_row + ox * g->out_c;
            for (int32_t c = 0; c < g->out_c; ++c) {
                const int32_t *wc = (const int32_t *)p->weights + c * g->k_h * 4, *w_end = wc + g->k_h * 4;
                const int32_t bias = p->bias[c];
                int32_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                const int32_t *x = xs[0];
                /* Ends at the weight pointer rather than counting rows: one register fewer. */
                for (const int32_t *w = wc; w != w_end; w += 4, x += 12) {
                    const int32_t we0 = w[0], wo0 = w[1], we1 = w[2], wo1 = w[3];
                    a0 = kws_smlad(x[1], wo0, kws_smlad(x[0], we0, a0));
                    a1 = kws_smlad(x[3], wo0, kws_smlad(x[2], we0, a1));
                    a2 = kws_smlad(x[5], wo0, kws_smlad(x[4], we0, a2));
                    a0 = kws_smlad(x[5], wo1, kws_smlad(x[4], we1, a0));
                    a3 = kws_smlad(x[7], wo0, kws_smlad(x[6], we0, a3));
                    a1 = kws_smlad(x[7], wo1, kws_smlad(x[6], we1, a1));
                    a2 = kws_smlad(x[9], wo1, kws_smlad(x[8], we1, a2));
                    a3 = kws_smlad(x[11], wo1, kws_smlad(x[10], we1, a3));
                }
                const int32_t multiplier = p->multiplier[c], shift = p->shift[c];
                out[c] = kws_m4_output(p, a0, multiplier, shift);
                out[g->out_c + c] = kws_m4_output(p, a1, multiplier, shift);
                out[2 * g->out_c + c] = kws_m4_output(p, a2, multiplier, shift);
                out[3 * g->out_c + c] = kws_m4_output(p, a3, multiplier, shift);
            }
        }
        for (; ox < g->out_w; ++ox) {
            for (int32_t c = 0; c < g->out_c; ++c) {
                int32_t acc = p->bias[c];
                const int8_t *row = rows + 2 * ox;
                const int32_t *w = (const int32_t *)p->weights + c * g->k_h * 4;
                for (int32_t ky = 0; ky < g->k_h; ++ky, row += g->in_w, w += 4) {
                    acc = kws_m4_taps4(row, w[0], w[1], acc);
                    acc = kws_m4_taps4(row + 4, w[2], w[3], acc);
                }
                out_row[ox * g->out_c + c] = kws_m4_output(p, acc, p->multiplier[c], p->shift[c]);
            }
        }
    }
}

/* The fast path with the common kernel widths as literals, any other multiple of 4 at run time. */
static inline void kws_m4_conv_1ch_dispatch(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    switch (p->g.k_w) {
    case 8:
        kws_m4_conv_1ch_k8(p, input, output);
        break;
    case 4:
        kws_m4_conv_1ch(p, input, output, 4);
        break;
    default:
        kws_m4_conv_1ch(p, input, output, p->g.k_w);
        break;
    }
}

#endif /* KWS_CONV_1CH_H */
