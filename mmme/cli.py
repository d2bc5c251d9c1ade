"""The ``mmme`` command line: one sub-command per job, rich progress bars."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from mmme.errors import MMMEError
from mmme.executor import Executor

console = Console()
console_err = Console(stderr=True, soft_wrap=True)  # one message, one line


def one_line(exc: BaseException) -> str:
    """An error as one line: an OS error as ``file: reason``, the others as their message."""
    if isinstance(exc, OSError) and not isinstance(exc, MMMEError) and exc.strerror:
        where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
        text = f"{where}: {exc.strerror}" if where else exc.strerror
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


class _OneLineErrors(TyperGroup):
    """Every command: an mmme error or an OS error (read-only folder, full disk, missing
    file) is one line on stderr and exit status 2, never a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (MMMEError, OSError) as exc:
            _fail(exc)


app = typer.Typer(
    name="mmme",
    help="Multimodal micro-expression toolkit: import, synthesize, validate, analyse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_OneLineErrors,
)
import_app = typer.Typer(help="Import a data set into an mmme store.", no_args_is_help=True)
app.add_typer(import_app, name="import")

# --- core commands ---
NJobs = typer.Option(None, "--n-jobs", "-j", help="Local worker processes (default: all CPUs).")
Scheduler = typer.Option(None, "--scheduler", help="Dask scheduler address (tcp://host:8786).")
DaskWorkers = typer.Option(None, "--dask-workers", help="Run on a Dask LocalCluster of N workers.")


def _executor(n_jobs: int | None, scheduler: str | None, dask_workers: int | None) -> Executor:
    return Executor(n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers)


def _fail(exc: Exception) -> NoReturn:
    # soft_wrap: one line whatever the terminal width; escape: brackets in a message are text
    console_err.print(
        f"[bold red]error:[/bold red] {escape(one_line(exc))}", soft_wrap=True, highlight=False
    )
    raise typer.Exit(2)


_COPY_FRAMES_HELP = "Hard-link (else copy) the frame files into the store: self-contained."


def _into_store(store: Path, copy_frames: bool, run: Callable[[Path], Any]) -> Any:
    """``run(store)``; with ``copy_frames`` into a hidden sibling first, then copied with the
    frames inside the store."""
    if not copy_frames:
        return run(store)
    from mmme.data.copyframes import with_copied_frames

    return with_copied_frames(run, store)


_PSEUDO_HELP = "Replace participant identifiers by stable salted codes everywhere."
_SALT_HELP = "Salt of the codes (default $MMME_SALT, else random: codes differ between imports)."


@import_app.command("mmme")
def import_mmme_cmd(
    src: Path = typer.Argument(..., help="Raw MMME folder, or a coding .xlsx/.csv on its own."),
    store: Path = typer.Argument(..., help="Store directory to write (replaced atomically)."),
    no_frame_check: bool = typer.Option(False, help="Skip the truncation check of frame files."),
    allow_truncated: bool = typer.Option(
        False, help="Accept a device that started late or stopped early (markers at the ends)."
    ),
    pseudonymize: bool = typer.Option(False, "--pseudonymize", help=_PSEUDO_HELP),
    salt: str | None = typer.Option(None, "--salt", help=_SALT_HELP),
    copy_frames: bool = typer.Option(False, "--copy-frames", help=_COPY_FRAMES_HELP),
    n_jobs: int | None = NJobs,
    scheduler: str | None = Scheduler,
    dask_workers: int | None = DaskWorkers,
) -> None:
    """Import the raw MMME layout (docs/raw_layout.md) into a store."""
    from mmme.io.mmme import import_mmme

    try:
        with _executor(n_jobs, scheduler, dask_workers) as ex:
            st = _into_store(store, copy_frames, lambda target: import_mmme(
                src,
                target,
                executor=ex,
                check_frames=not no_frame_check,
                allow_truncated=allow_truncated,
                pseudonymize=pseudonymize,
                salt=salt,
            ))
    except MMMEError as exc:
        _fail(exc)
    console.print(
        f"imported {len(st.sessions)} session(s), {len(st.trials)} trial(s), "
        f"{len(st.annotations)} event(s) into {st.path}"
    )
    _derived_carried(st)
    _print_import_warnings(st)


def _derived_carried(st: Any) -> None:
    """Say which derived results a re-import kept and which it dropped as stale."""
    rep = st.report.get("derived")
    if rep is not None:
        from mmme.data.derived import summary_line

        console.print(summary_line(rep), highlight=False, soft_wrap=True, markup=False)


