"""What each device of the raw MMME layout records (``docs/raw_layout.md``): the channels an
import expects, so that a missing or renamed one is reported instead of silently absent."""

from __future__ import annotations

#: The 64 EEG channels of the Neuroscan Quik-Cap, in recording order.
NEUROSCAN_64: tuple[str, ...] = tuple(
    "FP1 FPZ FP2 AF3 AF4 F7 F5 F3 F1 FZ F2 F4 F6 F8 FT7 FC5 FC3 FC1 FCZ FC2 FC4 FC6 FT8 T7 C5 "
    "C3 C1 CZ C2 C4 C6 T8 M1 TP7 CP5 CP3 CP1 CPZ CP2 CP4 CP6 TP8 M2 P7 P5 P3 P1 PZ P2 P4 P6 P8 "
    "PO7 PO5 PO3 POZ PO4 PO6 PO8 CB1 O1 OZ O2 CB2".split()
)

#: Channels each device of an MMME session records (the EEG's trigger channel and the BIOPAC
#: digital inputs become markers; BIOPAC's computed ``ECG rate`` is optional).
EXPECTED_CHANNELS: dict[str, tuple[str, ...]] = {
    "eeg": (*NEUROSCAN_64, "HEO", "VEO", "EKG", "EMG"),
    "physio": ("PPG", "RSP", "EMG A", "SKT A", "EDA", "ECG", "EMG B", "SKT B"),
}

#: The devices of a session and the folder each is read from.
DEVICE_FOLDERS: dict[str, str] = {"eeg": "eeg", "physio": "physio", "video": "video"}


def channel_problems(device: str, present: list[str], file: str) -> list[dict[str, str]]:
    """A warning (as a session problem) when ``device`` lacks channels it should record.

    Names are compared without case; channels present but not expected are named beside the
    missing ones, as they are often the same channel renamed (``EKG`` for ``ECG``).
    """
    expected = EXPECTED_CHANNELS.get(device)
    if not expected:
        return []
    have = {c.strip().upper() for c in present}
    missing = [c for c in expected if c.upper() not in have]
    if not missing:
        return []
    known = {c.upper() for c in expected}
    extra = [c for c in present if c.strip().upper() not in known]
    more = f" and {len(missing) - 12} more" if len(missing) > 12 else ""
    shown = ", ".join(missing[:12]) + more
    detail = f"expected channel(s) missing: {shown}"
    if extra:
        detail += f"; present but not expected: {', '.join(extra)} (renamed?)"
    return [{"problem": "missing_channels", "level": "warning", "file": file, "detail": detail}]
