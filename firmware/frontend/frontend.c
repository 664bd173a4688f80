/* frontend.c - see frontend.h. */
#include "frontend.h"

#include <string.h>

#include "filterbank.h"
#include "log_scale.h"
#include "pcan.h"

/* The reference sizes its FFT as the next power of two >= the window; ours is fixed at 512. */
typedef char kws_window_fits_fft[(KWS_WINDOW_SAMPLES <= KWS_FFT_SIZE && 2 * KWS_WINDOW_SAMPLES > KWS_FFT_SIZE) ? 1 : -1];

/* Zero is every stage's initial state, and the frame's tail must stay zero: the FFT pads with it. */
void kws_frontend_init(struct kws_frontend *s) { memset(s, 0, sizeof *s); }

int kws_frontend_process(struct kws_frontend *s, const int16_t *samples, size_t n, size_t *consumed,
                         uint16_t out[KWS_NUM_CHANNELS]) {
    int16_t peak;
    if (!kws_window_push(&s->window, samples, n, consumed, s->frame, &peak)) {
        return 0;
    }
    /* Scale the frame up to use the FFT's full 16-bit range; the filterbank scales back. */
    const int shift = peak ? __builtin_clz((uint32_t)peak) - 17 : 15;
    kws_fft_real(s->frame, shift, &s->spectrum);
    kws_filterbank_apply(&s->spectrum, shift, s->channels);
    kws_noise_reduction_apply(&s->noise, s->channels);
#if KWS_PCAN_ENABLE
    kws_pcan_apply(s->noise.estimate, s->channels);
#endif
#if KWS_LOG_ENABLE
    kws_log_scale_apply(s->channels, out);
#else
    for (int i = 0; i < KWS_NUM_CHANNELS; ++i) {
        out[i] = (uint16_t)(s->channels[i] < 0xFFFFu ? s->channels[i] : 0xFFFFu);
    }
#endif
    return 1;
}

size_t kws_frontend_run(struct kws_frontend *s, const int16_t *samples, size_t n, uint16_t *out, size_t max_frames) {
    size_t frames = 0;
    kws_frontend_init(s);
    while (n > 0) {
        size_t used;
        uint16_t features[KWS_NUM_CHANNELS];
        if (kws_frontend_process(s, samples, n, &used, features)) {
            if (frames < max_frames) {
                memcpy(out + frames * KWS_NUM_CHANNELS, features, sizeof features);
            }
            ++frames;
        }
        samples += used;
        n -= used;
    }
    return frames;
}

size_t kws_frontend_state_size(void) { return sizeof(struct kws_frontend); }
