/* pcan.c - see pcan.h. */
#include "pcan.h"

#include "frontend_tables.h"

/* Gain for a noise estimate x: quadratic interpolation within x's octave. */
static int16_t gain_for(uint32_t x) {
    if (x <= 2) {
        return kws_pcan_gain_lut[x];
    }
    const int octave = 32 - __builtin_clz(x);
    const int16_t *c = kws_pcan_gain_lut + 4 * octave - 6;
    /* Top 10 bits below the leading one: the position within the octave. */
    const int32_t frac = (int32_t)((octave < 11 ? x << (11 - octave) : x >> (octave - 11)) & 0x3FF);
    int32_t y = (c[2] * frac) >> 5;
    y += (int32_t)((uint32_t)c[1] << 5);
    y *= frac;
    y = (y + (1 << 14)) >> 15;
    return (int16_t)(y + c[0]);
}

static uint32_t shrink(uint32_t snr) {
    if (snr < (2u << KWS_PCAN_SNR_BITS)) {
        return (snr * snr) >> (2 + 2 * KWS_PCAN_SNR_BITS - KWS_PCAN_OUTPUT_BITS);
    }
    return (snr >> (KWS_PCAN_SNR_BITS - KWS_PCAN_OUTPUT_BITS)) - (1u << KWS_PCAN_OUTPUT_BITS);
}

void kws_pcan_apply(const uint32_t noise_estimate[KWS_NUM_CHANNELS], uint32_t signal[KWS_NUM_CHANNELS]) {
    for (int i = 0; i < KWS_NUM_CHANNELS; ++i) {
        /* The int16 gain widens with sign extension, as in the reference. */
        const uint32_t gain = (uint32_t)(int32_t)gain_for(noise_estimate[i]);
        const uint32_t snr = (uint32_t)(((uint64_t)signal[i] * gain) >> KWS_PCAN_SNR_SHIFT);
        signal[i] = shrink(snr);
    }
}
