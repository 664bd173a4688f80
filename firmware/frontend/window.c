/* window.c - see window.h. */
#include "window.h"

#include <string.h>

#include "dsp16.h"
#include "frontend_tables.h"

typedef char kws_window_pairs[(KWS_WINDOW_SAMPLES % 2 == 0) ? 1 : -1];

/* Two consecutive int16 as one word (one LDR; memcpy keeps C's aliasing rules). */
static inline uint32_t pair(const int16_t *x)
{
    uint32_t v;
    memcpy(&v, x, sizeof v);
    return v;
}

int kws_window_push(struct kws_window *w, const int16_t *samples, size_t n, size_t *consumed,
                    int16_t out[restrict KWS_WINDOW_SAMPLES], int16_t *max_abs) {
    size_t take = KWS_WINDOW_SAMPLES - w->used;
    if (take > n) {
        take = n;
    }
    memcpy(w->input + w->used, samples, take * sizeof *samples);
    w->used += take;
    *consumed = take;
    if (w->used < KWS_WINDOW_SAMPLES) {
        return 0;
    }

    /*
     * Largest magnitude, taken in int16 like the reference: there -(-32768)
     * wraps to -32768 and never counts.  Track the extremes lane-wise on
     * sample pairs (a Q12 product of an int16 with a coefficient <= 1.0 still
     * fits int16) and redo the scan the reference's way only in the rare
     * frame that reaches -32768.
     */
    uint32_t hi2 = 0;
    uint32_t lo2 = 0;
    for (int i = 0; i < KWS_WINDOW_SAMPLES; i += 2) {
        const uint32_t x = pair(&w->input[i]);
        const uint32_t c = pair(&kws_window_coeffs[i]);
        const int32_t v0 = kws_smulbb(x, c) >> KWS_WINDOW_BITS;
        const int32_t v1 = kws_smultt(x, c) >> KWS_WINDOW_BITS;
        const uint32_t v = ((uint32_t)v0 & 0xFFFFu) | ((uint32_t)v1 << 16);
        memcpy(&out[i], &v, sizeof v);
        hi2 = kws_max16(hi2, v);
        lo2 = kws_min16(lo2, v);
    }
    const int32_t hi = kws_lo16(hi2) > kws_hi16(hi2) ? kws_lo16(hi2) : kws_hi16(hi2);
    int32_t lo = kws_lo16(lo2) < kws_hi16(lo2) ? kws_lo16(lo2) : kws_hi16(lo2);
    if (lo == -32768) {
        lo = 0;
        for (int i = 0; i < KWS_WINDOW_SAMPLES; ++i) {
            lo = (out[i] < lo && out[i] != -32768) ? out[i] : lo;
        }
    }
    *max_abs = (int16_t)(hi > -lo ? hi : -lo);

    memmove(w->input, w->input + KWS_STEP_SAMPLES, (KWS_WINDOW_SAMPLES - KWS_STEP_SAMPLES) * sizeof *w->input);
    w->used -= KWS_STEP_SAMPLES;
    return 1;
}
