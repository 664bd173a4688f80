/* DEPTHWISE_CONV_2D float32 (reference): TFLM's summation order. */
#include "kws_kernels.h"

void kws_depthwise_conv2d_f32(const kws_conv_f32_params *p, const float *input, float *output)
{
    const kws_conv_geometry *g = &p->g;
    for (int32_t oy = 0; oy < g->out_h; ++oy) {
        for (int32_t ox = 0; ox < g->out_w; ++ox) {
            const int32_t y0 = oy * g->stride_h - g->pad_top;
            const int32_t x0 = ox * g->stride_w - g->pad_left;
            for (int32_t ic = 0; ic < g->in_c; ++ic) {
                for (int32_t m = 0; m < g->depth_multiplier; ++m) {
                    const int32_t oc = ic * g->depth_multiplier + m;
                    float total = 0.0f;
                    for (int32_t ky = 0; ky < g->k_h; ++ky) {
                        const int32_t iy = y0 + g->dilation_h * ky;
                        if (iy < 0 || iy >= g->in_h) {
                            continue;
                        }
                        for (int32_t kx = 0; kx < g->k_w; ++kx) {
                            const int32_t ix = x0 + g->dilation_w * kx;
                            if (ix < 0 || ix >= g->in_w) {
                                continue;
                            }
                            total += input[(iy * g->in_w + ix) * g->in_c + ic] * p->weights[(ky * g->k_w + kx) * g->out_c + oc];
                        }
                    }
                    const float v = total + p->bias[oc];
                    output[(oy * g->out_w + ox) * g->out_c + oc] = v < p->act_min ? p->act_min : (v > p->act_max ? p->act_max : v);
                }
            }
        }
    }
}
