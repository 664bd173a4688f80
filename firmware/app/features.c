/* features.c - frontend frames, quantized, into a sliding model-input window. */
#include "features.h"

#include <string.h>

void kws_features_reset(struct kws_features *f)
{
    kws_frontend_init(&f->frontend);
    memset(f->window, 0, sizeof(f->window));
    f->frames = 0;
}

static void append_frame(struct kws_features *f, const uint16_t frame[KWS_NUM_CHANNELS])
{
    memmove(f->window, f->window + KWS_NUM_CHANNELS, sizeof f->window - sizeof f->window[0] * KWS_NUM_CHANNELS);
    kws_model_features_to_input(frame, &f->window[KWS_APP_INPUT_VALUES - KWS_NUM_CHANNELS], KWS_NUM_CHANNELS);
    f->frames++;
}

uint32_t kws_features_push(struct kws_features *f, const int16_t *samples, size_t n)
{
    uint16_t frame[KWS_NUM_CHANNELS];
    uint32_t produced = 0;
    while (n > 0) {
        size_t consumed = 0;
        if (kws_frontend_process(&f->frontend, samples, n, &consumed, frame)) {
            append_frame(f, frame);
            produced++;
        }
        samples += consumed;
        n -= consumed;
    }
    return produced;
}

int kws_features_full(const struct kws_features *f)
{
    return f->frames >= KWS_MODEL_INPUT_FRAMES;
}

uint32_t kws_features_checksum(const struct kws_features *f)
{
    const uint8_t *bytes = (const uint8_t *)f->window;
    uint32_t hash = 2166136261u;
    for (size_t i = 0; i < sizeof f->window; i++) {
        hash = (hash ^ bytes[i]) * 16777619u;
    }
    return hash;
}
