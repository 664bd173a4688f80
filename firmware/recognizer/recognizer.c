/* recognizer.c - RecognizeCommands: windowed score averaging with threshold and suppression. */
#include "recognizer.h"

#include <string.h>

struct kws_recognizer_config kws_recognizer_default_config(int32_t num_classes)
{
    struct kws_recognizer_config config = {
        .average_window_ms = KWS_RC_AVERAGE_WINDOW_MS,
        .detection_threshold = KWS_RC_DETECTION_THRESHOLD,
        .suppression_ms = KWS_RC_SUPPRESSION_MS,
        .minimum_count = KWS_RC_MINIMUM_COUNT,
        .minimum_span_ms = KWS_RC_MINIMUM_SPAN_MS,
        .num_classes = num_classes,
    };
    return config;
}

int kws_recognizer_init(struct kws_recognizer *r, const struct kws_recognizer_config *config)
{
    if (config->num_classes < 1 || config->num_classes > KWS_RC_MAX_CLASSES || config->average_window_ms < 0 ||
        config->minimum_count < 1) {
        return -1;
    }
    memset(r, 0, sizeof(*r));
    r->config = *config;
    return 0;
}

static const struct kws_recognizer_result *queued(const struct kws_recognizer *r, size_t i)
{
    return &r->queue[(r->head + i) % KWS_RC_MAX_RESULTS];
}

static void push(struct kws_recognizer *r, const int8_t *scores, int32_t time_ms)
{
    if (r->count == KWS_RC_MAX_RESULTS) {
        r->head = (r->head + 1) % KWS_RC_MAX_RESULTS;
        r->count--;
    }
    struct kws_recognizer_result *slot = &r->queue[(r->head + r->count) % KWS_RC_MAX_RESULTS];
    slot->time_ms = time_ms;
    memcpy(slot->scores, scores, (size_t)r->config.num_classes);
    r->count++;
}

/* Drops results older than the window; one exactly window_ms old stays, as in TFLM. */
static void prune(struct kws_recognizer *r, int32_t time_ms)
{
    int32_t limit = time_ms - r->config.average_window_ms;
    while (r->count > 0 && queued(r, 0)->time_ms < limit) {
        r->head = (r->head + 1) % KWS_RC_MAX_RESULTS;
        r->count--;
    }
}

int kws_recognizer_process(struct kws_recognizer *r, const int8_t *scores, int32_t time_ms,
                           struct kws_recognition *out)
{
    if (r->count > 0 && time_ms < queued(r, r->count - 1)->time_ms) {
        return -1;
    }
    push(r, scores, time_ms);
    prune(r, time_ms);

    int32_t span = time_ms - queued(r, 0)->time_ms;
    if ((int32_t)r->count < r->config.minimum_count || span < r->config.minimum_span_ms) {
        out->label = r->previous_label;
        out->score = 0;
        out->is_new = 0;
        return 0;
    }

    int32_t top_label = 0;
    int32_t top_score = -1;
    for (int32_t c = 0; c < r->config.num_classes; c++) {
        int32_t sum = 0;
        for (size_t i = 0; i < r->count; i++) {
            sum += queued(r, i)->scores[c] + 128;
        }
        int32_t average = sum / (int32_t)r->count;
        if (average > top_score) { /* ties keep the lower class index */
            top_score = average;
            top_label = c;
        }
    }

    int recent = r->has_previous && time_ms - r->previous_time_ms <= r->config.suppression_ms;
    out->is_new = top_score > r->config.detection_threshold && (top_label != r->previous_label || !recent);
    if (out->is_new) {
        r->previous_label = top_label;
        r->previous_time_ms = time_ms;
        r->has_previous = 1;
    }
    out->label = top_label;
    out->score = top_score;
    return 0;
}

size_t kws_recognizer_state_size(void)
{
    return sizeof(struct kws_recognizer);
}
