"""The ``mmme`` command line: one sub-command per job, rich progress bars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console

from mmme.errors import MMMEError
from mmme.executor import Executor

console = Console()
console_err = Console(stderr=True)

app = typer.Typer(
    name="mmme",
    help="Multimodal micro-expression toolkit: import, synthesize, validate, analyse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
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
    console_err.print(f"[bold red]error:[/bold red] {exc}")
    raise typer.Exit(2)


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
    n_jobs: int | None = NJobs,
    scheduler: str | None = Scheduler,
    dask_workers: int | None = DaskWorkers,
) -> None:
    """Import the raw MMME layout (docs/raw_layout.md) into a store."""
    from mmme.io.mmme import import_mmme

    try:
        with _executor(n_jobs, scheduler, dask_workers) as ex:
            st = import_mmme(
                src,
                store,
                executor=ex,
                check_frames=not no_frame_check,
                allow_truncated=allow_truncated,
                pseudonymize=pseudonymize,
                salt=salt,
            )
    except MMMEError as exc:
        _fail(exc)
    console.print(
        f"imported {len(st.sessions)} session(s), {len(st.trials)} trial(s), "
        f"{len(st.annotations)} event(s) into {st.path}"
    )
    _derived_carried(st)


def _derived_carried(st: Any) -> None:
    """Say which derived results a re-import kept and which it dropped as stale."""
    rep = st.report.get("derived")
    if rep is not None:
        from mmme.data.derived import summary_line

        console.print(summary_line(rep), highlight=False, soft_wrap=True, markup=False)


def _load_summary(path: Path) -> dict[str, Any]:
    from mmme.data.store import Store, is_store
    from mmme.data.summary import summarize

    if is_store(path):
        st = Store(path)
        return summarize(st.annotations, st)
    if path.is_file():
        from mmme.io.coding import read_coding_file

        return summarize(read_coding_file(path).annotations)
    import tempfile

    from mmme.io.mmme import import_mmme

    with tempfile.TemporaryDirectory(prefix="mmme-info-") as tmp:
        st = import_mmme(path, Path(tmp) / "store", executor=Executor(progress=False))
        return summarize(st.annotations, st)


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


@app.command()
def validate(
    path: Path = typer.Argument(..., help="A store, a raw MMME folder, or a coding file."),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON."),
) -> None:
    """Name every problem; exit 1 on errors, 0 with warnings only."""
    from mmme.data.validate import validate_path

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
    file: Path = typer.Argument(..., help="EDF/BDF/EEGLAB .set, CSV/TSV, or OpenSignals .h5/.txt."),
    kind: str = typer.Option(..., "--kind", "-k", help="ecg, ppg, rsp, eda, emg, skt or eeg."),
    channel: str | None = typer.Option(None, "--channel", "-c", help="Channel to analyse."),
    sfreq: float | None = typer.Option(None, "--sfreq", help="Sampling rate (needed for CSV)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Summarise one's own recording: beats/HR/RMSSD, breathing rate, SCRs, SKT, EEG bands."""
    import math

    from mmme.physio.io import read_recording

    kind = kind.lower()
    try:
        if kind not in _SIGNAL_KINDS:
            raise MMMEError(f"--kind must be one of {', '.join(_SIGNAL_KINDS)}, got {kind!r}")
        rec = read_recording(file, sfreq=sfreq)
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
    summary = {"file": str(file), **summary}
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
            if k in ("hrv", "quality", "file"):
                continue
            shown = "masked" if v is None or (isinstance(v, float) and math.isnan(v)) else (
                f"{v:.4g}" if isinstance(v, float) else str(v))
            table.add_row(k, shown)
        q = summary["quality"]
        table.add_row("quality", ", ".join(q["problems"]) or "ok")
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
    "cas-me-3": "CAS(ME)^3 part A or C, 30 fps: spNO.N/<clip>/color/N.jpg + the label sheet.",
    "mmew": "MMEW, 90 fps: Micro_Expression/<emotion>/<clip>/N.jpg + the label sheet.",
    "4dme": "4DME 2D frames, 60 fps: <fold_name>/N.jpg + the sub_ID/fold_name sheet.",
}


def _imported(st: Any) -> None:
    rep = st.report
    console.print(
        f"imported {len(st.sessions)} session(s), {len(st.trials)} trial(s), "
        f"{len(st.annotations)} event(s) into {st.path}; {len(rep.get('quirks', []))} quirk(s) "
        f"fixed, {len(rep.get('skipped', []))} row(s) skipped (see import_report.json)"
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
        n_jobs: int | None = NJobs,
        scheduler: str | None = Scheduler,
        dask_workers: int | None = DaskWorkers,
    ) -> None:
        from mmme.io.classic import FORMATS, import_classic

        try:
            with _executor(n_jobs, scheduler, dask_workers) as ex:
                st = import_classic(
                    FORMATS[fmt],
                    src,
                    store,
                    sheet=sheet,
                    executor=ex,
                    check_frames=not no_frame_check,
                    pseudonymize=pseudonymize,
                    salt=salt,
                )
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
) -> None:
    """Import your own recording: a video or image folder, signals and an annotation sheet."""
    from mmme.io.generic import import_generic

    try:
        st = import_generic(
            src,
            store,
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
        )
    except MMMEError as exc:
        _fail(exc)
    _imported(st)



def main() -> None:  # pragma: no cover - console entry
    app()
