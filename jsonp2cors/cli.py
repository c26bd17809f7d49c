"""The `jsonp2cors` command line: parses options, calls the library, renders. No logic of its own.

Heavy modules (libcst, tree-sitter, starlette, rich) are imported inside each command so that
`jsonp2cors --help` and a command that does not need them stay fast.

No `from __future__ import annotations` here: typer reads every command's signature at each start, and string
annotations made it compile and evaluate each one (13 ms of every run; 4 ms with the annotations as objects).
"""

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from jsonp2cors import __version__

# Exit codes, linter conventions.
EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2

app = typer.Typer(
    name="jsonp2cors",
    help="Move legacy web apps off JSONP and onto JSON + CORS without breaking a single caller.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
policy_app = typer.Typer(help="Generate, lint and export the CORS policy (cors-policy.toml).", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jsonp2cors {__version__}")
        raise typer.Exit(EXIT_CLEAN)


@app.callback()
def _root(
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = None,
) -> None:
    """Move legacy web apps off JSONP and onto JSON + CORS."""


# ---------------------------------------------------------------------------------------------- scan
# (issue 2/3) owned by the scan/report work


class ScanFormat(str, Enum):
    table = "table"
    json = "json"
    sarif = "sarif"


@app.command("scan")
def scan_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to scan (default: the current folder).", show_default=False,
                       metavar="PATH"),
    ] = None,
    output_format: Annotated[
        ScanFormat,
        typer.Option("--format", "-f", help="table (rich, for people), json (contract 1) or sarif (2.1.0)."),
    ] = ScanFormat.table,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to FILE ('-': standard output).",
                     dir_okay=False, show_default=False),
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=0, help="Worker processes (0: every core).")] = 0,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip paths matching GLOB (gitignore syntax; repeatable).",
                     metavar="GLOB", show_default=False),
    ] = None,
    callback_param: Annotated[
        list[str] | None,
        typer.Option("--callback-param", help="Also treat NAME as a callback parameter (repeatable).",
                     metavar="NAME", show_default=False),
    ] = None,
    helper: Annotated[
        list[str] | None,
        typer.Option("--helper", help="Name of a project JSONP helper or decorator (repeatable).",
                     metavar="NAME", show_default=False),
    ] = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when JSONP is found.")] = False,
    include_vendored: Annotated[
        bool,
        typer.Option("--include-vendored",
                     help="Also scan vendored code: minified bundles, vendor/, node_modules/, ..."),
    ] = False,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="No progress bar (shown only when stderr is a terminal).")
    ] = False,
) -> None:
    """Find JSONP endpoints (Python) and JSONP consumers (HTML, templates, JavaScript).

    Exit status: 0 nothing found (scan errors alone are listed, not failed on), 1 JSONP found, 2 error.
    """
    import sys

    from jsonp2cors.report import write_report
    from jsonp2cors.scan import scan, scan_root
    from jsonp2cors.scan.files import ConfigError, load_config

    targets = list(paths or [Path(".")])
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        typer.echo(f"jsonp2cors scan: error: no such file or directory: {', '.join(missing)}", err=True)
        raise typer.Exit(EXIT_ERROR)
    try:
        config = load_config(
            scan_root(targets),
            excludes=exclude or None,
            callback_params=callback_param or None,
            helpers=helper or None,
            include_vendored=True if include_vendored else None,
            jobs=jobs or None,
        )
    except (ConfigError, OSError) as exc:
        typer.echo(f"jsonp2cors scan: error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc

    try:
        if not no_progress and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            bar = Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                           console=Console(stderr=True), transient=True)
            with bar:
                task = bar.add_task("scan", total=None)
                result = scan(targets, config,
                              progress=lambda done, total: bar.update(task, completed=done, total=total))
        else:
            result = scan(targets, config)
        if output is None or str(output) == "-":
            write_report(result, output_format.value, sys.stdout)
        else:
            with output.open("w", encoding="utf-8", newline="\n") as stream:
                write_report(result, output_format.value, stream, terminal=False, width=160)
            typer.echo(f"jsonp2cors scan: wrote {output_format.value} report to {output} "
                       f"({len(result.endpoints)} endpoints, {len(result.consumers)} consumers, "
                       f"{len(result.errors)} errors)", err=True)
    except KeyboardInterrupt:
        typer.echo("jsonp2cors scan: interrupted", err=True)
        raise typer.Exit(130) from None
    except Exception as exc:  # internal error: one readable line, exit 2 (also under CliRunner)
        typer.echo(f"jsonp2cors scan: internal error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    raise typer.Exit(EXIT_FINDINGS if result.has_findings and not exit_zero else EXIT_CLEAN)


# -------------------------------------------------------------------------------------------- policy
# (issue 4) policy generate / lint / export


class PolicyLintFormat(str, Enum):
    text = "text"
    json = "json"


class PolicyTarget(str, Enum):
    starlette = "starlette"
    flask_cors = "flask-cors"
    django = "django"
    nginx = "nginx"
    s3 = "s3"
    apigateway = "apigateway"


def _policy_fail(command: str, message: str) -> typer.Exit:
    typer.echo(f"jsonp2cors policy {command}: error: {message}", err=True)
    return typer.Exit(EXIT_ERROR)


@policy_app.command("generate")
def policy_generate_command(
    path: Annotated[Path, typer.Argument(help="Code base to scan.")] = Path("."),
    origin: Annotated[
        list[str] | None,
        typer.Option("--origin", help="An allowed caller origin (https://app.example.com or "
                     "https://*.example.com); repeatable."),
    ] = None,
    from_usage: Annotated[
        list[Path] | None,
        typer.Option("--from-usage", help="Shim usage records (JSON lines): their caller origins are added, "
                     "with counts; repeatable."),
    ] = None,
    from_scan: Annotated[
        Path | None,
        typer.Option("--from-scan", help="Use a saved `jsonp2cors scan --format json` result instead of "
                     "scanning PATH."),
    ] = None,
    sunset: Annotated[
        str | None, typer.Option("--sunset", help="Date (YYYY-MM-DD) from which JSONP requests get 410.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the policy here instead of stdout.")
    ] = None,
) -> None:
    """Write a cors-policy.toml from a scan, declared origins and shim usage records.

    Every entry carries a comment saying where it came from. Exit status: 0 written, 2 usage error.
    """
    import datetime
    import sys

    from jsonp2cors.findings import ScanResult
    from jsonp2cors.policy.generate import generate
    from jsonp2cors.policy.lint import lint_text
    from jsonp2cors.policy.origin import OriginError

    day = None
    if sunset is not None:
        try:
            day = datetime.date.fromisoformat(sunset)
        except ValueError:
            raise _policy_fail("generate", f"--sunset: expected a date YYYY-MM-DD, got {sunset!r}") from None
    records: list[object] = []
    if from_usage:
        from jsonp2cors.shim.usage import read_usage

        try:
            records = list(read_usage(from_usage))
        except OSError as exc:
            raise _policy_fail("generate", f"--from-usage: {exc}") from exc
    try:
        if from_scan is not None:
            result = ScanResult.from_json(from_scan.read_text(encoding="utf-8"))
        else:
            from jsonp2cors.scan import scan

            result = scan([path])
    except (OSError, ValueError) as exc:
        raise _policy_fail("generate", str(exc)) from exc
    try:
        generated = generate(result, origins=origin or (), usage=records, sunset=day,
                             source=str(from_scan or path))
    except OriginError as exc:
        raise _policy_fail("generate", f"--origin {exc}") from exc
    text = generated.to_toml()
    problems = [f for f in lint_text(text) if f.severity == "error"]
    if problems:  # a generated policy must pass its own lint
        raise _policy_fail("generate", "; ".join(f"{f.code} {f.message}" for f in problems))
    for note in generated.notes:
        typer.echo(f"note: {note}", err=True)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)
    raise typer.Exit(EXIT_CLEAN)


