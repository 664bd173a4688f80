/*
 * profile.h - DWT cycle statistics per processing stage over the last
 * KWS_PROFILE_WINDOW iterations, reported as
 * `profile stage=<pre|inf|post> n=.. min=.. max=.. avg=..`, followed by the
 * stack's high-water mark: `profile stage=stack peak=<bytes> reserve=<bytes>`.
 */
#ifndef KWS_APP_PROFILE_H
#define KWS_APP_PROFILE_H

#include <stdint.h>

enum kws_stage { KWS_STAGE_PRE, KWS_STAGE_INF, KWS_STAGE_POST, KWS_STAGE_COUNT };

void kws_profile_add(enum kws_stage stage, uint32_t cycles);

/* Prints one line per stage that has samples, then the stack line. */
void kws_profile_report(void);

#endif /* KWS_APP_PROFILE_H */
