/* Emulator self-test firmware: prints "ready", then runs one command per byte received on UARTE0. */
#include "hal.h"

#define LOOP_N 1000u

static void cmd_cycles(void)
{
    uint32_t before, after;
    uint32_t n = LOOP_N;
    /* First CYCCNT read, LOOP_N iterations of 2 instructions, second read: after - before = 1 + 2 * LOOP_N. */
    __asm__ volatile("ldr %0, [%3]\n"
                     "1: subs %2, %2, #1\n"
                     "bne 1b\n"
                     "ldr %1, [%3]\n"
                     : "=&r"(before), "=&r"(after), "+r"(n)
                     : "r"(&DWT_CYCCNT)
                     : "cc");
    put_str("cycles=");
    put_u32(after - before);
    put_str(" n=");
    put_u32(LOOP_N);
    put_str("\n");
}

static void cmd_fpu(void)
{
    volatile float acc = 0.0f;
    for (int i = 0; i < 100; i++) {
        acc = acc + (float)i * 0.5f;
    }
    put_str("fpu=");
    put_i32((int32_t)(acc * 3.25f));
    put_str("\n");
}

static void cmd_echo(void)
{
    char line[64];
    uint32_t n = 0;
    for (;;) {
        char c = (char)uart_getc();
        if (c == '\n' || n == sizeof line) {
            break;
        }
        line[n++] = c;
    }
    put_str("echo=");
    uart_write(line, n);
    put_str("\n");
}

/* A long loop of realistic code (array updates, multiplies, branches) for speed measurements. */
static uint32_t bench_state[64];

static void cmd_bench(uint32_t rounds)
{
    uint32_t x = 12345;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < 64; i++) {
            x = x * 1664525u + 1013904223u;
            bench_state[i] ^= x >> (i & 7);
        }
    }
    uint32_t sum = 0;
    for (uint32_t i = 0; i < 64; i++) {
        sum += bench_state[i];
    }
    put_str("bench=");
    put_u32(sum);
    put_str("\n");
}

int main(void)
{
    uart_init();
    dwt_enable();
    put_str("ready\n");
    for (;;) {
        switch (uart_getc()) {
        case 'c':
            cmd_cycles();
            break;
        case 'p':
            SCB_CPACR |= 0xFu << 20;
            __asm__ volatile("dsb\n isb");
            cmd_fpu();
            break;
        case 'x':
            cmd_fpu(); /* without CPACR: NOCP UsageFault on the first FPU instruction */
            break;
        case 'm':
            put_str("reading\n");
            (void)REG(0xA0000000);
            break;
        case 'u':
            __asm__ volatile("udf #7");
            break;
        case 'l':
            UARTE_TXD_LEGACY = 'X';
            put_str("legacy done\n");
            break;
        case 'e':
            cmd_echo();
            break;
        case 'b':
            cmd_bench(1000);
            break;
        case 'B':
            cmd_bench(100000);
            break;
        case 's':
            for (;;) {
            }
        default:
            put_str("unknown\n");
            break;
        }
    }
}
