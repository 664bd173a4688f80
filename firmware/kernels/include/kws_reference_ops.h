/*
 * kws_reference_ops.h - the portable int8 kernels as static inline functions: the reference set
 * wraps them, and optimised sets fall back on them for shapes their fast paths do not cover
 * (as TFLM's optimised kernels fall back on reference_integer_ops). The _s4 twins read int4
 * weights packed two per byte (TFLite's INT4 order).
 */
#ifndef KWS_REFERENCE_OPS_H
#define KWS_REFERENCE_OPS_H

#include "kws_fixedpoint.h"
#include "kws_kernels.h"

/* FULLY_CONNECTED output o of its int32 sum (bias included): requantized, offset, clamped. */
static inline int8_t kws_fc_output(const kws_fc_s8_params *p, int32_t o, int32_t acc)
{
    const int32_t q = p->per_channel ? o : 0;
    return (int8_t)kws_clamp(kws_requantize(acc, p->multiplier[q], p->shift[q]) + p->output_offset, p->act_min,
                             p->act_max);
}

/* Filter element i: int8, or int4 packed two per byte (TFLite's INT4: element 2i in the low nibble). */
static inline int32_t kws_ref_weight(const void *weights, int32_t i, int32_t int4)
{
    if (!int4) {
        return ((const int8_t *)weights)[i];
    }
    const uint8_t byte = ((const uint8_t *)weights)[i >> 1];
    return (int32_t)(int8_t)(uint8_t)((i & 1) ? byte : (uint8_t)(byte << 4)) >> 4;
}

static inline __attribute__((always_inline)) void kws_ref_conv_body(const kws_conv_s8_params *p, const int8_t *input,
                                                                   int8_t *output, const int32_t int4)
{
    const kws_conv_geometry *g = &p->g;
    for (int32_t oy = 0; oy < g->out_h; ++oy) {
        for (int32_t ox = 0; ox < g->out_w; ++ox) {
            const int32_t y0 = oy * g->stride_h - g->pad_top;
            const int32_t x0 = ox * g->stride_w - g->pad_left;
            for (int32_t oc = 0; oc < g->out_c; ++oc) {
                int32_t acc = 0;
                for (int32_t ky = 0; ky < g->k_h; ++ky) {
                    const int32_t iy = y0 + g->dilation_h * ky;
                    if (iy < 0 || iy >= g->in_h) {
                        continue; /* padding taps are skipped */
                    }
                    for (int32_t kx = 0; kx < g->k_w; ++kx) {
                        const int32_t ix = x0 + g->dilation_w * kx;
                        if (ix < 0 || ix >= g->in_w) {
                            continue;
                        }
                        const int8_t *in = input + (iy * g->in_w + ix) * g->in_c;
                        const int32_t w = ((oc * g->k_h + ky) * g->k_w + kx) * g->in_c;
                        for (int32_t ic = 0; ic < g->in_c; ++ic) {
                            acc += kws_ref_weight(p->weights, w + ic, int4) *
                                   ((int32_t)in[ic] + p->input_offset);
                        }
                    }
                }
                acc = kws_requantize(acc + p->bias[oc], p->multiplier[oc], p->shift[oc]) + p->output_offset;
                output[(oy * g->out_w + ox) * g->out_c + oc] = (int8_t)kws_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
}

/* int8 weights, and int4 packed two per byte: one copy of the loops each. */
static inline void kws_ref_conv2d_s8(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_conv_body(p, input, output, 0);
}

static inline void kws_ref_conv2d_s4(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_conv_body(p, input, output, 1);
}

static inline __attribute__((always_inline)) void kws_ref_depthwise_body(const kws_conv_s8_params *p, const int8_t *input,
                                                                   int8_t *output, const int32_t int4)
{
    const kws_conv_geometry *g = &p->g;
    for (int32_t oy = 0; oy < g->out_h; ++oy) {
        for (int32_t ox = 0; ox < g->out_w; ++ox) {
            const int32_t y0 = oy * g->stride_h - g->pad_top;
            const int32_t x0 = ox * g->stride_w - g->pad_left;
            for (int32_t ic = 0; ic < g->in_c; ++ic) {
                for (int32_t m = 0; m < g->depth_multiplier; ++m) {
                    const int32_t oc = ic * g->depth_multiplier + m;
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < g->k_h; ++ky) {
                        const int32_t iy = y0 + g->dilation_h * ky;
                        if (iy < 0 || iy >= g->in_h) {
                            continue; /* padding taps are skipped */
                        }
                        for (int32_t kx = 0; kx < g->k_w; ++kx) {
                            const int32_t ix = x0 + g->dilation_w * kx;
                            if (ix < 0 || ix >= g->in_w) {
                                continue;
                            }
                            const int32_t x = input[(iy * g->in_w + ix) * g->in_c + ic];
                            const int32_t w =
                                kws_ref_weight(p->weights, (ky * g->k_w + kx) * g->out_c + oc, int4);
                            acc += w * (x + p->input_offset);
                        }
                    }
                    acc = kws_requantize(acc + p->bias[oc], p->multiplier[oc], p->shift[oc]) + p->output_offset;
                    output[(oy * g->out_w + ox) * g->out_c + oc] = (int8_t)kws_clamp(acc, p->act_min, p->act_max);
                }
            }
        }
    }
}

/* int8 weights, and int4 packed two per byte: one copy of the loops each. */
static inline void kws_ref_depthwise_conv2d_s8(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_depthwise_body(p, input, output, 0);
}

static inline void kws_ref_depthwise_conv2d_s4(const kws_conv_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_depthwise_body(p, input, output, 1);
}

static inline __attribute__((always_inline)) void kws_ref_fc_body(const kws_fc_s8_params *p, const int8_t *input,
                                                                   int8_t *output, const int32_t int4)
{
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->in_depth;
        for (int32_t o = 0; o < p->out_depth; ++o) {
            const int32_t w = o * p->in_depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < p->in_depth; ++d) {
                acc += kws_ref_weight(p->weights, w + d, int4) * ((int32_t)in[d] + p->input_offset);
            }
            output[b * p->out_depth + o] = kws_fc_output(p, o, acc + p->bias[o]);
        }
    }
}

/* int8 weights, and int4 packed two per byte: one copy of the loops each. */
static inline void kws_ref_fully_connected_s8(const kws_fc_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_fc_body(p, input, output, 0);
}

static inline void kws_ref_fully_connected_s4(const kws_fc_s8_params *p, const int8_t *input, int8_t *output)
{
    kws_ref_fc_body(p, input, output, 1);
}

#endif /* KWS_REFERENCE_OPS_H */
