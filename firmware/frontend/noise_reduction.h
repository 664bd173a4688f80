/*
 * noise_reduction.h - per-channel noise floor estimate and spectral subtraction.
 *
 * The estimate is a first-order low-pass (Q14 smoothing, different for even and
 * odd channels) of the channel scaled up by KWS_NR_SMOOTHING_BITS; the channel
 * keeps what exceeds it, but never less than a fixed fraction of itself.
 */
#ifndef KWS_FRONTEND_NOISE_REDUCTION_H
#define KWS_FRONTEND_NOISE_REDUCTION_H

#include <stdint.h>

#include "kws_config.h"

/* Fractional bits of the smoothing coefficients. */
#define KWS_NOISE_REDUCTION_BITS 14

struct kws_noise_reduction {
    uint32_t estimate[KWS_NUM_CHANNELS];
};

/* An all-zero struct kws_noise_reduction is the initial state. */
void kws_noise_reduction_apply(struct kws_noise_reduction *nr, uint32_t signal[KWS_NUM_CHANNELS]);

#endif /* KWS_FRONTEND_NOISE_REDUCTION_H */
