/* noise_reduction.c - see noise_reduction.h. */
#include "noise_reduction.h"

#include "frontend_tables.h"

void kws_noise_reduction_apply(struct kws_noise_reduction *nr, uint32_t signal[KWS_NUM_CHANNELS]) {
    for (int i = 0; i < KWS_NUM_CHANNELS; ++i) {
        const uint32_t alpha = (i & 1) ? KWS_NR_ODD_SMOOTHING_Q14 : KWS_NR_EVEN_SMOOTHING_Q14;
        const uint32_t scaled = signal[i] << KWS_NR_SMOOTHING_BITS; /* wraps like the reference */
        const uint32_t estimate =
            (uint32_t)(((uint64_t)scaled * alpha +
                        (uint64_t)nr->estimate[i] * ((1u << KWS_NOISE_REDUCTION_BITS) - alpha)) >>
                       KWS_NOISE_REDUCTION_BITS);
        nr->estimate[i] = estimate;
        const uint32_t noise = estimate > scaled ? scaled : estimate;
        const uint32_t floor =
            (uint32_t)(((uint64_t)signal[i] * KWS_NR_MIN_SIGNAL_REMAINING_Q14) >> KWS_NOISE_REDUCTION_BITS);
        const uint32_t kept = (scaled - noise) >> KWS_NR_SMOOTHING_BITS;
        signal[i] = kept > floor ? kept : floor;
    }
}
