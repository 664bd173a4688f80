/*
 * filterbank.h - mel filterbank on the power spectrum, then square root.
 *
 * Each FFT bin between KWS_FB_FIRST_BIN and KWS_FB_END_BIN belongs to one band;
 * its power r^2 + i^2 adds with a Q12 weight to that band's channel and with a
 * Q12 "unweight" to the next one (triangular filters).  The channel amplitude
 * is the rounded square root of the 64-bit sum, scaled back down by the shift
 * the FFT input was scaled up by.
 */
#ifndef KWS_FRONTEND_FILTERBANK_H
#define KWS_FRONTEND_FILTERBANK_H

#include <stdint.h>

#include "fft.h"
#include "kws_config.h"

/* Fractional bits of the filterbank weights. */
#define KWS_FILTERBANK_BITS 12

void kws_filterbank_apply(const struct kws_spectrum *spectrum, int shift, uint32_t out[KWS_NUM_CHANNELS]);

#endif /* KWS_FRONTEND_FILTERBANK_H */
