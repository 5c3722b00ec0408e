#!/usr/bin/env python3
"""Loads schema/openrpc.json in the common third-party OpenRPC tools, as a wrapper author would.

Usage: python3 examples/codegen/third_party_tools.py [--tsc TSC] [schema/openrpc.json]

- the PyPI `openrpc` package reads the document, and dumping what it read gives the
  document back, less the `x-` extensions (which it does not model): nothing else lost;
- `openrpcclientgenerator` writes Python, TypeScript and Rust clients: the Python models
  import, every name the client imports from them exists, the package metadata carries
  the document's license, and the Rust models define the types they name; with --tsc,
  the TypeScript client type-checks (its npm dependencies, axios and jsonrpc2-tsclient,
  replaced by declarations of what it uses);
- `tabella` renders its documentation page from the document, naming every method.

scripts/setup installs the pinned versions. Prints one line per check and "OK <n>" at the
end; exits 1 on the first failure. See docs/codegen.md for what these tools give.
"""
import argparse
import ast
import asyncio
import importlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
# The generated clients talk HTTP; the URL is only written into them, never called.
UNUSED_URL = "http://127.0.0.1:9"

# What the generated TypeScript client uses of its npm dependencies (not installable here).
NPM_SHIMS = """\
declare module "axios" {
  export type AxiosRequestHeaders = Record<string, string>;
}
declare module "jsonrpc2-tsclient" {
  export function rpcClient(...args: unknown[]): ClassDecorator;
  export class RPCHTTPClient {
    constructor(url: string);
    url: string;
    headers: Record<string, string>;
  }
}
"""

checks = 0


def ok(message):
    global checks
    checks += 1
    print(f"ok {message}")


def fail(message):
    print(f"FAIL {message}")
    sys.exit(1)


def without_extensions(value):
    """The document as a tool that ignores `x-` members sees it."""
    if isinstance(value, dict):
        return {key: without_extensions(item) for key, item in value.items() if not key.startswith("x-")}
    if isinstance(value, list):
        return [without_extensions(item) for item in value]
    return value


def first_difference(read, written, path="#"):
    """The first place where the tool's reading differs from the document (numbers compare as numbers)."""
    if isinstance(read, dict) and isinstance(written, dict):
        for key in sorted(set(read) | set(written)):
            if key not in read:
                return f"{path}/{key} was dropped"
            if key not in written:
                return f"{path}/{key} was added"
            found = first_difference(read[key], written[key], f"{path}/{key}")
            if found:
                return found
        return None
    if isinstance(read, list) and isinstance(written, list):
        if len(read) != len(written):
            return f"{path} has {len(read)} items, the document {len(written)}"
        for index, (a, b) in enumerate(zip(read, written)):
            found = first_difference(a, b, f"{path}/{index}")
            if found:
                return found
        return None
    return None if read == written else f"{path} reads {json.dumps(read)[:120]}, the document has {json.dumps(written)[:120]}"


def load_with_openrpc(doc):
    from openrpc import OpenRPC
    from pydantic import ValidationError

    try:
        rpc = OpenRPC.model_validate(doc)
    except ValidationError as error:
        fail(f"openrpc refused the document:\n{error}")
    ok(f"openrpc reads {len(rpc.methods)} methods")
    difference = first_difference(rpc.model_dump(by_alias=True, exclude_unset=True, mode="json"), without_extensions(doc))
    if difference:
        fail(f"openrpc lost information: {difference}")
    ok("openrpc's reading is the document, less its x- extensions")
    return rpc


def generate_clients(rpc, doc, out, tsc):
    from openrpcclientgenerator import Language, generate

    python_name = generate(rpc, Language.PYTHON, UNUSED_URL, out)
    typescript_name = generate(rpc, Language.TYPESCRIPT, UNUSED_URL, out)
    rust_name = generate(rpc, Language.RUST, UNUSED_URL, out)
    check_python_client(out / "python" / python_name)
    check_typescript_client(out / "typescript" / typescript_name, doc, tsc)
    check_rust_models(out / "rust" / rust_name)


def check_python_client(project):
    package = next(path for path in project.iterdir() if (path / "models.py").exists())
    sys.path.insert(0, str(project))
    try:
        # Importing runs model_rebuild(), which fails on any type the models name but never define.
        models = importlib.import_module(f"{package.name}.models")
    except Exception as error:  # noqa: BLE001 - any failure to import is the finding
        fail(f"the generated Python models do not import: {error!r}")
    finally:
        sys.path.remove(str(project))
    ok(f"openrpcclientgenerator's Python models import ({package.name}.models)")

    client = ast.parse((package / "client.py").read_text(encoding="utf-8"))
    imported = [alias.name for node in ast.walk(client) if isinstance(node, ast.ImportFrom)
                and node.module == f"{package.name}.models" for alias in node.names]
    missing = [name for name in imported if not hasattr(models, name)]
    if missing or not imported:
        fail(f"the generated Python client imports models that were not generated: {missing}")
    ok(f"the Python client's {len(imported)} model imports all exist")