def _warn(text: str) -> None:
    """A warning line on stderr: never wrapped, brackets in it are text, not markup."""
    console_err.print(text, markup=False, highlight=False, soft_wrap=True)


def _print_import_warnings(st: Any) -> None:
    """What the import left out or could not attach, and the recordings' gaps, one line each."""
    skipped = [e for e in st.report.get("skipped", []) if "problem" in e]
    dups = [e for e in skipped if e["problem"] == "duplicate_row"]
    if dups:
        _warn(
            f"warning: {len(dups)} duplicate coding row(s) imported once: "
            + ", ".join(e["source"] for e in dups)
        )
    for e in skipped:
        if e["problem"] != "duplicate_row":
            _warn(f"warning: {e['reason']}")
    for subject, session in st.sessions:
        for p in st.session(subject, session).meta.get("problems", []):
            if p["problem"] in ("missing_recording", "missing_channels"):
                _warn(f"warning: {p['file']}: {p['detail']}")
    if skipped:
        _warn(f"(`mmme validate {st.path}` lists every problem)")


def _load_summary(path: Path) -> dict[str, Any]:
    from mmme.data.store import Store, is_store, recover_store
    from mmme.data.summary import summarize

    if is_store(path) or recover_store(path):
        st = Store(path)
        return {**summarize(st.annotations, st), "clips": _clip_counts(st)}
    if path.is_file():
        from mmme.io.coding import read_coding_file

        return summarize(read_coding_file(path).annotations)
    import tempfile

    from mmme.io.mmme import import_mmme

    with tempfile.TemporaryDirectory(prefix="mmme-info-") as tmp:
        st = import_mmme(path, Path(tmp) / "store", executor=Executor(progress=False))
        return summarize(st.annotations, st)


def _clip_counts(st: Any) -> dict[str, int]:
    """Trials with and without a coded expression (spotting counts false positives on both)."""
    t, a = st.trials, st.annotations
    keys = set(zip(a["subject"], a["session"], a["trial"], strict=True))
    coded = sum((r.subject, r.session, r.trial) in keys for r in t.itertuples())
    return {"coded": int(coded), "uncoded": int(len(t) - coded)}


@app.command()
def info(
    path: Path = typer.Argument(..., help="A store, a raw MMME folder, or a coding file."),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
) -> None:
    """Paper-style statistics: ME/MaE per emotion, durations, AUs, modalities."""
    from mmme.data.summary import print_summary

    try:
        summary = _load_summary(path)
    except MMMEError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        print_summary(summary, console, title=str(path))
        if "clips" in summary:
            c = summary["clips"]
            console.print(f"clips/trials: {c['coded']} coded, {c['uncoded']} uncoded")


@app.command()
def validate(
    path: Path = typer.Argument(..., help="A store, a raw MMME folder, or a coding file."),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON."),
) -> None:
    """Name every problem; exit 1 on errors, 0 with warnings only."""
    from mmme.io.validate import validate_path

    problems = validate_path(path)
    errors = [p for p in problems if p.level == "error"]
    if as_json:
        typer.echo(json.dumps([p.to_dict() for p in problems], indent=2))
    else:
        for p in problems:
            style = "red" if p.level == "error" else "yellow"
            console.print(f"[{style}]{p}[/{style}]", highlight=False, soft_wrap=True)
        console.print(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s) in {path}")
    raise typer.Exit(1 if errors else 0)


@app.command()
def demo(
    out: Path = typer.Option(Path("demo_out"), "--out", help="Working folder (raw/, store/)."),
    tiny: bool = typer.Option(False, "--tiny", help="The tiny synthetic set (seconds)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic data set."),
    face_trials: int = typer.Option(2, "--face-trials", help="Trials run through the face step."),
    n_jobs: int | None = NJobs,
    scheduler: str | None = Scheduler,
    dask_workers: int | None = DaskWorkers,
) -> None:
    """The main job: synthesize, import, validate, summarise, check against ground truth."""
    from mmme.demo import run_demo
    from mmme.synth.generate import SynthConfig

    config = SynthConfig.tiny(seed=seed) if tiny else SynthConfig(seed=seed)
    try:
        run_demo(out, config, n_jobs=n_jobs, scheduler=scheduler, dask_workers=dask_workers,
                 face_trials=face_trials, console=console)
    except MMMEError as exc:
        _fail(exc)


