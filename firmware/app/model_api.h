/*
 * model_api.h - everything the application takes from the generated model.
 *
 * model/deploy/codegen/ emits kws_model.h / kws_model.c into MODEL_DIR; this header
 * is the only place that names what they provide:
 *   KWS_MODEL_INPUT_SIZE, KWS_MODEL_OUTPUT_SIZE, KWS_MODEL_ARENA_BYTES,
 *   KWS_MODEL_INT8, KWS_MODEL_LABELS (initializer), kws_model_value_t,
 *   kws_model_invoke(input, output) and kws_model_features_to_input(), the
 *   uint16 feature -> model input mapping (model/deploy/quantization.py's table).
 * The model's name comes from the build (KWS_FW_MODEL).  int8 and float32
 * models both build: the input window holds kws_model_value_t, and float32
 * outputs are mapped onto the int8 score scale (app/infer.h).
 */
#ifndef KWS_APP_MODEL_API_H
#define KWS_APP_MODEL_API_H

#include <stdint.h>

#include "kws_config.h"
#include "kws_model.h"

#define KWS_APP_FRAMES (1 + (KWS_SAMPLE_RATE_HZ * KWS_CLIP_MS / 1000 - KWS_SAMPLE_RATE_HZ * KWS_WINDOW_MS / 1000) / \
                        (KWS_SAMPLE_RATE_HZ * KWS_STEP_MS / 1000))
#define KWS_APP_INPUT_VALUES KWS_MODEL_INPUT_SIZE
#define KWS_MODEL_NUM_CLASSES KWS_MODEL_OUTPUT_SIZE
#define KWS_MODEL_INPUT_FRAMES KWS_APP_FRAMES

_Static_assert(KWS_MODEL_INPUT_SIZE == KWS_APP_FRAMES * KWS_NUM_CHANNELS, "model input is not 49 x 40 features");
_Static_assert(KWS_MODEL_NUM_CLASSES <= KWS_RC_MAX_CLASSES, "more classes than the recognizer holds");
_Static_assert(KWS_MODEL_INT8 ? sizeof(kws_model_value_t) == 1 : sizeof(kws_model_value_t) == 4,
               "int8 or float32 model input expected");

/* Class names in output order, from KWS_MODEL_LABELS (app/infer.c). */
extern const char *const kws_model_labels[KWS_MODEL_NUM_CLASSES];

#endif /* KWS_APP_MODEL_API_H */
