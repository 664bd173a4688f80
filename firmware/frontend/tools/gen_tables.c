/*
 * gen_tables.c - host tool that writes the frontend's constant tables.
 *
 * Usage: gen_tables OUT.c OUT.h
 *
 * Every table is computed with the same float/double expressions (types and
 * operation order included) that TensorFlow's audio_microfrontend evaluates
 * when it sets up its state, so the firmware's tables equal the op's bit for
 * bit while the device itself needs no libm.  Build with -ffp-contract=off:
 * a fused multiply-add would round differently from the reference.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kws_config.h"

#define WINDOW_SAMPLES (KWS_SAMPLE_RATE_HZ * KWS_WINDOW_MS / 1000)
#define FFT_SIZE 512
#define CFFT_SIZE (FFT_SIZE / 2)
#define SPECTRUM_BINS (FFT_SIZE / 2 + 1)
#define WINDOW_BITS 12
#define FILTERBANK_BITS 12
#define NR_BITS 14
#define PCAN_SNR_BITS 12
#define PCAN_LUT_INTERVALS 32
#define PCAN_LUT_SIZE (4 * PCAN_LUT_INTERVALS - 3)
#define LOG_SEGMENTS 128
#define LOG_SCALE_BITS 16
#define BANDS (KWS_NUM_CHANNELS + 1)
#define MAX_BINS SPECTRUM_BINS

static const double kPi = 3.14159265358979323846;

static FILE *out_c;
static FILE *out_h;

static int msb32(uint32_t x) {
    int bits = 0;
    while (x) {
        ++bits;
        x >>= 1;
    }
    return bits;
}

static void emit_i16(const char *decl, const int16_t *v, int n) {
    fprintf(out_c, "%s = {", decl);
    for (int i = 0; i < n; ++i) {
        fprintf(out_c, "%s%d,", (i % 12) ? " " : "\n    ", v[i]);
    }
    fprintf(out_c, "\n};\n\n");
}

/* Hann window in Q12, sampled at half-integer points. */
static void gen_window(void) {
    static int16_t coeffs[WINDOW_SAMPLES];
    const float arg = kPi * 2.0 / ((float)WINDOW_SAMPLES);
    for (int i = 0; i < WINDOW_SAMPLES; ++i) {
        float value = 0.5 - (0.5 * cos(arg * (i + 0.5)));
        coeffs[i] = (int16_t)floor(value * (1 << WINDOW_BITS) + 0.5);
    }
    fprintf(out_h, "extern const int16_t kws_window_coeffs[%d];\n", WINDOW_SAMPLES);
    char decl[96];
    snprintf(decl, sizeof decl, "const int16_t kws_window_coeffs[%d]", WINDOW_SAMPLES);
    emit_i16(decl, coeffs, WINDOW_SAMPLES);
}

/* Q15 unit phasor, rounded the way kissfft's int16 build rounds its twiddles. */
static void phasor(double phase, int16_t *re, int16_t *im) {
    *re = (int16_t)floor(.5 + 32767 * cos(phase));
    *im = (int16_t)floor(.5 + 32767 * sin(phase));
}

/* Q15 complex values packed as the FFT reads them (dsp16.h): real part in bits 0-15, imaginary in 16-31. */
static void emit_pair(const char *name, const int16_t *re, const int16_t *im, int n) {
    fprintf(out_h, "extern const uint32_t %s[%d];\n", name, n);
    fprintf(out_c, "const uint32_t %s[%d] = {", name, n);
    for (int i = 0; i < n; ++i) {
        const uint32_t packed = (uint32_t)(uint16_t)re[i] | ((uint32_t)(uint16_t)im[i] << 16);
        fprintf(out_c, "%s0x%08xu,", (i % 6) ? " " : "\n    ", (unsigned)packed);
    }
    fprintf(out_c, "\n};\n\n");
}

/*
 * Twiddles of the 256-point complex FFT, regrouped per radix-4 stage: for the
 * stage that combines length-m transforms (stride s = 256 / (4 m)), entry
 * (j - 1) m + k holds w^(j k s), j = 1..3, k = 0..m-1, in the order the
 * butterfly loop reads them.
 */
