/* window.c - see window.h. */
#include "window.h"

#include <string.h>

#include "frontend_tables.h"

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
     * wraps to -32768 and never counts.  Track the extremes in int32 and redo
     * the scan the reference's way only in the rare frame that reaches -32768.
     */
    int32_t hi = 0;
    int32_t lo = 0;
    for (int i = 0; i < KWS_WINDOW_SAMPLES; ++i) {
        const int32_t v = ((int32_t)w->input[i] * kws_window_coeffs[i]) >> KWS_WINDOW_BITS;
        out[i] = (int16_t)v;
        hi = v > hi ? v : hi;
        lo = v < lo ? v : lo;
    }
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
