/*
 * frontend.h - the micro frontend: 16 kHz int16 audio in, one vector of
 * KWS_NUM_CHANNELS uint16 log-mel features per KWS_STEP_MS out.
 *
 * Bit-exact with TensorFlow's audio_microfrontend op for the parameters in
 * kws_config.h.  Stages: window -> FFT -> filterbank -> noise reduction ->
 * PCAN gain control -> log scale.  All state lives in struct kws_frontend (no
 * heap); tables are const and generated at build time.
 */
#ifndef KWS_FRONTEND_FRONTEND_H
#define KWS_FRONTEND_FRONTEND_H

#include <stddef.h>
#include <stdint.h>

#include "fft.h"
#include "kws_config.h"
#include "noise_reduction.h"
#include "window.h"

struct kws_frontend {
    struct kws_window window;
    struct kws_noise_reduction noise;
    /* Scratch for one frame: windowed samples (zero tail), spectrum, channels. */
    int16_t frame[KWS_FFT_SIZE];
    struct kws_spectrum spectrum;
    uint32_t channels[KWS_NUM_CHANNELS];
};

/* Resets all state; the next frame starts a new stream. */
void kws_frontend_init(struct kws_frontend *s);

/*
 * Consumes samples until a frame is complete or the input runs out; *consumed
 * tells how many were taken.  Returns 1 and fills out when a frame was
 * produced, else 0.  Call again with the rest of the input after a frame: a
 * 20 ms block (KWS_STEP_SAMPLES) yields at most one frame once the first
 * window has filled.
 */
int kws_frontend_process(struct kws_frontend *s, const int16_t *samples, size_t n, size_t *consumed,
                         uint16_t out[KWS_NUM_CHANNELS]);

/*
 * Whole-clip convenience: resets s, runs all n samples through it and writes
 * up to max_frames frames (KWS_NUM_CHANNELS values each) to out.  Returns the
 * number of frames of the clip, 1 + (n - window) / step, or 0 when n is
 * shorter than a window, like the TensorFlow op.
 */
size_t kws_frontend_run(struct kws_frontend *s, const int16_t *samples, size_t n, uint16_t *out, size_t max_frames);

/* sizeof(struct kws_frontend), for callers that allocate it opaquely (ctypes). */
size_t kws_frontend_state_size(void);

#endif /* KWS_FRONTEND_FRONTEND_H */
