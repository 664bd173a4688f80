/*
 * features.h - audio to model input: the micro frontend, quantization through
 * the model's lookup table, and the window of the last 49 frames.
 *
 * The window is kept contiguous and frame-major, exactly the model's input:
 * each new frame shifts it up by one row (1920 bytes for int8, a few hundred cycles),
 * cheaper than copying a ring out in order before every inference.
 */
#ifndef KWS_APP_FEATURES_H
#define KWS_APP_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "frontend.h"
#include "model_api.h"

struct kws_features {
    struct kws_frontend frontend;
    kws_model_value_t window[KWS_APP_INPUT_VALUES]; /* oldest frame first */
    uint32_t frames;                                /* frames produced since reset */
};

/* Fresh frontend state and an empty window. */
void kws_features_reset(struct kws_features *f);

/* Runs n samples through the frontend; returns the number of new frames (at most one per 20 ms of samples
 * once the first window has filled). */
uint32_t kws_features_push(struct kws_features *f, const int16_t *samples, size_t n);

/* 1 once the window holds a full clip's frames. */
int kws_features_full(const struct kws_features *f);

/* 32-bit FNV-1a of the window's bytes (1960 for int8, 7840 for float32): identifies the exact model input. */
uint32_t kws_features_checksum(const struct kws_features *f);

#endif /* KWS_APP_FEATURES_H */
