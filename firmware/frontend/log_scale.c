/* log_scale.c - see log_scale.h. */
#include "log_scale.h"

#include "fft.h"
#include "filterbank.h"
#include "frontend_tables.h"

#define CORRECTION_BITS (KWS_FFT_LOG2 - KWS_FILTERBANK_BITS / 2)

typedef char kws_log_correction_check[CORRECTION_BITS >= 0 ? 1 : -1];

/* Q16 fraction of log2(x) for x with its leading one at bit `point`. */
static uint32_t log2_fraction(uint32_t x, int point) {
    int32_t frac = (int32_t)(x - (1u << point));
    if (point < KWS_LOG_SCALE_BITS) {
        frac <<= KWS_LOG_SCALE_BITS - point;
    } else {
        frac >>= point - KWS_LOG_SCALE_BITS;
    }
    const int segment_bits = KWS_LOG_SCALE_BITS - KWS_LOG_SEGMENT_BITS;
    const int32_t seg = frac >> segment_bits;
    const int32_t c0 = kws_log_lut[seg];
    const int32_t c1 = kws_log_lut[seg + 1];
    const int32_t offset = frac - (seg << segment_bits);
    return (uint32_t)(frac + c0 + (((c1 - c0) * offset) >> KWS_LOG_SCALE_BITS));
}

static uint32_t scaled_log(uint32_t x) {
    const int point = 31 - __builtin_clz(x);
    const uint32_t log2 = ((uint32_t)point << KWS_LOG_SCALE_BITS) + log2_fraction(x, point);
    const uint32_t round = 1u << (KWS_LOG_SCALE_BITS - 1);
    /*
     * ln = log2 * ln(2), rounded in Q16.  Splitting log2 at bit 16 keeps the
     * product in 32 bits; the high part multiplies exactly into whole units.
     */
    const uint32_t ln = (log2 >> KWS_LOG_SCALE_BITS) * KWS_LOG_COEFF_Q16 +
                        (((log2 & 0xFFFFu) * KWS_LOG_COEFF_Q16 + round) >> KWS_LOG_SCALE_BITS);
    return ((ln << KWS_LOG_SCALE_SHIFT) + round) >> KWS_LOG_SCALE_BITS;
}

void kws_log_scale_apply(const uint32_t signal[KWS_NUM_CHANNELS], uint16_t out[KWS_NUM_CHANNELS]) {
    for (int i = 0; i < KWS_NUM_CHANNELS; ++i) {
        uint32_t value = signal[i] << CORRECTION_BITS; /* wraps like the reference */
        value = value > 1 ? scaled_log(value) : 0;
        out[i] = (uint16_t)(value < 0xFFFFu ? value : 0xFFFFu);
    }
}
