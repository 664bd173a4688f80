/*
 * stream.h - streaming recognition: every PDM block (app/pace.h: stride
 * frames of 20 ms) goes through the frontend; once the window holds 49 frames
 * the model runs on it after each block and RecognizeCommands decides; new
 * detections print `heard label=<label> score=<0-255> t_ms=<ms> dropped=<blocks>`.
 *
 * The stream's first full window is the first second of audio since the
 * stream began, exactly what a clip is: it is also reported as a `result`
 * line, which is how a harness classifies a clip it feeds through the PDM
 * from reset (Renode: sysbus.pdm SetInputFile).
 *
 * t_ms is virtual audio time: 20 ms per frame since the stream began.
 * Polling cannot re-arm the PDM while the model runs, so blocks that arrive
 * during an inference longer than a block are lost; when the DWT counts, lost
 * blocks are estimated from the cycles elapsed and still advance t_ms
 * (dropped counts them).  Without a DWT (Renode's stock platform) t_ms counts
 * processed blocks only.
 */
#ifndef KWS_APP_STREAM_H
#define KWS_APP_STREAM_H

#include <stdint.h>

#include "features.h"

/* Starts the PDM if needed, resets frontend, window and recognizer. */
void kws_stream_begin(struct kws_features *f);

/* Non-blocking: processes the next PDM block if one is ready (returns 1; 0 when none was), and
 * records its busy cycles (profile stage `busy`): from the poll that sees the block to the end of
 * its handling, lines queued for the UART included, plus the cycles of commands run since the
 * previous block (they may have kept the loop from seeing this one).  Real time needs every busy
 * figure below one block's cycles: then the firmware is waiting again before the next END. */
int kws_stream_poll(struct kws_features *f);

/* Cycles spent on a command while streaming: charged to the next block's busy figure. */
void kws_stream_charge(uint32_t cycles);

#endif /* KWS_APP_STREAM_H */