@policy_app.command("lint")
def policy_lint_command(
    file: Annotated[Path, typer.Argument(help="The policy file (cors-policy.toml).")],
    output_format: Annotated[
        PolicyLintFormat, typer.Option("--format", "-f", help="text (path:line:col: CODE ...) or json.")
    ] = PolicyLintFormat.text,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when errors are found.")
    ] = False,
) -> None:
    """Check a policy: errors (CP0xx) make it unsafe or unusable, warnings (CP1xx) are likely mistakes.

    Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage error.
    `# noqa` or `# noqa: CP101` at the end of a line silences findings on that line.
    """
    import sys

    from jsonp2cors.policy.lint import lint_file, render_json, render_text

    if not file.is_file():
        raise _policy_fail("lint", f"{file}: no such file")
    findings = lint_file(file)
    if output_format is PolicyLintFormat.json:
        sys.stdout.write(render_json(str(file), findings) + "\n")
    else:
        for line in render_text(str(file), findings):
            typer.echo(line)
    errors = any(f.severity == "error" for f in findings)
    raise typer.Exit(EXIT_FINDINGS if errors and not exit_zero else EXIT_CLEAN)


@policy_app.command("export")
def policy_export_command(
    file: Annotated[Path, typer.Argument(help="The policy file (cors-policy.toml).")],
    to: Annotated[PolicyTarget, typer.Option("--to", help="Target system.", case_sensitive=False)],
    rest: Annotated[
        bool, typer.Option("--rest", help="apigateway: an OpenAPI 3 document for a REST API instead of the "
                           "HTTP API CorsConfiguration.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout (nginx also writes "
                                     "<name>.server.conf next to it).")
    ] = None,
    lossy: Annotated[
        bool, typer.Option("--lossy", help="Export even when the target cannot express part of the policy.")
    ] = False,
) -> None:
    """Export the policy to what a server or cloud service accepts as-is.

    What the target cannot express is listed on stderr, naming the entry; then the export stops with exit
    status 2 unless --lossy is given. Exit status: 0 exported, 2 usage error or unexpressible policy.
    """
    import sys

    from jsonp2cors.policy import Policy, PolicyError
    from jsonp2cors.policy.export import export

    try:
        policy = Policy.from_file(file)
    except PolicyError as exc:
        raise _policy_fail("export", str(exc)) from exc
    name = output.stem if output is not None else "cors"
    result = export(policy, to.value, rest=rest, name=name)
    for loss in result.losses:
        typer.echo(f"jsonp2cors policy export: {to.value} cannot express {loss}", err=True)
    if result.losses and not lossy:
        typer.echo(f"jsonp2cors policy export: {len(result.losses)} part(s) of the policy cannot be "
                   f"expressed for {to.value}; nothing written (use --lossy to export anyway)", err=True)
        raise typer.Exit(EXIT_ERROR)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if output is None:
        sys.stdout.write(result.text)
    else:
        names = list(result.files)
        output.write_text(result.files[names[0]], encoding="utf-8")
        written = [output]
        for extra in names[1:]:
            target = output.with_name(extra)
            target.write_text(result.files[extra], encoding="utf-8")
            written.append(target)
        typer.echo("wrote " + ", ".join(str(p) for p in written), err=True)
    raise typer.Exit(EXIT_CLEAN)