static void gen_fft(void) {
    static int16_t full_re[CFFT_SIZE], full_im[CFFT_SIZE];
    for (int i = 0; i < CFFT_SIZE; ++i) {
        phasor(-2 * kPi * i / CFFT_SIZE, &full_re[i], &full_im[i]);
    }
    if (full_re[0] != 32767 || full_im[0] != 0) {
        fprintf(stderr, "gen_tables: w^0 is not (32767, 0)\n");
        exit(1);
    }
    for (int m = 4; m <= CFFT_SIZE / 4; m *= 4) {
        static int16_t re[3 * CFFT_SIZE / 4], im[3 * CFFT_SIZE / 4];
        const int stride = CFFT_SIZE / (4 * m);
        for (int j = 1; j <= 3; ++j) {
            for (int k = 0; k < m; ++k) {
                re[(j - 1) * m + k] = full_re[j * k * stride];
                im[(j - 1) * m + k] = full_im[j * k * stride];
            }
        }
        char name[32];
        snprintf(name, sizeof name, "kws_fft_tw%d", m);
        emit_pair(name, re, im, 3 * m);
    }
    /* Split twiddles that turn the packed complex FFT into the real one. */
    static int16_t split_re[CFFT_SIZE / 2], split_im[CFFT_SIZE / 2];
    for (int i = 0; i < CFFT_SIZE / 2; ++i) {
        phasor(-kPi * ((double)(i + 1) / CFFT_SIZE + .5), &split_re[i], &split_im[i]);
    }
    emit_pair("kws_fft_split", split_re, split_im, CFFT_SIZE / 2);
}

static float freq_to_mel(float freq) { return 1127.0 * log1p(freq / 700.0); }

/*
 * Mel filterbank: KWS_NUM_CHANNELS + 1 triangular half-bands over contiguous
 * FFT bins.  Band b spans bins [band_end[b-1], band_end[b]); each bin carries a
 * weight (its share of band b) and an unweight (its share of band b + 1).
 */
static void gen_filterbank(void) {
    const float lower = (float)KWS_LOWER_BAND_HZ;
    const float upper = (float)KWS_UPPER_BAND_HZ;
    float center[BANDS];
    const float mel_low = freq_to_mel(lower);
    const float mel_hi = freq_to_mel(upper);
    const float mel_span = mel_hi - mel_low;
    const float mel_spacing = mel_span / ((float)BANDS);
    for (int i = 0; i < BANDS; ++i) {
        center[i] = mel_low + (mel_spacing * (i + 1));
    }

    const float hz_per_bin = 0.5 * KWS_SAMPLE_RATE_HZ / ((float)SPECTRUM_BINS - 1);
    const int first_bin = 1.5 + lower / hz_per_bin;
    uint16_t band_end[BANDS];
    static int16_t weights[MAX_BINS];
    static int16_t unweights[MAX_BINS];
    int bin = first_bin;
    for (int band = 0; band < BANDS; ++band) {
        const float denom = (band == 0) ? mel_low : center[band - 1];
        for (; freq_to_mel(bin * hz_per_bin) <= center[band]; ++bin) {
            if (bin >= SPECTRUM_BINS - 1) {
                fprintf(stderr, "gen_tables: filterbank reaches past the spectrum\n");
                exit(1);
            }
            const float weight = (center[band] - freq_to_mel(bin * hz_per_bin)) / (center[band] - denom);
            weights[bin - first_bin] = (int16_t)floor(weight * (1 << FILTERBANK_BITS) + 0.5);
            unweights[bin - first_bin] = (int16_t)floor((1.0 - weight) * (1 << FILTERBANK_BITS) + 0.5);
        }
        band_end[band] = (uint16_t)bin;
    }
    const int end_bin = bin;

    fprintf(out_h, "#define KWS_FB_FIRST_BIN %d\n#define KWS_FB_END_BIN %d\n", first_bin, end_bin);
    fprintf(out_h, "extern const uint16_t kws_fb_band_end[%d];\n", BANDS);
    fprintf(out_h, "extern const int16_t kws_fb_weights[%d];\n", end_bin - first_bin);
    fprintf(out_h, "extern const int16_t kws_fb_unweights[%d];\n", end_bin - first_bin);
    fprintf(out_c, "const uint16_t kws_fb_band_end[%d] = {", BANDS);
    for (int i = 0; i < BANDS; ++i) {
        fprintf(out_c, "%s%u,", (i % 12) ? " " : "\n    ", band_end[i]);
    }
    fprintf(out_c, "\n};\n\n");
    char decl[96];
    snprintf(decl, sizeof decl, "const int16_t kws_fb_weights[%d]", end_bin - first_bin);
    emit_i16(decl, weights, end_bin - first_bin);
    snprintf(decl, sizeof decl, "const int16_t kws_fb_unweights[%d]", end_bin - first_bin);
    emit_i16(decl, unweights, end_bin - first_bin);
}

