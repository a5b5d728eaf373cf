"""The flag vocabulary: which rule a vector exercises (Wycheproof-style ``flags``).

Every flag a vector carries is one of these; the manifest repeats this table
so a corpus documents itself, and loading a manifest rejects unknown flags.
Flags name rules, not values: the values (q0, dQ, offsets, lengths...) are in
each vector's expected record, and ``dredconf vectors coverage`` counts them.
"""
from __future__ import annotations

FLAGS: dict[str, str] = {
    # --- packet layer (RFC 6716 §3) ---------------------------------------------------------
    "PacketCode0": "TOC code 0: one frame, no padding (cannot carry extensions)",
    "PacketCode1": "TOC code 1: two equal frames, no padding (cannot carry extensions)",
    "PacketCode2": "TOC code 2: two frames, first length coded, no padding (cannot carry extensions)",
    "PacketCode3Cbr": "TOC code 3, CBR: M equal frames",
    "PacketCode3Vbr": "TOC code 3, VBR: M-1 explicit frame lengths",
    "PacketCode3OneFrame": "TOC code 3 with M = 1: the way a single frame carries padding",
    "PacketManyFrames": "code 3 with M >= 4 frames (short CELT frames)",
    "PacketMaxDuration": "code 3 at the 120 ms limit (frame duration x M = 120 ms)",
    "PacketStereo": "stereo TOC bit set",
    "PacketFrameLength2Bytes": "a VBR frame length coded in two bytes (>= 252)",
    "PacketPaddingEmpty": "padding flag set with a padding length of 0: no extensions at all",
    "PacketPaddingLengthChain": "padding length coded with 255 bytes (each adds 254, RFC 6716 §3.2.5)",
    "PacketNoPadding": "code 3 without the padding flag: no extensions",
    "TocConfig": "DRED frame_offset scaling for this TOC config's frame duration",
    # --- padding extensions (draft-ietf-mlcodec-opus-extension) -----------------------------
    "PaddingByte": "ID 0, L = 1 (0x01): one padding byte",
    "PaddingRest": "ID 0, L = 0 (0x00): the rest of the padding is padding",
    "LegacyZeroPadding": "padding made of zero bytes only (pre-extension padding): no extensions",
    "Separator": "ID 1, L = 0 (0x02): next frame",
    "SeparatorIncrementN": "ID 1, L = 1 (0x03 n), n >= 1: advance n frames",
    "SeparatorIncrement0": "0x03 0x00: an increment of 0 changes nothing (not even the repeat window)",
    "SeparatorPastEnd": "a separator moving past the last frame: the padding is invalid",
    "SeparatorIncrementMissing": "0x03 as the last byte, its increment byte missing: invalid",
    "ShortL0": "short extension (ID 3..31) with L = 0: no payload",
    "ShortL1": "short extension (ID 3..31) with L = 1: one payload byte",
    "ShortPayloadMissing": "short extension with L = 1 as the last byte: invalid",
    "LongL1": "long extension (ID 32..127) with L = 1: length bytes then payload",
    "LongLength0": "long extension with an explicit length of 0",
    "LongLengthMultiByte": "long extension length needing 255 continuation bytes (>= 255)",
    "LongL0Last": "long extension with L = 0: the payload runs to the end of the padding",
    "LongLengthTruncated": "long extension whose length bytes run out (all 255 to the end): invalid",
    "LongLengthPastEnd": "long extension whose length exceeds the bytes left: invalid",
    "UnknownExtension": "extensions other than DRED (IDs 3..125, 127): listed, otherwise ignored",
    "AllExtensionIds": "every extension ID 3..127 in one packet",
    "RteL1": "Repeat These Extensions with L = 1",
    "RteL0": "Repeat These Extensions with L = 0 (frame advances after the repeats)",
    "RteShort": "a short extension repeated (payload size kept)",
    "RteLong": "a long extension repeated (explicit length)",
    "RteLongL0Last": "L = 0 RTE: the last repeated long extension of the last frame runs to the end",
    "RteL0SkipsSeparator": "L = 0 RTE used instead of a frame separator",
    "RteLastFrame": "an RTE on the last frame (nothing to repeat into)",
    "RteNothingToRepeat": "an RTE with an empty repeat window",
    "RteMultiplePerFrame": "more than one RTE in the same frame",
    "RteWindowPadding": "a 0x01 padding byte inside the repeat window (not repeated)",
    "RteWindowIncrement0": "0x03 0x00 inside the repeat window (not repeated, window kept)",
    "RteTrailingShorts": "repeated short payloads after the last repeated long extension (L = 0 RTE)",
    "TrailingBytesIgnored": "bytes after an L = 0 RTE on the last frame: ignored",
    "RteShortPayloadMissing": "a repeated short payload byte missing: invalid",
    "RteLongLengthTruncated": "a repeated long extension's length bytes run out: invalid",
    "RteLongLengthPastEnd": "a repeated long extension's length exceeds the bytes left: invalid",
    "RteTrailingShortsMissing": "L = 0 RTE: no room left for the trailing repeated short payloads: invalid",
    "ErrorKeepsPrefix": "an extension error after valid extensions: those stay listed",
    "LibopusTestCase": "the layout of a case in libopus tests/test_opus_extensions.c",
    "LibopusGenerator": "padding laid out as libopus's opus_packet_extensions_generate writes it",
    # --- DRED envelope (draft-ietf-mlcodec-opus-dred) ---------------------------------------
    "DredPresent": "a DRED payload is found (ID 126, 'D', version 12, at least one DRED byte)",
    "DredFrameOffset": "DRED on frame f > 0: frame_offset = f x frame duration / 2.5 ms",
    "DredLongL1": "the DRED extension coded with an explicit length (L = 1)",
    "DredLongL0": "the DRED extension coded with L = 0 (runs to the end)",
    "DredSecondSameFrame": "a second DRED on the same frame (MUST NOT be sent)",
    "DredSecondLaterFrame": "a second DRED on a later frame: the first one is used",
    "DredFirstInBitstreamOrder": "the first DRED in bitstream order is on a later frame than another",
    "DredViaRepeat": "the DRED payload used comes from Repeat These Extensions",
    "DredOtherVersion": "ID 126 with 'D' and another version byte: ignored",
    "DredNoPrefix": "ID 126 whose payload does not start with 'D': ignored",
    "DredPrefixOnly": "ID 126 with a payload of 2 bytes or less: ignored",
    "DredPayloadOtherId": "a DRED-looking payload under another extension ID: not DRED",
    "DredBeforeError": "DRED before an extension error: found",
    "DredAfterError": "DRED after an extension error: not found",
    # --- DRED payload (draft-ietf-mlcodec-opus-dred; SPEC-NOTES §3) --------------------------
    "DredQmaxCoded": "q0 < 14 and dQ > 0: the qmax symbol is coded",
    "DredQmaxLimited": "qmax < 15 signalled: levels capped",
    "DredQmaxImplicit": "q0 >= 14 or dQ = 0: qmax is 15, nothing coded",
    "DredExtraOffset": "the extra-offset flag set, extra_offset coded",
    "DredExtraOffsetZero": "the extra-offset flag set with extra_offset = 0",
    "DredOffsetNegative": "dred_offset < 0",
    "DredOffsetNonNegative": "dred_offset >= 0",
    "DredNoLatents": "a state-only payload: 0 latents",
    "DredMaxLatents": "26 latents, the most a decoder reads",
    "DredMoreThan26Latents": "more than 26 latents coded: only 26 are read",
    "DredStopRule": "the decoder stops when 7 or fewer bits are left (bit count at the end chosen)",
    "DredTrailingPartialLatent": "symbols of a partial latent in the last byte's spare bits: never read",
    "DredTrailingZerosDropped": "trailing zero bytes dropped: the range decoder reads zeros past the end",
    "DredLatentPastEnd": "the last latent is decoded partly past the end of the payload",
    "DredMinimumPayload": "the shortest DRED payload: one byte",
    "DredLargePayload": "a DRED extension of more than 1,000 bytes (up to the largest packet a stream holds): "
                        "read like any other",
    "DredLaplaceEscape": "a magnitude needing the Laplace escape symbol (|v| >= 8)",
    "DredLaplaceManyEscapes": "a magnitude needing the escape several times (|v| >= 22)",
    # --- the vocoder (features -> speech; docs/FARGAN.md) ------------------------------------
    "VocoderPitchSweep": "the pitch feature swept over FARGAN's period range (256 down to 32 samples)",
    "VocoderPitchClamped": "pitch features past the period range's ends: the period is clamped",
    "VocoderVoicingSwitch": "voiced and unvoiced frames in turn (the pitch correlation feature switching)",
    "VocoderSilence": "the lowest energy the feature extraction gives, a flat spectrum",
    "VocoderOnset": "voiced speech right after silence",
    "VocoderExtremeCepstra": "cepstral coefficients at the ends of their legal ranges",
    "VocoderShortest": "the shortest input fargan_demo defines: two frames (one primes the state, one is synthesised)",
    "VocoderLong": "1,000 frames (10 s) of features",
}

RESULTS: dict[str, str] = {
    "valid": "a conforming decoder must report exactly the expected record",
    "invalid": "a conforming decoder must report an extension (or packet) error and keep what came before: "
               "the expected record lists the extensions before the error and the DRED found before it",
    "acceptable": "the draft allows more than one behaviour: ``expected`` is libopus 1.6.1's, each of "
                  "``alternatives`` another allowed one",
}


def check_flags(flags, where: str) -> None:
    unknown = [f for f in flags if f not in FLAGS]
    if unknown:
        raise ValueError(f"{where}: unknown flag(s) {', '.join(unknown)}")
