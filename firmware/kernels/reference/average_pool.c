/* AVERAGE_POOL_2D (reference), int8 and float32, as TFLite averages: over the window clipped to
   the input, int8 as the sum of the raw values divided with rounding half away from zero (input
   and output share quantization, so the zero point needs no correction), float32 as the sum in
   row order divided by the count. Also used by the cortex_m4 set. */
#include "pool_window.h"

void kws_average_pool_s8(const kws_pool_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            int32_t y0, y1, x0, x1;
            kws_pool_window(p, oy, ox, &y0, &y1, &x0, &x1);
            const int32_t count = (y1 - y0) * (x1 - x0); /* > 0: the generator checked the geometry */
            for (int32_t c = 0; c < p->channels; ++c) {
                int32_t sum = 0;
                for (int32_t y = y0; y < y1; ++y) {
                    for (int32_t x = x0; x < x1; ++x) {
                        sum += input[(y * p->in_w + x) * p->channels + c];
                    }
                }
                int32_t a = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                a = a < p->act_min ? p->act_min : (a > p->act_max ? p->act_max : a);
                *output++ = (int8_t)a;
            }
        }
    }
}

void kws_average_pool_f32(const kws_pool_params *p, const float *input, float *output)
{
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            int32_t y0, y1, x0, x1;
            kws_pool_window(p, oy, ox, &y0, &y1, &x0, &x1);
            const float count = (float)((y1 - y0) * (x1 - x0));
            for (int32_t c = 0; c < p->channels; ++c) {
                float sum = 0.0f;
                for (int32_t y = y0; y < y1; ++y) {
                    for (int32_t x = x0; x < x1; ++x) {
                        sum += input[(y * p->in_w + x) * p->channels + c];
                    }
                }
                float a = sum / count;
                a = a < p->f_act_min ? p->f_act_min : a;
                *output++ = p->f_act_max < a ? p->f_act_max : a;
            }
        }
    }
}
