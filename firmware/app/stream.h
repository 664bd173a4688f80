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

#include "features.h"

/* Starts the PDM if needed, resets frontend, window and recognizer. */
void kws_stream_begin(struct kws_features *f);

/* Non-blocking: processes the next PDM block if one is ready. */
void kws_stream_poll(struct kws_features *f);

#endif /* KWS_APP_STREAM_H */
