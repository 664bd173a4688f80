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
${KEYWORD_TIMEOUT}      4


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

Stream Should Report Each Keyword At Its Position
    [Documentation]    A stream with known keyword positions: each is heard, with the right label, within
    ...    ±500 ms of its position, and nothing else is heard as a keyword up to the end. A firmware
    ...    that says it cannot keep real time (realtime=0) loses audio, so positions mean nothing: skipped.
    ${stream}    ${boot}=    Keyword Stream Paced Like The Firmware
    Skip Unless The Firmware Keeps Real Time    ${boot}
    Boot The Firmware With Audio    ${stream.file}
    FOR    ${planted}    IN    @{stream.keywords}
        ${heard}=    Next Keyword Heard    ${KEYWORD_TIMEOUT}
        Heard Line Should Be The Keyword    ${heard.line}    ${planted}
    END
    ${left}=    Seconds Left In The Stream    ${stream}    ${heard.timestamp}
    No Keyword Should Be Heard Within    ${left}
    The Emulator Should Not Have Warned

Stream Should Keep Real Time
    [Documentation]    No PDM block is dropped while streaming: the firmware says it keeps real time
    ...    (realtime=1), the heard line of the stream's last keyword counts no dropped block since the
    ...    stream began, and the worst busy time of a block since reset (its whole handling, UART
    ...    lines included; the profile report after that keyword) is below one block's cycles.
    ...    A firmware that says at boot it cannot keep up (the int8 reference kernels) is skipped with
    ...    its figures.
    ${stream}    ${boot}=    Keyword Stream Paced Like The Firmware
    Skip Unless The Firmware Keeps Real Time    ${boot}
    Boot The Firmware With Audio    ${stream.file}
    ${last}=    Heard Line Of The Last Keyword    ${stream}
    No Block Should Be Dropped    ${last}
    ${busy}=    Profile Line Of    busy    ${PROFILE_TIMEOUT}
    Busy Time Should Fit One Block    ${boot}    ${busy}
    The Emulator Should Not Have Warned
