"""The package's ``Introduced in: notebooks/NN_*.ipynb`` tags point a reader to the notebook that teaches an object:
that notebook must exist and mention the object by name (a function or a class as a whole word; a module as the start
of a word in any case, so that ``resnet`` is found in ``ResNet50Baseline``)."""
from __future__ import annotations

import ast
import json
import re
from asd_utils.runner import list_notebooks
from asd_utils.utils import repo_root

TAG = re.compile(r"Introduced in: notebooks/(\S+?\.ipynb)")


def notebook_texts() -> dict[str, str]:
    return {path.name: "\n".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
            for path in list_notebooks()}


def tagged_objects():
    """(file, line, name, is_module, notebook) for every docstring of ``asd_utils`` with an ``Introduced in`` tag."""
    for path in sorted((repo_root() / "asd_utils").rglob("*.py")):
        tree = ast.parse(path.read_text())
        nodes = [(path.stem if path.stem != "__init__" else path.parent.name, tree)]  # the module itself
        nodes += [(node.name, node) for node in ast.walk(tree)
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
        for name, node in nodes:
            for notebook in TAG.findall(ast.get_docstring(node) or ""):
                yield path.relative_to(repo_root()), getattr(node, "lineno", 1), name, node is tree, notebook


def mentions(text: str, name: str, is_module: bool) -> bool:
    pattern = rf"\b{re.escape(name)}" if is_module else rf"\b{re.escape(name)}\b"
    return re.search(pattern, text, flags=re.IGNORECASE if is_module else 0) is not None


def test_introduced_in_tags_name_a_notebook_that_mentions_the_object():
    texts = notebook_texts()
    tags = list(tagged_objects())
    assert tags, "no Introduced in tags found: has the package moved?"
    wrong = [f"{file}:{line} {name}: {notebook} " + ("does not exist" if notebook not in texts else "never mentions it")
             for file, line, name, is_module, notebook in tags if not mentions(texts.get(notebook, ""), name, is_module)]
    assert not wrong, "Introduced in tags that mislead:\n" + "\n".join(wrong)