# --- synth commands ---
@app.command("synth")
def synth_cmd(
    out: Path = typer.Argument(..., help="Folder to write the raw MMME layout into."),
    subjects: int = typer.Option(8, "--subjects", help="Sessions (one per subject)."),
    trials_per_subject: int = typer.Option(4, "--trials-per-subject", help="Clips per session."),
    fps: float = typer.Option(100.0, "--fps", help="Nominal camera frame rate."),
    seed: int = typer.Option(0, "--seed", help="Seed of everything."),
    coupling: float = typer.Option(0.8, "--coupling", help="0..1: physiology/EEG reliability."),
    size: str = typer.Option("256x256", "--size", help="Frame size WxH (real: 2040x1080)."),
    trial_s: float = typer.Option(12.0, "--trial-s", help="Clip length in seconds (real: 60)."),
    rest_s: float = typer.Option(4.0, "--rest-s", help="Rest between clips in seconds."),
    me_per_trial: int = typer.Option(2, "--me-per-trial", help="Micro-expressions per clip."),
    mae_per_trial: int = typer.Option(2, "--mae-per-trial", help="Macro-expressions per clip."),
    frame_format: str = typer.Option("jpg", "--frame-format", help="jpg, tif (real) or png."),
    eeg_format: str = typer.Option("edf", "--eeg-format", help="edf or set (EEGLAB)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty OUT."),
    n_jobs: int | None = NJobs,
    scheduler: str | None = Scheduler,
    dask_workers: int | None = DaskWorkers,
) -> None:
    """Synthetic multimodal recordings with exact ground truth (raw MMME layout)."""
    import time

    from mmme.errors import InputError
    from mmme.synth.generate import SynthConfig, generate

    try:
        try:
            w, h = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise InputError(f"--size must look like 256x256, got {size!r}") from None
        cfg = SynthConfig(
            subjects=subjects, trials_per_subject=trials_per_subject, fps=fps, size=(w, h),
            trial_s=trial_s, rest_s=rest_s, me_per_trial=me_per_trial,
            mae_per_trial=mae_per_trial, coupling=coupling, seed=seed,
            frame_format=frame_format, eeg_format=eeg_format,
        )
        t0 = time.perf_counter()
        path = generate(out, cfg, n_jobs=n_jobs, scheduler=scheduler,
                        dask_workers=dask_workers, overwrite=overwrite)
    except MMMEError as exc:
        _fail(exc)
    import pandas as pd

    gt = pd.read_csv(path / "ground_truth.csv")
    n = gt["type"].value_counts()
    console.print(
        f"{subjects} subject(s) x {trials_per_subject} clip(s): {n.get('ME', 0)} ME, "
        f"{n.get('MaE', 0)} MaE in {time.perf_counter() - t0:.1f} s -> {path}"
    )


# --- face commands ---
_FLOW_HELP = "Optical flow: tvl1 (OpenCV defaults), tvl1_fast, farneback or dis."
_WINDOW_HELP = "Flow reference: 0 = first frame of each face segment, k = k frames earlier."


@app.command("video")
def video_cmd(
    file: Path = typer.Argument(..., help="Video file (anything OpenCV decodes)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output directory."),
    backend: str = typer.Option("auto", help="Face backend: auto, dlib or haar."),
    size: int = typer.Option(128, help="Aligned crop side in pixels."),
    flow: str = typer.Option("tvl1_fast", help=_FLOW_HELP),
    window: int = typer.Option(0, help=_WINDOW_HELP),
    align: str = typer.Option("segment", help="segment (one transform per segment) or frame."),
    rppg: str = typer.Option("pos", help="rPPG method: pos or chrom."),
    fps: float | None = typer.Option(None, help="Override the container's frame rate."),
) -> None:
    """Face pipeline on one video: frames.csv, motion.csv, pulse.csv, timeline.png."""
    from rich.progress import Progress

    from mmme.face.pipeline import read_video
    from mmme.face.video import process_video

    try:
        _, _, n = read_video(file)
        with Progress(console=console_err, transient=True) as bar:
            task = bar.add_task("frames", total=n or None)
            summary = process_video(
                file, out, rppg_method=rppg, fps=fps,
                progress=lambda k: bar.advance(task, k), backend=backend, size=size, flow=flow,
                window=window, align=align,
            )
    except MMMEError as exc:
        _fail(exc)
    hr = summary["heart_rate_bpm"]
    console.print(
        f"{summary['n_frames']} frames at {summary['fps']:.2f} fps, "
        f"{summary['n_lost']} without a face, heart rate "
        f"{'n/a' if hr is None else f'{hr:.1f} bpm'} -> {out}"
    )