# ------------------------------------------------------------------------------------------- rewrite
# (issue 6) rewrite / migrate / demo


class OnlyPart(str, Enum):
    python = "python"
    markup = "markup"
    js = "js"


def _echo_diff(text: str) -> None:
    import sys

    if text:
        sys.stdout.write(text)
        sys.stdout.flush()


def _isatty() -> bool:
    import sys

    return sys.stdout.isatty()


def _echo_lines(lines: list[str], err: bool = True) -> None:
    for line in lines:
        typer.echo(line, err=err)


@app.command("rewrite")
def rewrite_command(
    paths: Annotated[list[Path] | None, typer.Argument(metavar="[PATH]...",
                                                       help="Files or folders (default .).")] = None,
    write: Annotated[bool, typer.Option("--write", help="Apply the changes (atomic writes).")] = False,
    check: Annotated[bool, typer.Option("--check",
                                        help="Write nothing; exit 1 when something would change.")] = False,
    policy: Annotated[Path | None, typer.Option("--policy", help="cors-policy.toml (callback names, shim).")] = None,
    only: Annotated[list[OnlyPart] | None, typer.Option("--only", help="Only python, markup or js edits.")] = None,
    allow_dirty: Annotated[bool, typer.Option("--allow-dirty",
                                              help="Write even over uncommitted changes.")] = False,
    mount_shim: Annotated[bool, typer.Option("--mount-shim",
                                             help="Also mount the shim where the app is built.")] = False,
) -> None:
    """Rewrite JSONP endpoints to plain JSON and JSONP consumers to fetch()/JSON requests.

    Prints a unified diff (nothing written) unless --write. Exit status: 0 done or nothing to do,
    1 with --check when something would change, 2 usage or internal error (or a refused --write).
    """
    from jsonp2cors.rewrite import StaleFileError, apply, plan
    from jsonp2cors.rewrite.migrate import summary_counts
    from jsonp2cors.rewrite.render import diff_text
    from jsonp2cors.rewrite.vcs import dirty_files
    from jsonp2cors.scan import scan, scan_root

    targets = paths or [Path(".")]
    missing = [str(p) for p in targets if not p.exists()]
    if missing:
        typer.echo(f"jsonp2cors rewrite: error: no such file or folder: {', '.join(missing)}", err=True)
        raise typer.Exit(EXIT_ERROR)
    if write and check:
        typer.echo("jsonp2cors rewrite: error: --write and --check exclude each other", err=True)
        raise typer.Exit(EXIT_ERROR)
    policy_obj = None
    if policy is not None:
        from jsonp2cors.policy import Policy

        try:
            policy_obj = Policy.from_file(policy)
        except Exception as exc:
            typer.echo(f"jsonp2cors rewrite: error: --policy {policy}: {exc}", err=True)
            raise typer.Exit(EXIT_ERROR) from exc
    root = scan_root(targets)
    result = scan(targets)
    rewrite = plan(result, root, policy_obj, only={o.value for o in only} if only else None,
                   mount_shim=mount_shim, policy_file=policy)
    if not write:
        _echo_diff(diff_text(rewrite.edits, color=_isatty()))
        _echo_lines(summary_counts(rewrite, written=False))
        raise typer.Exit(EXIT_FINDINGS if check and rewrite.edits else EXIT_CLEAN)
    if rewrite.edits:
        dirty = [] if allow_dirty else dirty_files([e.path for e in rewrite.edits])
        if dirty:
            typer.echo("jsonp2cors rewrite: refusing to write over uncommitted changes in:", err=True)
            _echo_lines([f"  {p}" for p in dirty])
            typer.echo("commit or stash them first, or pass --allow-dirty", err=True)
            raise typer.Exit(EXIT_ERROR)
        try:
            apply(rewrite.edits)
        except (StaleFileError, OSError) as exc:
            typer.echo(f"jsonp2cors rewrite: error: {exc}", err=True)
            raise typer.Exit(EXIT_ERROR) from exc
    _echo_lines(summary_counts(rewrite, written=True))
    raise typer.Exit(EXIT_CLEAN)


