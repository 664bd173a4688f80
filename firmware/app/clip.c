/* clip.c - one clip through frontend, model and arg-max, with a result line. */
#include "clip.h"

#include "dwt.h"
#include "infer.h"
#include "line.h"
#include "pace.h"
#include "pause.h"
#include "pdm.h"
#include "profile.h"
#include "uarte.h"

/* Samples taken from the UART per frontend call: a small stack buffer, not a clip. */
#define UART_CHUNK_SAMPLES 32

_Static_assert(KWS_CLIP_SAMPLES % UART_CHUNK_SAMPLES == 0, "UART chunks must tile a clip");

uint32_t kws_clip_report(const struct kws_features *f, const int8_t *scores, uint32_t pre_cycles,
                         uint32_t inf_cycles)
{
    uint32_t start = kws_dwt_cycles();
    int32_t label = kws_argmax(scores);
    uint32_t post_cycles = kws_dwt_cycles() - start;

    struct kws_line line;
    kws_line_begin(&line, "result");
    kws_line_i8_list(&line, "scores", scores, KWS_MODEL_NUM_CLASSES);
    kws_line_str(&line, "label", kws_model_labels[label]);
    kws_line_hex(&line, "checksum", kws_features_checksum(f));
    kws_line_u32(&line, "pre", pre_cycles);
    kws_line_u32(&line, "inf", inf_cycles);
    kws_line_u32(&line, "post", post_cycles);
    kws_line_send(&line);
    return post_cycles;
}

/* Model, arg-max, profile and the result line, given the preprocessing cycles. */
static void classify(const struct kws_features *f, uint32_t pre_cycles)
{
    int8_t scores[KWS_MODEL_NUM_CLASSES];
    uint32_t inf_cycles;
    if (kws_infer(f->window, scores, &inf_cycles) != 0) {
        return;
    }
    uint32_t post_cycles = kws_clip_report(f, scores, pre_cycles, inf_cycles);
    kws_profile_add(KWS_STAGE_PRE, pre_cycles);
    kws_profile_add(KWS_STAGE_INF, inf_cycles);
    kws_profile_add(KWS_STAGE_POST, post_cycles);
}

static uint32_t timed_push(struct kws_features *f, const int16_t *samples, size_t n)
{
    uint32_t start = kws_dwt_cycles();
    (void)kws_features_push(f, samples, n);
    return kws_dwt_cycles() - start;
}

void kws_clip_from_uart(struct kws_features *f)
{
    int16_t chunk[UART_CHUNK_SAMPLES];
    kws_features_reset(f);
    kws_uarte_expect(KWS_CLIP_SAMPLES * sizeof(int16_t));
    (void)kws_uarte_take_rx_loss(); /* losses before the clip belong to the command line */
    uint32_t pre_cycles = 0;
    for (uint32_t n = 0; n < KWS_CLIP_SAMPLES; n += UART_CHUNK_SAMPLES) {
        /* The core is little-endian: s16le bytes land as int16 samples. */
        kws_uarte_read((uint8_t *)chunk, sizeof chunk);
        pre_cycles += timed_push(f, chunk, UART_CHUNK_SAMPLES);
    }
    if (kws_uarte_take_rx_loss()) {
        struct kws_line line; /* the audio lost bytes: no result for a clip the host did not send */
        kws_line_begin(&line, "error");
        kws_line_str(&line, "reason", "rx-overrun");
        kws_line_send(&line);
        return;
    }
    classify(f, pre_cycles);
}

void kws_clip_from_pdm(struct kws_features *f)
{
    kws_pace_start_pdm();
    (void)kws_pdm_poll_block(); /* a block left over from before is stale: drop it */
    kws_features_reset(f);
    const size_t block = kws_pdm_block_samples();
    uint32_t pre_cycles = 0;
    for (uint32_t n = 0; n < KWS_CLIP_SAMPLES; n += block) {
        const int16_t *samples;
        while ((samples = kws_pdm_poll_block()) == NULL) {
            kws_uarte_service();
            kws_pause();
        }
        pre_cycles += timed_push(f, samples, block);
    }
    classify(f, pre_cycles);
}