@app.command("faces")
def faces_cmd(
    store: Path = typer.Argument(..., help="An mmme store."),
    backend: str = typer.Option("auto", help="Face backend: auto, dlib or haar."),
    size: int = typer.Option(128, help="Aligned crop side in pixels."),
    flow: str = typer.Option("tvl1_fast", help=_FLOW_HELP),
    window: int = typer.Option(0, help=_WINDOW_HELP),
    rppg: str = typer.Option("pos", help="rPPG method: pos or chrom."),
    force: bool = typer.Option(False, help="Recompute trials that are already cached."),
    n_jobs: int | None = NJobs,
    scheduler: str | None = Scheduler,
    dask_workers: int | None = DaskWorkers,
) -> None:
    """Face front end on every trial of a store (cached in STORE/derived/face, resumable)."""
    from mmme.face.batch import process_store

    params = {"backend": backend, "size": size, "flow": flow, "window": window, "rppg": rppg}
    try:
        index = process_store(store, params, n_jobs=n_jobs, scheduler=scheduler,
                              dask_workers=dask_workers, force=force)
    except MMMEError as exc:
        _fail(exc)
    console.print(
        f"{len(index)} trial(s): {int(index['cached'].sum())} from cache, "
        f"{int(index['n_lost'].sum())} frame(s) without a face -> {store}/derived/face"
    )


# --- physio commands ---
_SIGNAL_KINDS = ("ecg", "ppg", "rsp", "eda", "emg", "skt", "eeg")


