/* MAX_POOL_2D (reference), int8 and float32. Also used by the cortex_m4 set. */
#include "pool_window.h"

void kws_max_pool_s8(const kws_pool_params *p, const int8_t *input, int8_t *output)
{
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            int32_t y0, y1, x0, x1;
            kws_pool_window(p, oy, ox, &y0, &y1, &x0, &x1);
            for (int32_t c = 0; c < p->channels; ++c) {
                int32_t m = -128;
                for (int32_t y = y0; y < y1; ++y) {
                    for (int32_t x = x0; x < x1; ++x) {
                        const int32_t v = input[(y * p->in_w + x) * p->channels + c];
                        m = v > m ? v : m;
                    }
                }
                m = m < p->act_min ? p->act_min : (m > p->act_max ? p->act_max : m);
                *output++ = (int8_t)m;
            }
        }
    }
}

void kws_max_pool_f32(const kws_pool_params *p, const float *input, float *output)
{
    for (int32_t oy = 0; oy < p->out_h; ++oy) {
        for (int32_t ox = 0; ox < p->out_w; ++ox) {
            int32_t y0, y1, x0, x1;
            kws_pool_window(p, oy, ox, &y0, &y1, &x0, &x1);
            for (int32_t c = 0; c < p->channels; ++c) {
                float m = -3.40282347e+38f; /* the lowest float; a NaN input never wins, as in TFLite */
                for (int32_t y = y0; y < y1; ++y) {
                    for (int32_t x = x0; x < x1; ++x) {
                        const float v = input[(y * p->in_w + x) * p->channels + c];
                        m = m < v ? v : m;
                    }
                }
                m = m < p->f_act_min ? p->f_act_min : m;
                *output++ = p->f_act_max < m ? p->f_act_max : m;
            }
        }
    }
}
