/* stream.c - PDM blocks -> features -> model -> recognizer -> heard lines. */
#include "stream.h"

#include "clip.h"
#include "dwt.h"
#include "infer.h"
#include "line.h"
#include "pace.h"
#include "pdm.h"
#include "profile.h"
#include "recognizer.h"

static struct kws_recognizer recognizer;
static uint32_t blocks_handled;
static uint32_t blocks_elapsed; /* handled + estimated lost */
static uint64_t cycles_elapsed; /* since the stream began, wrap-free */
static uint32_t last_cycles;
static uint32_t inferences;
static uint32_t first_window_pre; /* preprocessing cycles of the first window, for its result line */
static uint32_t charged;          /* cycles of commands run since the last block: it may have waited */

void kws_stream_begin(struct kws_features *f)
{
    kws_pace_start_pdm();
    (void)kws_pdm_poll_block(); /* a block left over from before is stale: drop it */
    kws_features_reset(f);
    struct kws_recognizer_config config = kws_recognizer_default_config(KWS_MODEL_NUM_CLASSES);
    (void)kws_recognizer_init(&recognizer, &config); /* cannot fail: classes checked at compile time */
    blocks_handled = 0;
    blocks_elapsed = 0;
    cycles_elapsed = 0;
    last_cycles = kws_dwt_cycles();
    inferences = 0;
    first_window_pre = 0;
    charged = 0;
}

void kws_stream_charge(uint32_t cycles) { charged += cycles; }

static void advance_time(uint32_t now)
{
    cycles_elapsed += now - last_cycles;
    last_cycles = now;
    blocks_handled++;
    uint64_t block_cycles = (uint64_t)KWS_PACE_FRAME_CYCLES * kws_pace_stride();
    uint32_t by_cycles = (uint32_t)(cycles_elapsed / block_cycles);
    blocks_elapsed = by_cycles > blocks_handled ? by_cycles : blocks_handled;
}

static void recognize(const int8_t *scores)
{
    uint32_t start = kws_dwt_cycles();
    struct kws_recognition r;
    int32_t t_ms = (int32_t)(blocks_elapsed * kws_pace_stride() * KWS_STEP_MS);
    int ok = kws_recognizer_process(&recognizer, scores, t_ms, &r) == 0;
    kws_profile_add(KWS_STAGE_POST, kws_dwt_cycles() - start);
    if (ok && r.is_new) {
        struct kws_line line;
        kws_line_begin(&line, "heard");
        kws_line_str(&line, "label", kws_model_labels[r.label]);
        kws_line_i32(&line, "score", r.score);
        kws_line_i32(&line, "t_ms", t_ms);
        kws_line_u32(&line, "dropped", blocks_elapsed - blocks_handled);
        kws_line_send(&line);
    }
}

/* Frontend, and once the window is full the model, the recognizer and their lines. */
static void handle_block(struct kws_features *f, const int16_t *block)
{
    uint32_t start = kws_dwt_cycles();
    uint32_t frames = kws_features_push(f, block, kws_pdm_block_samples());
    uint32_t pre_cycles = kws_dwt_cycles() - start;
    kws_profile_add(KWS_STAGE_PRE, pre_cycles);
    if (inferences == 0) {
        first_window_pre += pre_cycles;
    }
    if (frames == 0 || !kws_features_full(f)) {
        return;
    }

    int8_t scores[KWS_MODEL_NUM_CLASSES];
    uint32_t cycles;
    if (kws_infer(f->window, scores, &cycles) != 0) {
        return;
    }
    kws_profile_add(KWS_STAGE_INF, cycles);
    if (inferences == 0) {
        (void)kws_clip_report(f, scores, first_window_pre, cycles);
    }
    recognize(scores);
    if (++inferences % KWS_PROFILE_WINDOW == 0) {
        kws_profile_report();
    }
}

int kws_stream_poll(struct kws_features *f)
{
    const int16_t *block = kws_pdm_poll_block();
    if (block == NULL) {
        return 0;
    }
    uint32_t seen = kws_dwt_cycles();
    advance_time(seen);
    handle_block(f, block);
    /* Busy: from the block's END (seen one pause and one poll later at most, unless a command
       held the loop: then its cycles count too) to the end of everything the block made the
       firmware do. */
    kws_profile_add(KWS_STAGE_BUSY, kws_dwt_cycles() - seen + charged);
    charged = 0;
    return 1;
}
