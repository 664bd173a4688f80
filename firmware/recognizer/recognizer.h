/*
 * recognizer.h - turns a stream of per-inference class scores into command
 * detections, as TFLM micro_speech's RecognizeCommands does.
 *
 * Each result (int8 scores, one per class, and a time in ms) joins a queue;
 * results older than the averaging window are dropped.  With at least
 * minimum_count results spanning at least minimum_span_ms, the per-class
 * average of (score + 128) is taken; a detection is new when the top average
 * exceeds the threshold and either its label differs from the previous
 * detection's or more than suppression_ms have passed since it.
 *
 * Portable C99, no heap: the firmware and the host tests build the same file.
 */
#ifndef KWS_RECOGNIZER_RECOGNIZER_H
#define KWS_RECOGNIZER_RECOGNIZER_H

#include <stddef.h>
#include <stdint.h>

#include "kws_config.h"

struct kws_recognizer_config {
    int32_t average_window_ms;
    int32_t detection_threshold; /* on the 0-255 scale */
    int32_t suppression_ms;
    int32_t minimum_count;
    int32_t minimum_span_ms;
    int32_t num_classes; /* 1..KWS_RC_MAX_CLASSES */
};

struct kws_recognizer_result {
    int32_t time_ms;
    int8_t scores[KWS_RC_MAX_CLASSES];
};

struct kws_recognizer {
    struct kws_recognizer_config config;
    struct kws_recognizer_result queue[KWS_RC_MAX_RESULTS]; /* ring, oldest at head */
    size_t head;
    size_t count;
    int32_t previous_label;   /* label of the last detection; class 0 (silence) at start */
    int32_t previous_time_ms; /* its time, valid when has_previous */
    int has_previous;
};

struct kws_recognition {
    int32_t label;  /* top class, or the previous detection's when too few results */
    int32_t score;  /* its average score (0-255), 0 when too few results */
    int is_new;     /* 1 when this result is a new detection to report */
};

/* The micro_speech settings from kws_config.h, for num_classes classes. */
struct kws_recognizer_config kws_recognizer_default_config(int32_t num_classes);

/* Returns 0, or -1 when the configuration is out of range. */
int kws_recognizer_init(struct kws_recognizer *r, const struct kws_recognizer_config *config);

/*
 * Adds one result and fills *out.  Returns 0, or -1 (and leaves the state
 * unchanged) when time_ms is earlier than the newest queued result.  When the
 * queue is full the oldest result is dropped first.
 */
int kws_recognizer_process(struct kws_recognizer *r, const int8_t *scores, int32_t time_ms,
                           struct kws_recognition *out);

/* sizeof(struct kws_recognizer), for callers that allocate it opaquely (ctypes). */
size_t kws_recognizer_state_size(void);

#endif /* KWS_RECOGNIZER_RECOGNIZER_H */
