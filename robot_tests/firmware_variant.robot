*** Settings ***
Documentation       One firmware variant of a BUILD: fit, scores against the TFLM reference, stage cycles,
...                 streaming. robot_tests/run.py writes one copy per variant of BUILD/variants.json, with
...                 ${BUILD} and ${VARIANT} set. Written in Renode's keywords: under renode-test
...                 ${RENODEKEYWORDS} is Renode's own, under robot it is the Unicorn backend's
...                 (resources/unicorn.resource).
Resource            ${KWS_RESOURCES}/kws.resource
Suite Setup         Setup
Suite Teardown      Teardown
Test Setup          Reset Emulation
Test Teardown       Test Teardown


*** Variables ***
${BUILD}                ${CURDIR}/../build/robot-build
${VARIANT}              int8
${CLIPS_PER_CLASS}      20
${KWS_RESOURCES}        ${CURDIR}/resources
${RENODEKEYWORDS}       ${KWS_RESOURCES}/unicorn.resource
# float32 paces 25 frames per PDM block: its first profile window (50 inferences) ends 25 s after boot
${PROFILE_TIMEOUT}      60


*** Test Cases ***
Flash And RAM Should Fit The nRF52840
    [Documentation]    size.json describes the ELF, and flash and RAM fit the nRF52840's 1 MiB and 256 KiB.
    Flash And RAM Should Fit The Chip

Scores Should Equal The TFLM Reference
    [Documentation]    ${CLIPS_PER_CLASS} clips of every class and the edge cases, each on a fresh boot:
    ...    the model input's checksum and the scores are the host's frontend and tflite_micro's.
    @{clips}=    Reference Clips    ${CLIPS_PER_CLASS}
    FOR    ${clip}    IN    @{clips}
        ${result}=    Classify    ${clip}
        Run Keyword And Continue On Failure    Result Should Equal The Reference    ${result}    ${clip}
    END

Stage Cycles Should Stay Within Budget
    [Documentation]    Worst cases of the first profile window in stream mode on speech, against
    ...    resources/budgets.py.
    ${speech}=    Speech Stream
    ${budget}=    Cycle Budget Of The Variant
    ${boot}=    Boot The Firmware With Audio    ${speech}
    FOR    ${stage}    IN    pre    inf    post
        ${profile}=    Profile Line Of    ${stage}    ${PROFILE_TIMEOUT}
        Stage Should Stay Within Budget    ${profile}    ${budget}    ${boot}
    END
    The Emulator Should Not Have Warned

Stream Should Be Heard As The Host Engine Hears It
    [Documentation]    Keywords and other words of the test split at 10 dB SNR, drawn by a seed and not
    ...    chosen by what the model hears (kwsrobot/streams.py): the firmware's heard lines (label, score,
    ...    time) are exactly the host engine's (C frontend, the model, the firmware's recognizer), and
    ...    nothing more is heard. A firmware that says it cannot keep real time (realtime=0) loses audio,
    ...    so its lines cannot be the host's: skipped.
    ${stream}    ${boot}=    Keyword Stream Paced Like The Firmware
    Skip Unless The Firmware Keeps Real Time    ${boot}    its heard lines cannot be the host engine's
    Boot The Firmware With Audio    ${stream.file}
    Heard Lines Should Equal The Host Engine's    ${stream}
    The Emulator Should Not Have Warned

Stream Detection Should Meet The Variant's Thresholds
    [Documentation]    Hit rate per keyword, wrong-label rate and false accepts per hour of the variant on
    ...    the test split's keyword stream and a 5-minute keyword-free stream, at the SNR and against the
    ...    thresholds variants.json records (issue 12's goals), computed by the host engine, whose heard
    ...    lines the test above holds equal to the firmware's. non_critical until a model meets them:
    ...    the figures are in the log either way.
    [Tags]    non_critical
    ${boot}=    Pace Of The Firmware
    Detection Should Meet The Thresholds    ${boot}

Stream Should Keep Real Time
    [Documentation]    No PDM block is dropped while streaming: the firmware says it keeps real time
    ...    (realtime=1), the stream's last heard line counts no dropped block since the stream began,
    ...    and the worst busy time of a block since reset (its whole handling, UART lines included;
    ...    the profile report after it) is below one block's cycles.
    ...    A firmware that says at boot it cannot keep up (the int8 reference kernels) is skipped with
    ...    its figures.
    ${stream}    ${boot}=    Keyword Stream Paced Like The Firmware
    Skip Unless The Firmware Keeps Real Time    ${boot}
    Boot The Firmware With Audio    ${stream.file}
    ${last}=    Heard Lines Should Equal The Host Engine's    ${stream}
    No Block Should Be Dropped    ${last}
    ${busy}=    Profile Line Of    busy    ${PROFILE_TIMEOUT}
    Busy Time Should Fit One Block    ${boot}    ${busy}
    The Emulator Should Not Have Warned