/* Smoothing coefficients in Q14, truncated from float as the reference does. */
static void gen_noise_reduction(void) {
    const float even = (float)KWS_NR_EVEN_SMOOTHING_MILLI / 1000.0f;
    const float odd = (float)KWS_NR_ODD_SMOOTHING_MILLI / 1000.0f;
    const float min_remaining = (float)KWS_NR_MIN_SIGNAL_REMAINING_MILLI / 1000.0f;
    fprintf(out_h, "#define KWS_NR_EVEN_SMOOTHING_Q14 %uu\n", (unsigned)(uint16_t)(even * (1 << NR_BITS)));
    fprintf(out_h, "#define KWS_NR_ODD_SMOOTHING_Q14 %uu\n", (unsigned)(uint16_t)(odd * (1 << NR_BITS)));
    fprintf(out_h, "#define KWS_NR_MIN_SIGNAL_REMAINING_Q14 %uu\n",
            (unsigned)(uint16_t)(min_remaining * (1 << NR_BITS)));
}

static int16_t pcan_gain(int input_bits, uint32_t x) {
    const float strength = (float)KWS_PCAN_STRENGTH_CENTI / 100.0f;
    const float offset = (float)KWS_PCAN_OFFSET_CENTI / 100.0f;
    const float x_as_float = ((float)x) / ((uint32_t)1 << input_bits);
    const float gain = ((uint32_t)1 << KWS_PCAN_GAIN_BITS) * powf(x_as_float + offset, -strength);
    if (gain > 0x7FFF) {
        return 0x7FFF;
    }
    return (int16_t)(gain + 0.5f);
}

/*
 * PCAN gain curve as piecewise quadratics, one per octave of the noise
 * estimate: entry 4 i - 6 + {0, 1, 2} holds y0, a1, a2 for estimates in
 * [2^(i-1), 2^i); entries 0 and 1 are the gains at 0 and 1.
 */
static void gen_pcan(void) {
    const int correction_bits = msb32(FFT_SIZE) - 1 - (FILTERBANK_BITS / 2);
    const int input_bits = KWS_NR_SMOOTHING_BITS - correction_bits;
    int16_t lut[PCAN_LUT_SIZE] = {0};
    lut[0] = pcan_gain(input_bits, 0);
    lut[1] = pcan_gain(input_bits, 1);
    for (int interval = 2; interval <= PCAN_LUT_INTERVALS; ++interval) {
        const uint32_t x0 = (uint32_t)1 << (interval - 1);
        const uint32_t x1 = x0 + (x0 >> 1);
        const uint32_t x2 = (interval == PCAN_LUT_INTERVALS) ? x0 + (x0 - 1) : 2 * x0;
        const int16_t y0 = pcan_gain(input_bits, x0);
        const int16_t y1 = pcan_gain(input_bits, x1);
        const int16_t y2 = pcan_gain(input_bits, x2);
        const int32_t diff1 = (int32_t)y1 - y0;
        const int32_t diff2 = (int32_t)y2 - y0;
        const int32_t a1 = 4 * diff1 - diff2;
        const int32_t a2 = diff2 - a1;
        lut[4 * interval - 6] = y0;
        lut[4 * interval - 5] = (int16_t)a1;
        lut[4 * interval - 4] = (int16_t)a2;
    }
    fprintf(out_h, "#define KWS_PCAN_SNR_SHIFT %d\n", KWS_PCAN_GAIN_BITS - correction_bits - PCAN_SNR_BITS);
    fprintf(out_h, "extern const int16_t kws_pcan_gain_lut[%d];\n", PCAN_LUT_SIZE);
    char decl[96];
    snprintf(decl, sizeof decl, "const int16_t kws_pcan_gain_lut[%d]", PCAN_LUT_SIZE);
    emit_i16(decl, lut, PCAN_LUT_SIZE);
}