@app.command("signals")
def signals_cmd(
    file: Path = typer.Argument(..., help="EDF/BDF/XDF/EEGLAB, CSV/TSV, OpenSignals .h5/.txt."),
    kind: str = typer.Option(..., "--kind", "-k", help="ecg, ppg, rsp, eda, emg, skt or eeg."),
    channel: str | None = typer.Option(None, "--channel", "-c", help="Channel to analyse."),
    sfreq: float | None = typer.Option(
        None, "--sfreq", help="Sampling rate (a CSV without a time column needs it)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Summarise one's own recording: beats/HR/RMSSD, breathing rate, SCRs, SKT, EEG bands."""
    import math

    from mmme.physio.io import read_recording

    kind = kind.lower()
    try:
        if kind not in _SIGNAL_KINDS:
            raise MMMEError(f"--kind must be one of {', '.join(_SIGNAL_KINDS)}, got {kind!r}")
        rec = read_recording(file, sfreq=sfreq, channel=channel)
        if kind == "eeg":
            from mmme.eeg.summary import summarize_eeg

            summary = summarize_eeg(rec.data, rec.sfreq, rec.ch_names, ch_types=rec.ch_types)
        else:
            from mmme.physio.peripheral import CHANNEL_KINDS, summarize_signal

            if channel is None:
                cands = [c for c in rec.ch_names
                         if CHANNEL_KINDS.get(c.upper()) == kind or c.lower() == kind]
                if len(rec.ch_names) == 1:
                    cands = rec.ch_names
                if len(cands) != 1:
                    raise MMMEError(f"{file}: pick the {kind} channel with --channel "
                                    f"(channels: {rec.ch_names})")
                channel = cands[0]
            summary = summarize_signal(rec.pick(channel), rec.sfreq, kind, channel=channel)
    except MMMEError as exc:
        _fail(exc)
    summary = {"file": str(file), "sfreq": rec.sfreq, **summary, "notes": rec.notes}
    if as_json:
        typer.echo(json.dumps(summary, indent=2, allow_nan=False,
                              default=lambda o: None))
        return
    from rich.table import Table

    table = Table(title=f"{file} ({kind})", show_header=False)
    if kind == "eeg":
        table.add_row("channel", "delta theta alpha beta gamma (relative)")
        for ch, bp in summary["band_power"].items():
            vals = "masked" if bp is None else " ".join(f"{v:.3f}" for v in bp.values())
            table.add_row(ch, vals)
    else:
        for k, v in summary.items():
            if k in ("hrv", "quality", "file", "notes"):
                continue
            shown = "masked" if v is None or (isinstance(v, float) and math.isnan(v)) else (
                f"{v:.4g}" if isinstance(v, float) else str(v))
            table.add_row(k, shown)
        q = summary["quality"]
        table.add_row("quality", ", ".join(q["problems"]) or "ok")
        for note in summary["notes"]:
            table.add_row("read", note)
    console.print(table)


@app.command("physio")
def physio_cmd(
    store: Path = typer.Argument(..., help="An mmme store."),
    no_eeg: bool = typer.Option(False, "--no-eeg", help="Peripheral channels only."),
    pad_s: float = typer.Option(20.0, help="Seconds processed around each trial."),
    force: bool = typer.Option(False, help="Recompute trials that are already cached."),
    n_jobs: int | None = NJobs,
    scheduler: str | None = Scheduler,
    dask_workers: int | None = DaskWorkers,
) -> None:
    """Event-locked physiology + EEG features of every trial (STORE/derived/physio, resumable)."""
    from mmme.physio.pipeline import process_store

    try:
        index = process_store(store, {"eeg": not no_eeg, "pad_s": pad_s}, n_jobs=n_jobs,
                              scheduler=scheduler, dask_workers=dask_workers, force=force)
    except MMMEError as exc:
        _fail(exc)
    console.print(
        f"{len(index)} trial(s), {int(index['n_events'].sum())} event(s): "
        f"{int(index['cached'].sum())} from cache -> {store}/derived/physio/events.parquet"
    )


# --- io commands ---
_CLASSIC_HELP = {
    "casme-ii": "CASME II clips, 200 fps: subXX/EPxx_xx/imgN.jpg + the coding sheet.",
    "samm": "SAMM clips, 200 fps: 006/006_1_2/006_NNNNN.jpg + the FACS codes sheet.",
    "samm-lv": "SAMM long videos, 200 fps: 006_1/006_1_NNNN.jpg + the long-video sheet.",
    "smic-e": "SMIC-E HS, 100 fps: clip folders of images + the OnsetF/OffsetF/FirstF sheet.",
    "cas-me-2": "CAS(ME)^2, 30 fps: rawpic/sNN/NN_CODE.../imgN.jpg + code_final.xlsx.",
    "cas-me-3": "CAS(ME)^3 part A, 30 fps: spNO.N/<clip>/color/N.jpg + the label workbook.",
    "cas-me-3-c": "CAS(ME)^3 part C, 30 fps + 200 Hz PPG/RSP/ECG/EDA: <sub>/color/N.jpg, "
    "<sub>/*.txt + the mockCrimeME sheet.",
    "mmew": "MMEW, 90 fps: Micro_Expression/<emotion>/<clip>/N.jpg + the label sheet.",
    "4dme": "4DME 2D frames, 60 fps: <fold_name>/N.jpg + the sub_ID/fold_name sheet.",
}


_RELEASE_HELP = {
    "casme-ii": "Which release: raw (CASME2_RAW_selected) or cropped (Cropped); needed when the "
    "tree holds both.",
    "cas-me-2": "Which release: raw (rawpic, the default), cropped or selected (selectedpic).",
    "mmew": "Which release: micro (Micro_Expression, the default) or macro (Macro_Expression).",
}
_NO_REL = "Not used by this data set (one release)."
_STRICT_HELP = "Fail (nothing written) if any row is repaired or skipped, or a frame is damaged."


def _imported(st: Any) -> None:
    rep = st.report
    clips = rep.get("clips")
    coded = f" ({clips['coded']} coded, {clips['uncoded']} uncoded)" if clips else ""
    repaired = len({r.get("source") for r in rep.get("repaired", [])})
    n_damaged = len(rep.get("damaged_frames", []))
    damaged = f", {n_damaged} damaged frame(s)" if n_damaged else ""
    console.print(
        f"imported {len(st.sessions)} session(s), {len(st.trials)} trial(s){coded}, "
        f"{len(st.annotations)} event(s) into {st.path}; {repaired} row(s) repaired, "
        f"{len(rep.get('skipped', []))} row(s) skipped{damaged}, {len(rep.get('quirks', []))} "
        "quirk(s) (see import_report.json; `mmme validate` lists them)"
    )
    _derived_carried(st)


def _classic_command(fmt: str, doc: str) -> None:
    def cmd(
        src: Path = typer.Argument(..., help="The data set root folder."),
        store: Path = typer.Argument(..., help="Store directory to write (replaced atomically)."),
        sheet: Path | None = typer.Option(
            None, "--sheet", help="Annotation sheet, if not the single one below SRC."
        ),
        no_frame_check: bool = typer.Option(False, help="Skip the truncation check of frames."),
        pseudonymize: bool = typer.Option(False, "--pseudonymize", help=_PSEUDO_HELP),
        salt: str | None = typer.Option(None, "--salt", help=_SALT_HELP),
        copy_frames: bool = typer.Option(False, "--copy-frames", help=_COPY_FRAMES_HELP),
        release: str | None = typer.Option(None, "--release", help=_RELEASE_HELP.get(fmt, _NO_REL)),
        strict: bool = typer.Option(False, "--strict", help=_STRICT_HELP),
        n_jobs: int | None = NJobs,
        scheduler: str | None = Scheduler,
        dask_workers: int | None = DaskWorkers,
    ) -> None:
        from mmme.io.classic import FORMATS, import_classic

        try:
            with _executor(n_jobs, scheduler, dask_workers) as ex:
                st = _into_store(store, copy_frames, lambda target: import_classic(
                    FORMATS[fmt],
                    src,
                    target,
                    sheet=sheet,
                    executor=ex,
                    check_frames=not no_frame_check,
                    pseudonymize=pseudonymize,
                    salt=salt,
                    release=release,
                    strict=strict,
                ))
        except MMMEError as exc:
            _fail(exc)
        _imported(st)

    cmd.__doc__ = f"Import {doc}"
    import_app.command(fmt)(cmd)


for _fmt, _doc in _CLASSIC_HELP.items():
    _classic_command(_fmt, _doc)


@import_app.command("generic")
def import_generic_cmd(
    src: Path = typer.Argument(..., help="Video file (mp4/avi/mov), image folder or signal file."),
    store: Path = typer.Argument(..., help="Store directory to write (replaced atomically)."),
    signals: list[Path] = typer.Option([], "--signals", "-s", help="EDF/BDF/XDF/CSV file."),
    annotations: Path | None = typer.Option(
        None, "--annotations", "-a", help="CSV/XLSX, one row per expression."
    ),
    mapping: list[str] = typer.Option(
        [], "--map", help="Field=column, e.g. onset=OnsetF,apex=ApexF,offset=OffsetF."
    ),
    units: str = typer.Option("frames", help="Unit of onset/apex/offset: frames or seconds."),
    first_frame: int = typer.Option(0, help="Number of a video file's first frame in the sheet."),
    fps: float | None = typer.Option(None, help="Frame rate (needed for an image folder)."),
    subject: str = typer.Option("S01", help="Subject name in the store."),
    session: str = typer.Option("1", help="Session name in the store."),
    trial: str | None = typer.Option(None, help="Trial name (default: the video's name)."),
    pseudonymize: bool = typer.Option(False, "--pseudonymize", help=_PSEUDO_HELP),
    salt: str | None = typer.Option(None, "--salt", help=_SALT_HELP),
    copy_frames: bool = typer.Option(False, "--copy-frames", help=_COPY_FRAMES_HELP),
) -> None:
    """Import your own recording: a video or image folder, signals and an annotation sheet."""
    from mmme.io.generic import import_generic

    try:
        st = _into_store(store, copy_frames, lambda target: import_generic(
            src,
            target,
            signals=signals,
            annotations=annotations,
            mapping=mapping,
            units=units,
            first_frame=first_frame,
            fps=fps,
            subject=subject,
            session=session,
            trial=trial,
            pseudonymize=pseudonymize,
            salt=salt,
        ))
    except MMMEError as exc:
        _fail(exc)
    _imported(st)


# --- scoring predictions of any tool ---
score_app = typer.Typer(
    help="Score predictions from any tool against the truth.", no_args_is_help=True
)
app.add_typer(score_app, name="score")


def _read_table(path: Path) -> Any:
    """A comma-separated table as strings; an empty file is an empty table."""
    import pandas as pd

    try:
        return pd.read_csv(path, dtype=str, skipinitialspace=True)
    except FileNotFoundError:
        raise MMMEError(f"file {path}: no such file") from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MMMEError(f"file {path}: not a readable CSV table ({exc})") from None


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, indent=2))


