/*
 * fft.h - 512-point real FFT in int16 fixed point.
 *
 * Bit-exact with kissfft's FIXED_POINT=16 real transform (kiss_fftr), which is
 * what TensorFlow's audio_microfrontend runs: a 256-point complex FFT of the
 * even/odd sample pairs (four radix-4 stages, each dividing its inputs by 4)
 * followed by the split into 257 real-input bins.  Every intermediate is
 * rounded and wrapped to int16 exactly where kissfft does it.
 *
 * Complex values are int16 pairs packed in a word, real part in the low half
 * (dsp16.h): one load or store moves a value, and on the Cortex-M4 the DSP
 * extension computes both parts of a sum, a difference or a twiddle product
 * at once.
 */
#ifndef KWS_FRONTEND_FFT_H
#define KWS_FRONTEND_FFT_H

#include <stdint.h>

#define KWS_FFT_LOG2 9
#define KWS_FFT_SIZE (1 << KWS_FFT_LOG2)
#define KWS_FFT_BINS (KWS_FFT_SIZE / 2 + 1)

/* bins[k]: real part in bits 0-15, imaginary part in bits 16-31. */
struct kws_spectrum {
    uint32_t bins[KWS_FFT_BINS];
};

/*
 * out receives bins 0..KWS_FFT_SIZE/2 of the transform of in[i] << shift (the
 * shift wraps in 16 bits, as the reference's does).
 */
void kws_fft_real(const int16_t in[KWS_FFT_SIZE], int shift, struct kws_spectrum *out);

#endif /* KWS_FRONTEND_FFT_H */