def check_typescript_client(project, doc, tsc):
    metadata = json.loads((project / "package.json").read_text(encoding="utf-8"))
    if metadata.get("license") != doc["info"]["license"]["name"]:
        fail(f"the TypeScript client's package.json says license {metadata.get('license')!r}")
    ok(f"the TypeScript client's package.json carries the license {metadata['license']}")
    if tsc is None:
        print("skip: no --tsc, the TypeScript client is not type-checked")
        return
    (project / "src" / "npm-shims.d.ts").write_text(NPM_SHIMS, encoding="utf-8")
    sources = sorted(str(path) for path in (project / "src").glob("*.ts"))
    result = subprocess.run([tsc, "--noEmit", "--strict", "--experimentalDecorators", "--target", "es2020",
                             "--module", "es2020", "--moduleResolution", "node", *sources],
                            capture_output=True, text=True)
    if result.returncode != 0:
        fail(f"the generated TypeScript client does not type-check:\n{result.stdout}{result.stderr}")
    ok(f"openrpcclientgenerator's TypeScript client type-checks ({len(sources) - 1} files, tsc --strict)")


def check_rust_models(project):
    """Every type the Rust models name is defined (crates.io is out of reach: no cargo build).

    The generator defines a union enum only for a oneOf it meets in properties, items or a
    parameter, never under additionalProperties: the custom-attribute value union and the
    custom event property value union are the ones it leaves undefined (docs/codegen.md),
    whatever the schema's form.
    """
    models = (project / "src" / "model.rs").read_text(encoding="utf-8")
    defined = set(re.findall(r"pub (?:struct|enum) (\w+)", models)) | {"String", "Option", "Vec", "HashMap", "Box"}
    undefined = set()
    for field, rust_type in re.findall(r"pub (\w+): ([^\n]+),\n", models):
        if field not in ("custom_attributes", "properties"):
            undefined |= {name for name in re.findall(r"\b[A-Z]\w*", rust_type) if name not in defined}
    if undefined:
        fail(f"the generated Rust models name types they never define: {sorted(undefined)}")
    ok("openrpcclientgenerator's Rust models define every type they name (custom attributes and event properties aside)")


def render_with_tabella(doc):
    from starlette.testclient import TestClient
    from tabella import Tabella
    from tabella._common import cache

    async def answer(request, _headers):
        # Tabella discovers the document with rpc.discover; mmcore answers it with this file.
        return json.dumps({"jsonrpc": "2.0", "id": json.loads(request)["id"], "result": doc})

    app = Tabella(headless=True, disable_client_gen=True)
    cache.set_request_processor(answer, "stdio:mmcore")
    with TestClient(app.starlette, raise_server_exceptions=True) as client:
        page = client.get("/docs/discover-load")
        if page.status_code != 200:
            fail(f"tabella answered {page.status_code}:\n{page.text[:2000]}")
        unnamed = [method["name"] for method in doc["methods"] if method["name"] not in page.text]
        if unnamed:
            fail(f"tabella's page does not name {unnamed}")
        if doc["info"]["license"]["name"] not in page.text:
            fail("tabella's page does not show the license")
        ok(f"tabella renders the documentation page ({len(page.text)} bytes, every method named, the license shown)")
        index = client.get("/")
        if index.status_code != 200 or doc["info"]["title"] not in index.text:
            fail(f"tabella's index answered {index.status_code}:\n{index.text[:2000]}")
        ok("tabella renders its index page")
        for number in range(len(doc["methods"])):
            modal = client.get(f"/docs/try-it-modal/{number}")
            if modal.status_code != 200:
                fail(f"tabella's form for {doc['methods'][number]['name']} answered {modal.status_code}")
        ok(f"tabella renders the form of all {len(doc['methods'])} methods")


def main():
    parser = argparse.ArgumentParser(description="Load the schema in third-party OpenRPC tools.")
    parser.add_argument("--tsc", help="tsc to type-check the generated TypeScript client with")
    parser.add_argument("schema", nargs="?", default=str(ROOT / "schema" / "openrpc.json"))
    arguments = parser.parse_args()
    doc = json.loads(Path(arguments.schema).read_text(encoding="utf-8"))

    rpc = load_with_openrpc(doc)
    with tempfile.TemporaryDirectory() as directory:
        generate_clients(rpc, doc, Path(directory), arguments.tsc)
    render_with_tabella(doc)
    print(f"OK {checks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
