"""Build the notebook a submission is run as: the solution's cells, the student's answers, probes for checks.

The student's exercise cells replace the solution's (matched by cell id, then by exercise);
every other cell comes from the instructor's solution. Each check cell becomes a probe that
records the answer as plain data; the verdict is reached outside, by the grader. The hidden
tests of a check cell (`check("ID", globals(), cases=[...])` between nbgrader's hidden-test
markers) never enter the run: their cases are read here and judged by the grader.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import nbformat

from lenet_helpers.judges import EXERCISES
from lenet_helpers.lessons import split_blocks, without_hidden_tests

CHECK_CALL = re.compile(r'^(?P<indent>\s*)check\(\s*"(?P<id>[^"]+)"\s*,\s*globals\(\)\s*\)\s*$')
PROBE = "import lenet_helpers.probes as _lenet_probes; _lenet_probes.record({id!r}, globals())"


class SolutionError(ValueError):
    """A solution notebook the grader cannot use as written (the message names the cell)."""


@dataclass
class GradedExercise:
    """One graded exercise of a lesson: its points, its exercise cells and its hidden cases."""

    id: str
    points: int
    cells: list[str] = field(default_factory=list)  # ids of the solution's exercise cells
    hidden: list = field(default_factory=list)  # argument tuples from the hidden-test blocks


def hidden_cases(source: str, exercise_id: str) -> list:
    """The cases of the hidden-test blocks of a check cell: each must be `check(ID, globals(), cases=[...])`."""
    found: list = []
    for kind, block in split_blocks(source):
        if kind != "hidden":
            continue
        text = "\n".join(line.strip() for line in block[1:])
        try:
            statements = ast.parse(text).body
        except SyntaxError as error:
            raise SolutionError(f"hidden tests of {exercise_id} do not parse: {error}") from None
        for statement in statements:
            call = statement.value if isinstance(statement, ast.Expr) else None
            keywords = {keyword.arg: keyword.value for keyword in getattr(call, "keywords", [])}
            if (not isinstance(call, ast.Call) or getattr(call.func, "id", None) != "check" or not call.args
                    or not isinstance(call.args[0], ast.Constant) or call.args[0].value != exercise_id
                    or set(keywords) != {"cases"}):
                raise SolutionError(f"hidden tests of {exercise_id} must be calls "
                                    f'check("{exercise_id}", globals(), cases=[...]); got: {ast.unparse(statement)}')
            try:
                found.extend(tuple(case) if isinstance(case, (list, tuple)) else (case,)
                             for case in ast.literal_eval(keywords["cases"]))
            except ValueError:
                raise SolutionError(f"hidden cases of {exercise_id} must be literals "
                                    "(numbers, lists, tuples)") from None
    return found


def exercises_of(solution: nbformat.NotebookNode) -> list[GradedExercise]:
    """The graded exercises of a solution, from its check cells' metadata, in order."""
    exercises: dict[str, GradedExercise] = {}
    for cell in solution.cells:
        meta = cell.metadata.get("lenet", {})
        if "check" in meta:
            if meta["check"] not in EXERCISES:
                raise SolutionError(f"check cell {cell.get('id')} names an unknown exercise {meta['check']!r}")
            exercises[meta["check"]] = GradedExercise(meta["check"], int(meta.get("points", 1)),
                                                      hidden=hidden_cases(cell.source, meta["check"]))
    for cell in solution.cells:
        meta = cell.metadata.get("lenet", {})
        if "exercise" in meta and meta["exercise"] in exercises:
            exercises[meta["exercise"]].cells.append(cell.get("id"))
    return list(exercises.values())


def _probe_cell(source: str, cell_id: str) -> str:
    lines, probed = [], 0
    for line in without_hidden_tests(source).splitlines():
        match = CHECK_CALL.match(line)
        if match:
            line = match.group("indent") + PROBE.format(id=match.group("id"))
            probed += 1
        lines.append(line)
    if not probed:
        raise SolutionError(f'check cell {cell_id} has no line `check("ID", globals())` to turn into a probe')
    return "\n".join(lines)


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def run_notebook(student: nbformat.NotebookNode, solution: nbformat.NotebookNode):
    """The notebook to run, and {exercise id: why it cannot be graded as written} for missing answers."""
    code = [cell for cell in student.cells if cell.get("cell_type") == "code"]
    by_id = {cell.get("id"): cell for cell in code}
    by_exercise: dict[str, dict] = {}
    for cell in code:
        exercise = cell.get("metadata", {}).get("lenet", {}).get("exercise")
        if exercise:
            by_exercise.setdefault(exercise, cell)
    problems: dict[str, str] = {}
    run = nbformat.v4.new_notebook(metadata={"kernelspec": solution.metadata.get("kernelspec", {})})
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("lenet", {})
        if "check" in meta:
            source = _probe_cell(cell.source, cell.get("id"))
        elif "exercise" in meta:
            mine = by_id.get(cell.get("id")) or by_exercise.get(meta["exercise"])
            if mine is None:
                problems[meta["exercise"]] = "the exercise cell was deleted or changed beyond recognition"
                source = "raise NotImplementedError('exercise cell missing from the submission')"
            else:
                source = _source(mine)
        else:
            source = without_hidden_tests(cell.source)
        run.cells.append(nbformat.v4.new_code_cell(source, metadata={"lenet": dict(meta)}))
    return run, problems
