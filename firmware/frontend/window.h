/*
 * window.h - framing and Hann windowing of the 16-bit input stream.
 *
 * Samples are buffered until a full window (KWS_WINDOW_SAMPLES) is present; the
 * window is then applied in Q12 and the buffer slides by KWS_STEP_SAMPLES.
 */
#ifndef KWS_FRONTEND_WINDOW_H
#define KWS_FRONTEND_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "kws_config.h"

#define KWS_WINDOW_SAMPLES (KWS_SAMPLE_RATE_HZ * KWS_WINDOW_MS / 1000)
#define KWS_STEP_SAMPLES (KWS_SAMPLE_RATE_HZ * KWS_STEP_MS / 1000)
/* Fractional bits of the window coefficients. */
#define KWS_WINDOW_BITS 12

struct kws_window {
    int16_t input[KWS_WINDOW_SAMPLES];
    size_t used;
};

/* An all-zero struct kws_window is the empty initial state. */

/*
 * Takes up to the samples still missing from the window (*consumed tells how
 * many).  Returns 1 when a window was completed: then out[0..KWS_WINDOW_SAMPLES)
 * holds the windowed samples, *max_abs their largest magnitude, and the buffer
 * has slid by one step.  Returns 0 when more samples are needed.
 */
int kws_window_push(struct kws_window *w, const int16_t *samples, size_t n, size_t *consumed,
                    int16_t out[restrict KWS_WINDOW_SAMPLES], int16_t *max_abs);

#endif /* KWS_FRONTEND_WINDOW_H */