@app.command("migrate")
def migrate_command(
    path: Annotated[Path, typer.Argument(help="The code base to migrate (default .).")] = Path("."),
    origin: Annotated[list[str] | None, typer.Option("--origin", help="An origin allowed to call the API "
                                                     "(repeat); goes into cors-policy.toml.")] = None,
    write: Annotated[bool, typer.Option("--write", help="Write the rewrite and cors-policy.toml.")] = False,
    allow_dirty: Annotated[bool, typer.Option("--allow-dirty",
                                              help="Write even over uncommitted changes.")] = False,
    mount_shim: Annotated[bool, typer.Option("--mount-shim",
                                             help="Also mount the shim where the app is built.")] = False,
) -> None:
    """Scan, generate cors-policy.toml, rewrite (diff, or --write), then summarise and list the next steps.

    Exit status: 0 done, 2 usage or internal error (or a refused --write).
    """
    from jsonp2cors.rewrite import StaleFileError
    from jsonp2cors.rewrite.migrate import MigrationRefused, migrate, next_steps, summary_lines
    from jsonp2cors.rewrite.render import diff_text

    if not path.exists():
        typer.echo(f"jsonp2cors migrate: error: no such file or folder: {path}", err=True)
        raise typer.Exit(EXIT_ERROR)
    try:
        migration = migrate(path, origin or (), write=write, allow_dirty=allow_dirty, mount_shim=mount_shim)
    except MigrationRefused as exc:
        typer.echo("jsonp2cors migrate: refusing to write over uncommitted changes in:", err=True)
        _echo_lines([f"  {p}" for p in exc.files])
        typer.echo("commit or stash them first, or pass --allow-dirty", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    except (StaleFileError, OSError, ValueError) as exc:
        typer.echo(f"jsonp2cors migrate: error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    if not write:
        _echo_diff(diff_text(migration.plan.edits, color=_isatty()))
    _echo_lines(summary_lines(migration), err=False)
    typer.echo("\nNext steps:")
    _echo_lines([f"  {i}. {step}" for i, step in enumerate(next_steps(migration), 1)], err=False)
    raise typer.Exit(EXIT_CLEAN)


@app.command("demo")
def demo_command(
    serve: Annotated[bool, typer.Option("--serve", help="Then serve the migrated app (behind the shim) and the "
                                        "legacy and migrated pages on two loopback origins.")] = False,
    port: Annotated[int, typer.Option("--port", help="API port on 127.0.0.1 (pages use the next one).")] = 8000,
    keep: Annotated[bool, typer.Option("--keep", help="Keep the temporary folder.")] = False,
) -> None:
    """Migrate the bundled legacy Flask app in a temporary folder and show the diff and summary.

    Needs no arguments. With --serve (Flask required) it stays up until Ctrl-C.
    """
    from jsonp2cors.rewrite.demo import DemoError, run_demo

    try:
        raise typer.Exit(run_demo(serve=serve, port=port, keep=keep, color=_isatty()))
    except DemoError as exc:
        typer.echo(f"jsonp2cors demo: error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc


# --------------------------------------------------------------------------------------------- usage
# (issue 5) usage summary of shim records


class UsageFormat(str, Enum):
    table = "table"
    json = "json"


@app.command("usage")
def usage_command(
    files: Annotated[list[Path], typer.Argument(help="Usage files written by the shim (JSON lines).",
                                                 show_default=False)],
    output_format: Annotated[
        UsageFormat, typer.Option("--format", "-f", help="table (for people) or json (for machines).")
    ] = UsageFormat.table,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 even when JSONP traffic is found.")
    ] = False,
) -> None:
    """Summarise the shim's JSONP usage records: per endpoint and caller origin, first/last seen, daily trend.

    Exit status: 0 no JSONP traffic recorded, 1 JSONP traffic recorded, 2 usage or read error.
    Blank or garbled lines (e.g. cut short by a crash) are skipped and counted.
    """
    import json
    import sys

    from jsonp2cors.shim.usage import read_usage, render_table, summarize

    try:
        records = read_usage(files)
    except OSError as exc:
        typer.echo(f"jsonp2cors usage: error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    summary = summarize(records)
    if output_format is UsageFormat.json:
        data = {"files": [str(f) for f in files], **summary.to_dict()}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        from rich.console import Console

        render_table(summary, Console())
    raise typer.Exit(EXIT_FINDINGS if summary.total and not exit_zero else EXIT_CLEAN)


# -------------------------------------------------------------------------------------------- report
# (issue 7) HTML migration report

_REPORT_TITLE = "JSONP to CORS migration report"

@app.command("report")
def report_command(
    path: Annotated[
        Path, typer.Argument(help="Folder (or file) to scan (default: the current folder).",
                             show_default=False)
    ] = Path("."),
    usage: Annotated[
        list[Path] | None,
        typer.Option("--usage", "-u", help="Usage records written by the shim (JSON lines; repeatable).",
                     metavar="FILE", show_default=False),
    ] = None,
    policy: Annotated[
        Path | None,
        typer.Option("--policy", "-p", help="The CORS policy to show and lint (cors-policy.toml).",
                     metavar="FILE", show_default=False),
    ] = None,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Where to write the HTML file ('-' for standard output).",
                     metavar="FILE"),
    ] = Path("jsonp2cors-report.html"),
    title: Annotated[str, typer.Option("--title", help="Title of the page.")] = _REPORT_TITLE,
    no_rewrite: Annotated[
        bool, typer.Option("--no-rewrite", help="Do not compute the rewrite plan (faster on big trees).")
    ] = False,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Skip paths matching GLOB (gitignore syntax; repeatable).",
                     metavar="GLOB", show_default=False),
    ] = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 even when JSONP is found.")] = False,
) -> None:
    """Write the HTML migration report: endpoints, consumers, rewrite diff, policy lint, JSONP usage chart.

    One self-contained file: no network, no script. Without --policy it shows a generated proposal.

    Exit status: 0 no JSONP found, 1 JSONP found (the report is written in both cases), 2 error.
    """
    import sys

    from jsonp2cors.report.html import build_report, render
    from jsonp2cors.scan import scan_root
    from jsonp2cors.scan.files import ConfigError, load_config

    missing = [str(p) for p in [path, *(usage or []), *([policy] if policy else [])] if not p.exists()]
    if missing:
        typer.echo(f"jsonp2cors report: error: no such file or directory: {', '.join(missing)}", err=True)
        raise typer.Exit(EXIT_ERROR)
    try:
        config = load_config(scan_root([path]), excludes=exclude or None)
        data = build_report(path, usage_files=list(usage or []), policy_file=policy,
                            with_rewrite=not no_rewrite, title=title, config=config)
        page = render(data)
    except (ConfigError, OSError, ValueError) as exc:  # PolicyError is a ValueError
        typer.echo(f"jsonp2cors report: error: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    except Exception as exc:
        typer.echo(f"jsonp2cors report: internal error: {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(EXIT_ERROR) from exc
    if str(output) == "-":
        sys.stdout.write(page)
    else:
        try:
            output.write_text(page, encoding="utf-8", newline="\n")
        except OSError as exc:
            typer.echo(f"jsonp2cors report: error: cannot write {output}: {exc}", err=True)
            raise typer.Exit(EXIT_ERROR) from exc
        result = data.result
        calls = data.usage.total if data.usage is not None else 0
        typer.echo(f"jsonp2cors report: wrote {output} ({len(result.endpoints)} endpoints, "
                   f"{len(result.consumers)} consumers, {calls} JSONP calls in the usage records)", err=True)
    raise typer.Exit(EXIT_FINDINGS if data.result.has_findings and not exit_zero else EXIT_CLEAN)


def main() -> None:
    """Console-script entry point; usage errors exit 2 (click's default) and internal errors too."""
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # an internal error must still exit 2 with one readable line
        typer.echo(f"jsonp2cors: internal error: {type(exc).__name__}: {exc}", err=True)
        raise SystemExit(EXIT_ERROR) from exc
