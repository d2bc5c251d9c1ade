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


@import_app.command("mmme")
def import_mmme_cmd(
    src: Path = typer.Argument(..., help="Raw MMME folder, or a coding .xlsx/.csv on its own."),
    store: Path = typer.Argument(..., help="Store directory to write (replaced atomically)."),
    no_frame_check: bool = typer.Option(False, help="Skip the truncation check of frame files."),
    n_jobs: int | None = NJobs,
    scheduler: str | None = Scheduler,
    dask_workers: int | None = DaskWorkers,
) -> None:
    """Import the raw MMME layout (docs/raw_layout.md) into a store."""
    from mmme.io.mmme import import_mmme

    try:
        with _executor(n_jobs, scheduler, dask_workers) as ex:
            st = import_mmme(src, store, executor=ex, check_frames=not no_frame_check)
    except MMMEError as exc:
        _fail(exc)
    console.print(
        f"imported {len(st.sessions)} session(s), {len(st.trials)} trial(s), "
        f"{len(st.annotations)} event(s) into {st.path}"
    )


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


# --- synth commands ---

# --- face commands ---

# --- physio commands ---

# --- io commands ---


def main() -> None:  # pragma: no cover - console entry
    app()
