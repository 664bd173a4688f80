/* PAD (reference): a 4-D copy with a border. Also used by the cortex_m4 set. */
#include <string.h>

#include "kws_kernels.h"

/* Runs BODY for every output index o, in order, with src the input index or -1 in the border. */
#define KWS_PAD_LOOP(p, BODY)                                                                    \
    do {                                                                                         \
        int32_t o = 0;                                                                           \
        for (int32_t i0 = 0; i0 < (p)->out_dims[0]; ++i0) {                                      \
            const int32_t s0 = i0 - (p)->before[0];                                              \
            for (int32_t i1 = 0; i1 < (p)->out_dims[1]; ++i1) {                                  \
                const int32_t s1 = i1 - (p)->before[1];                                          \
                for (int32_t i2 = 0; i2 < (p)->out_dims[2]; ++i2) {                              \
                    const int32_t s2 = i2 - (p)->before[2];                                      \
                    for (int32_t i3 = 0; i3 < (p)->out_dims[3]; ++i3, ++o) {                     \
                        const int32_t s3 = i3 - (p)->before[3];                                  \
                        const int inside = s0 >= 0 && s0 < (p)->in_dims[0] && s1 >= 0 &&         \
                                           s1 < (p)->in_dims[1] && s2 >= 0 &&                    \
                                           s2 < (p)->in_dims[2] && s3 >= 0 && s3 < (p)->in_dims[3]; \
                        const int32_t src =                                                      \
                            inside ? ((s0 * (p)->in_dims[1] + s1) * (p)->in_dims[2] + s2) *      \
                                             (p)->in_dims[3] + s3                                \
                                   : -1;                                                         \
                        BODY;                                                                    \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    } while (0)

void kws_pad_s8(const kws_pad_params *p, int8_t value, const int8_t *input, int8_t *output)
{
    /* With the last dimension unpadded, every (i0, i1) row is border, input run, border: three
       block operations instead of an index computation per byte (TinyConv pads 49x40 to 58x48). */
    if (p->before[3] == 0 && p->in_dims[3] == p->out_dims[3]) {
        const int32_t depth = p->out_dims[3];
        const size_t row = (size_t)(p->out_dims[2] * depth), run = (size_t)(p->in_dims[2] * depth);
        const size_t left = (size_t)(p->before[2] * depth);
        for (int32_t i0 = 0; i0 < p->out_dims[0]; ++i0) {
            const int32_t s0 = i0 - p->before[0];
            for (int32_t i1 = 0; i1 < p->out_dims[1]; ++i1, output += row) {
                const int32_t s1 = i1 - p->before[1];
                if (s0 < 0 || s0 >= p->in_dims[0] || s1 < 0 || s1 >= p->in_dims[1]) {
                    memset(output, value, row);
                    continue;
                }
                memset(output, value, left);
                memcpy(output + left, input + (size_t)(s0 * p->in_dims[1] + s1) * run, run);
                memset(output + left + run, value, row - left - run);
            }
        }
        return;
    }
    KWS_PAD_LOOP(p, output[o] = src >= 0 ? input[src] : value);
}

void kws_pad_f32(const kws_pad_params *p, const float *input, float *output)
{
    KWS_PAD_LOOP(p, output[o] = src >= 0 ? input[src] : 0.0f);
}
