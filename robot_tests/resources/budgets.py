"""Stage cycle budgets of the firmware, one entry per kind of variant (``dtype/kernels``).

DWT cycles at 64 MHz (one per instruction in Renode and the Unicorn backend), worst case of a
``profile`` window (50 iterations) in stream mode: ``pre`` is the frontend and input quantization
per 20 ms frame (a ``profile`` line covers a PDM block of ``stride`` frames), ``inf`` one model
invoke, ``post`` one RecognizeCommands step. Each budget is the figure measured on the current
firmware (firmware/README.md, "Keeping real time") plus a few per cent, so that a regression
crosses it. When an optimisation lands, measure, tighten the budget here and say what changed.
"""

BUDGETS = {
    # DSP frontend 30.8k per frame; kernels at 0.79 instructions/MAC: 265k per invoke; recognizer 2.2k.
    "int8/cortex_m4": {"pre": 32_500, "inf": 280_000, "post": 2_300},
    # portable kernels, 11.7 M per invoke (35 per MAC): cannot keep real time at one frame per block.
    "int8/reference": {"pre": 32_500, "inf": 12_300_000, "post": 2_300},
    # float32 model (35.1k per frame for the float input), 9.4 M per invoke, paced to 10 frames per block.
    "float32/reference": {"pre": 37_000, "inf": 9_900_000, "post": 2_300},
}

#: Bytes of the stack reserve that must stay unused beyond the painted peak (``profile stage=stack``).
STACK_MARGIN = 256
