"""Stage cycle budgets of the firmware, one entry per kind of variant (``dtype/kernels``).

Modelled Cortex-M4 cycles at 64 MHz (the Unicorn backend's cycle model, which DWT CYCCNT counts;
README.md, "Cycle model"), worst case of a ``profile`` window (50 iterations) in stream mode:
``pre`` is the frontend and input quantization per 20 ms frame (a ``profile`` line covers a PDM
block of ``stride`` frames), ``inf`` one model invoke, ``post`` one RecognizeCommands step. Each
budget is the worst case measured on the current firmware (``benchmarks/bench_cycles.py`` and the
suites' logs; firmware/README.md, "Keeping real time") plus about 4 per cent, so that a regression
crosses it. When an optimisation lands, measure, tighten the budget here and say what changed.
Renode counts one instruction per cycle, which stays below these figures (1.3x-1.8x fewer).
"""

BUDGETS = {
    # frontend 40.3k per frame (30.9k instructions); kernels 466.8k per invoke (265.8k instructions,
    # 1.39 cycles per MAC); recognizer 2.95k.
    "int8/cortex_m4": {"pre": 42_000, "inf": 485_000, "post": 3_100},
    # int8 model with int4 filters: the conv and fc unpack nibbles in registers, 523.1k per invoke
    # (benchmarks/bench_int4.py, 1.12x int8).
    "int4/cortex_m4": {"pre": 42_000, "inf": 545_000, "post": 3_100},
    # portable kernels, 15.7 M per invoke (11.7 M instructions): cannot keep real time at one frame per block.
    "int8/reference": {"pre": 42_000, "inf": 16_300_000, "post": 3_100},
    # float32 model (46.8k per frame for the float input), 11.9 M per invoke (9.4 M instructions),
    # paced to 25 frames per block (at 10 the invoke would exceed 3/4 of the block).
    "float32/reference": {"pre": 48_500, "inf": 12_400_000, "post": 3_100},
}

#: Channel-pruned int8 models (``channels`` in variants.json): the inference budget is ``fixed`` plus
#: ``per_channel`` for each conv channel kept; the other stages keep the key's budget. Worst cases
#: measured in stream mode (the suites of ``kws pipeline --compress-grid fast``'s variants): 145.2k at
#: 2 channels, 252.5k at 4, 467.1k at 8 (int8), on the line 38.0k + 53.6k per channel; plus 4 per cent.
PER_CHANNEL_INF = {"int8/cortex_m4": {"fixed": 39_500, "per_channel": 55_800}}

#: Magnitude-pruned int8 models (``nonzero_weights`` in variants.json, conv and fc): the code generator
#: stores the fc sparse where that is smaller (``--weights auto``), and the sparse kernel's cost follows
#: the nonzero weights. Inference budget: ``fixed`` plus ``per_nonzero`` for each. Worst cases measured
#: in stream mode (``kws pipeline --all-variants``'s suites): 457,969 at 1,664 nonzero weights (90 %
#: pruned), 521,664 at 8,320 (50 %), on the line 442.0k + 9.57 per nonzero weight; plus 4 per cent.
PER_NONZERO_INF = {"int8/cortex_m4": {"fixed": 460_000, "per_nonzero": 10}}

#: Bytes of the stack reserve that must stay unused beyond the painted peak (``profile stage=stack``).
STACK_MARGIN = 256
