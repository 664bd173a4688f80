/*
 * nrf52840.h - the few nRF52840 and Cortex-M4 registers this firmware touches.
 *
 * Written from the nRF52840 Product Specification v1.7 and the ARMv7-M
 * Architecture Reference Manual (offsets cross-checked with Nordic's MDK).
 * Only blocks Renode's stock nrf52840.repl models are used: CLOCK, GPIO,
 * UARTE0 (EasyDMA), PDM; plus the core's SCB, DEMCR and DWT.
 */
#ifndef KWS_BOARD_NRF52840_H
#define KWS_BOARD_NRF52840_H

#include <stdint.h>

#define KWS_REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* Tasks are triggered by writing 1; events read 1 when set and are cleared by writing 0. */
#define KWS_TRIGGER 1u
#define KWS_EVENT_CLEAR 0u

/* PSEL.* registers: PIN in bits 0-4, PORT in bit 5, CONNECT (bit 31) 0 = connected. */
#define KWS_PSEL(port, pin) ((uint32_t)(((port) << 5) | (pin)))
#define KWS_PSEL_DISCONNECTED 0xFFFFFFFFu

/* --- CLOCK (0x40000000) ------------------------------------------------------------------- */
#define CLOCK_BASE 0x40000000u
#define CLOCK_TASKS_HFCLKSTART KWS_REG(CLOCK_BASE + 0x000)
#define CLOCK_EVENTS_HFCLKSTARTED KWS_REG(CLOCK_BASE + 0x100)

/* --- GPIO P0 (0x50000000), P1 (0x50000300) ------------------------------------------------ */
#define GPIO_BASE(port) (0x50000000u + 0x300u * (uint32_t)(port))
#define GPIO_OUTSET(port) KWS_REG(GPIO_BASE(port) + 0x508)
#define GPIO_DIRSET(port) KWS_REG(GPIO_BASE(port) + 0x518)

/* --- UARTE0 (0x40002000) ------------------------------------------------------------------ */
#define UARTE0_BASE 0x40002000u
#define UARTE0_TASKS_STARTRX KWS_REG(UARTE0_BASE + 0x000)
#define UARTE0_TASKS_STARTTX KWS_REG(UARTE0_BASE + 0x008)
#define UARTE0_EVENTS_ENDRX KWS_REG(UARTE0_BASE + 0x110)
#define UARTE0_EVENTS_ENDTX KWS_REG(UARTE0_BASE + 0x120)
#define UARTE0_EVENTS_ERROR KWS_REG(UARTE0_BASE + 0x124)
#define UARTE0_ERRORSRC KWS_REG(UARTE0_BASE + 0x480) /* read; write 1s to clear */
#define UARTE0_ENABLE KWS_REG(UARTE0_BASE + 0x500)
#define UARTE0_PSEL_RTS KWS_REG(UARTE0_BASE + 0x508)
#define UARTE0_PSEL_TXD KWS_REG(UARTE0_BASE + 0x50C)
#define UARTE0_PSEL_CTS KWS_REG(UARTE0_BASE + 0x510)
#define UARTE0_PSEL_RXD KWS_REG(UARTE0_BASE + 0x514)
#define UARTE0_BAUDRATE KWS_REG(UARTE0_BASE + 0x524)
#define UARTE0_RXD_PTR KWS_REG(UARTE0_BASE + 0x534)
#define UARTE0_RXD_MAXCNT KWS_REG(UARTE0_BASE + 0x538)
#define UARTE0_TXD_PTR KWS_REG(UARTE0_BASE + 0x544)
#define UARTE0_TXD_MAXCNT KWS_REG(UARTE0_BASE + 0x548)
#define UARTE0_CONFIG KWS_REG(UARTE0_BASE + 0x56C)
#define UARTE_ENABLE_ENABLED 8u
/* The UARTE table's value (115108 bit/s), not the legacy UART's 0x01D7E000. */
#define UARTE_BAUDRATE_115200 0x01D60000u
#define UARTE_ERRORSRC_OVERRUN 1u
/* The legacy UART's TXD register (0x51C) is deliberately absent: EasyDMA only. */

/* --- PDM (0x4001D000) --------------------------------------------------------------------- */
#define PDM_BASE 0x4001D000u
#define PDM_TASKS_START KWS_REG(PDM_BASE + 0x000)
#define PDM_EVENTS_STARTED KWS_REG(PDM_BASE + 0x100)
#define PDM_EVENTS_END KWS_REG(PDM_BASE + 0x108)
#define PDM_ENABLE KWS_REG(PDM_BASE + 0x500)
#define PDM_PDMCLKCTRL KWS_REG(PDM_BASE + 0x504)
#define PDM_MODE KWS_REG(PDM_BASE + 0x508)
#define PDM_GAINL KWS_REG(PDM_BASE + 0x518)
#define PDM_RATIO KWS_REG(PDM_BASE + 0x520)
#define PDM_PSEL_CLK KWS_REG(PDM_BASE + 0x540)
#define PDM_PSEL_DIN KWS_REG(PDM_BASE + 0x544)
#define PDM_SAMPLE_PTR KWS_REG(PDM_BASE + 0x560)
#define PDM_SAMPLE_MAXCNT KWS_REG(PDM_BASE + 0x564)
#define PDM_PDMCLKCTRL_1280K 0x0A000000u
#define PDM_MODE_MONO 1u /* OPERATION = mono; EDGE = 0: left (only) channel sampled on the falling edge */
#define PDM_GAIN_0DB 0x28u
#define PDM_RATIO_80 1u

/* --- Cortex-M4 system control block, debug and trace ------------------------------------- */
#define SCB_CPACR KWS_REG(0xE000ED88u)
#define SCB_CFSR KWS_REG(0xE000ED28u)
#define SCB_HFSR KWS_REG(0xE000ED2Cu)
#define SCB_MMFAR KWS_REG(0xE000ED34u)
#define SCB_BFAR KWS_REG(0xE000ED38u)
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)
#define DEMCR KWS_REG(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL KWS_REG(0xE0001000u)
#define DWT_CYCCNT KWS_REG(0xE0001004u)
#define DWT_CTRL_CYCCNTENA 1u

#endif /* KWS_BOARD_NRF52840_H */