/*
 * log2(1 + f) - f in Q16 at LOG_SEGMENTS + 1 points of f in [0, 1] (plus one
 * pad entry): the correction added to the linear mantissa to get log2.
 */
static void gen_log(void) {
    uint16_t lut[LOG_SEGMENTS + 2];
    for (int i = 0; i <= LOG_SEGMENTS; ++i) {
        const double f = (double)i / LOG_SEGMENTS;
        lut[i] = (uint16_t)floor((log2(1.0 + f) - f) * (1 << LOG_SCALE_BITS) + 0.5);
    }
    lut[LOG_SEGMENTS + 1] = 0;
    fprintf(out_h, "#define KWS_LOG_COEFF_Q16 %ld\n", lround(log(2.0) * (1 << LOG_SCALE_BITS)));
    fprintf(out_h, "extern const uint16_t kws_log_lut[%d];\n", LOG_SEGMENTS + 2);
    fprintf(out_c, "const uint16_t kws_log_lut[%d] = {", LOG_SEGMENTS + 2);
    for (int i = 0; i < LOG_SEGMENTS + 2; ++i) {
        fprintf(out_c, "%s%u,", (i % 12) ? " " : "\n    ", lut[i]);
    }
    fprintf(out_c, "\n};\n");
}

/*
 * Square-root seeds: ceil(8 sqrt(i + 1)) for the 8-bit mantissas i = 64..255,
 * an upper bound that two Newton steps refine to the exact root.
 */
static void gen_sqrt_seed(void) {
    fprintf(out_h, "extern const uint8_t kws_sqrt_seed[192];\n");
    fprintf(out_c, "\nconst uint8_t kws_sqrt_seed[192] = {");
    for (int i = 64; i < 256; ++i) {
        fprintf(out_c, "%s%d,", ((i - 64) % 16) ? " " : "\n    ", (int)ceil(8.0 * sqrt(i + 1.0)));
    }
    fprintf(out_c, "\n};\n");
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s OUT.c OUT.h\n", argv[0]);
        return 2;
    }
    out_c = fopen(argv[1], "w");
    out_h = fopen(argv[2], "w");
    if (!out_c || !out_h) {
        perror("gen_tables");
        return 1;
    }
    fprintf(out_h, "/* Generated by firmware/frontend/tools/gen_tables.c from kws_config.h: do not edit. */\n"
                   "#ifndef KWS_FRONTEND_TABLES_H\n#define KWS_FRONTEND_TABLES_H\n\n"
                   "#include <stdint.h>\n\n");
    fprintf(out_c, "/* Generated by firmware/frontend/tools/gen_tables.c from kws_config.h: do not edit. */\n"
                   "#include \"frontend_tables.h\"\n\n");
    gen_window();
    gen_fft();
    gen_filterbank();
    gen_noise_reduction();
    gen_pcan();
    gen_log();
    gen_sqrt_seed();
    fprintf(out_h, "\n#endif /* KWS_FRONTEND_TABLES_H */\n");
    if (fclose(out_c) != 0 || fclose(out_h) != 0) {
        perror("gen_tables");
        return 1;
    }
    return 0;
}
