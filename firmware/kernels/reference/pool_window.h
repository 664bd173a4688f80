/* pool_window.h - the input rows and columns under one output of a 2-D pooling: the filter placed
   at (oy * stride - pad) and clipped to the input, as TFLite's pooling kernels clip it (padding
   positions take no part in a maximum or an average). */
#ifndef KWS_POOL_WINDOW_H
#define KWS_POOL_WINDOW_H

#include "kws_kernels.h"

static inline void kws_pool_window(const kws_pool_params *p, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1,
                                   int32_t *x0, int32_t *x1)
{
    const int32_t iy = oy * p->stride_h - p->pad_top, ix = ox * p->stride_w - p->pad_left;
    *y0 = iy < 0 ? 0 : iy;
    *y1 = iy + p->filter_h < p->in_h ? iy + p->filter_h : p->in_h;
    *x0 = ix < 0 ? 0 : ix;
    *x1 = ix + p->filter_w < p->in_w ? ix + p->filter_w : p->in_w;
}

#endif /* KWS_POOL_WINDOW_H */
