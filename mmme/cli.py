"""The ``mmme`` command line: one sub-command per job, rich progress bars."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mmme",
    help="Multimodal micro-expression toolkit: import, synthesize, validate, analyse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Import a data set into an mmme store.", no_args_is_help=True)
app.add_typer(import_app, name="import")

# --- core commands ---

# --- synth commands ---

# --- face commands ---

# --- physio commands ---

# --- io commands ---


def main() -> None:  # pragma: no cover - console entry
    app()