@score_app.command("spotting")
def score_spotting_cmd(
    truth: Path = typer.Option(..., "--truth", help="CSV: video,onset,offset,type (ME or MaE)."),
    pred: Path = typer.Option(..., "--pred", help="CSV: video,onset,offset[,type]."),
    me_max_frames: int | None = typer.Option(
        None, "--me-max-frames", help="A prediction without a type is an ME up to N frames."
    ),
    fps: float | None = typer.Option(None, "--fps", help="Frame rate: N = the frames in 0.5 s."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    log: Path | None = typer.Option(None, "--log", help="Write the MEGC-style log (CSV)."),
) -> None:
    """Score spotted intervals by the MEGC protocol (IoU >= 0.5, one-to-one, pooled)."""
    import pandas as pd

    from mmme.spotting.evaluate import LOG_COLUMNS, score_spotting
    from mmme.utils import atomic_path

    if me_max_frames is not None and fps is not None:
        _fail(MMMEError("give --me-max-frames or --fps, not both"))
    try:
        t, p = _read_table(truth), _read_table(pred)
        if t.empty:
            t = pd.DataFrame(columns=["video", "onset", "offset", "type"])
        if p.empty:
            p = pd.DataFrame(columns=["video", "onset", "offset", "type"])
        res = score_spotting(
            t, p, me_max_frames=me_max_frames, fps=fps, truth_name=str(truth), pred_name=str(pred)
        )
    except MMMEError as exc:
        _fail(exc)
    if log is not None:
        with atomic_path(log) as tmp:
            res.log.to_csv(tmp, index=False, columns=list(LOG_COLUMNS))
    if as_json:
        _print_json(res.to_dict())
        return
    for key, name in (("me", "ME"), ("mae", "MaE"), ("overall", "overall")):
        c = res.counts[key]
        console.print(
            f"{name:8s} TP {c['tp']:4d}  FP {c['fp']:4d}  FN {c['fn']:4d}  "
            f"precision {c['precision']:.4f}  recall {c['recall']:.4f}  F1 {c['f1']:.4f}"
        )


@score_app.command("recognition")
def score_recognition_cmd(
    truth: Path = typer.Option(..., "--truth", help="CSV: sample,label[,subject]."),
    pred: Path = typer.Option(..., "--pred", help="CSV: sample,label."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score predicted labels: UF1 and UAR as MEGC2019, accuracy, per-class F1 and recall."""
    from mmme.recognition.metrics import score_prediction_files

    try:
        res = score_prediction_files(
            _read_table(truth), _read_table(pred), truth_name=str(truth), pred_name=str(pred)
        )
    except MMMEError as exc:
        _fail(exc)
    if as_json:
        _print_json(res)
        return
    console.print(
        f"UF1 {res['uf1']:.4f}  UAR {res['uar']:.4f}  accuracy {res['accuracy']:.4f}  "
        f"n {res['n']}"
    )
    for label, c in res["per_class"].items():
        console.print(
            f"  {label:12s} F1 {c['f1']:.4f}  recall {c['recall']:.4f}  support {c['support']}",
            markup=False,
        )


# --- analysis and report commands ---
@app.command("analyze")
def analyze_cmd(
    store: Path = typer.Argument(..., help="An mmme store."),
    out: Path | None = typer.Option(None, "--out", help="Folder (default ../results/analysis)."),
    n_jobs: int | None = NJobs,
    scheduler: str | None = Scheduler,
    dask_workers: int | None = DaskWorkers,
) -> None:
    """Event-related analysis: grand averages, paired tests, EEG clusters, HR slope at apex."""
    from mmme.analysis import analyze_store

    with _executor(n_jobs, scheduler, dask_workers) as ex:
        res = analyze_store(store, out, executor=ex)
    console.print(f"{res['n_subjects']} subject(s), units: {res['unit']}s; "
                  f"{sum(res['n_events'].values())} locked times -> {out or 'results/analysis'}")


@app.command("report")
def report_cmd(
    results: Path = typer.Argument(..., help="Folder with analysis/, recognition/, spotting/."),
    output: Path = typer.Option(Path("report.html"), "-o", "--output", help="HTML file."),
    store: Path | None = typer.Option(None, "--store", help="Store (default: analysis.json's)."),
) -> None:
    """One self-contained HTML report (figures embedded, nothing from the network)."""
    from mmme.report import build_report

    console.print(f"report -> {build_report(results, output, store=store)}")


def main() -> None:  # pragma: no cover - console entry (``python -m mmme``)
    app()
