*** Settings ***
Documentation       One firmware variant of a BUILD on an nRF52840-DK, flashed with pyocd and driven
...                 over its J-Link VCOM (or on the emulated board with KWS_BOARD_PORT=emulated).
...                 robot_tests/run.py --backend board writes one copy per variant, with ${BUILD} and
...                 ${VARIANT} set. The board's
...                 microphone hears the room, so clips go over the UART, and the planted-keyword
...                 stream stays in firmware_variant.robot; streaming here checks real time on silicon.
Resource            ${KWS_RESOURCES}/board.resource
Suite Setup         Open The Board And Flash The Variant
Suite Teardown      Close The Board


*** Variables ***
${BUILD}                ${CURDIR}/../build/robot-build
${VARIANT}              int8
${CLIPS_PER_CLASS}      20
${KWS_RESOURCES}        ${CURDIR}/resources
# float32 paces 25 frames per PDM block: its first profile window (50 inferences) ends 25 s after boot
${PROFILE_TIMEOUT}      60


*** Test Cases ***
Flash And RAM Should Fit The nRF52840
    [Documentation]    size.json describes the ELF, and flash and RAM fit the nRF52840's 1 MiB and 256 KiB.
    Flash And RAM Should Fit The Chip

Firmware Should Boot As The Variant
    [Documentation]    After a reset the boot line names the variant and its kernels.
    ${boot}=    Reset The Board
    Boot Line Should Name The Variant    ${boot}

Scores Should Equal The TFLM Reference
    [Documentation]    ${CLIPS_PER_CLASS} clips of every class and the edge cases, sent over the UART in
    ...    clip mode: the model input's checksum and the scores are the host's frontend and tflite_micro's.
    Reset The Board
    Switch The Firmware To Clip Mode
    @{clips}=    Reference Clips    ${CLIPS_PER_CLASS}
    FOR    ${clip}    IN    @{clips}
        ${result}=    Classify Over The UART    ${clip}
        Run Keyword And Continue On Failure    Result Should Equal The Reference    ${result}    ${clip}
    END
    The Emulator Should Not Have Warned

Stages Should Fit One Block While Streaming
    [Documentation]    From reset the firmware streams the microphone: the worst busy time of a
    ...    block (its whole handling, UART lines included), in the board's DWT cycles, fits one PDM
    ...    block, and the stack stays within its reserve. The first profile window's stage cycles
    ...    are logged next to the modelled-cycle budgets.
    ...    A firmware that says at boot it cannot keep up is skipped with its figures.
    ${boot}=    Reset The Board
    Skip Unless The Firmware Keeps Real Time    ${boot}    its stages cannot fit one block
    ${pre}=    Profile Line From The Board    pre    ${PROFILE_TIMEOUT}
    ${inf}=    Profile Line From The Board    inf    ${PROFILE_TIMEOUT}
    ${post}=    Profile Line From The Board    post    ${PROFILE_TIMEOUT}
    Busy Time From The Board Should Fit One Block    ${boot}    ${PROFILE_TIMEOUT}
    ${stack}=    Profile Line From The Board    stack    ${PROFILE_TIMEOUT}
    Stack Should Stay Within Its Reserve    ${stack}
    ${budget}=    Cycle Budget Of The Variant
    Log Cycles Next To The Emulated Budget    ${budget}    ${boot}    ${pre}    ${inf}    ${post}
