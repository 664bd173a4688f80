/*
 * pcan.h - per-channel automatic gain control (PCAN).
 *
 * Each channel is multiplied by a gain that falls with its noise estimate
 * (gain = 2^gain_bits * (estimate + offset)^-strength, read from a piecewise
 * quadratic table), then compressed by a shrink function that is quadratic
 * below 2 and linear above.
 */
#ifndef KWS_FRONTEND_PCAN_H
#define KWS_FRONTEND_PCAN_H

#include <stdint.h>

#include "kws_config.h"

/* Fractional bits of the signal-to-noise ratio and of the shrunk output. */
#define KWS_PCAN_SNR_BITS 12
#define KWS_PCAN_OUTPUT_BITS 6

void kws_pcan_apply(const uint32_t noise_estimate[KWS_NUM_CHANNELS], uint32_t signal[KWS_NUM_CHANNELS]);

#endif /* KWS_FRONTEND_PCAN_H */
