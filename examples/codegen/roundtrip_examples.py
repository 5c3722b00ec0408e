#!/usr/bin/env python3
"""Round-trips the schema's examples through the generated pydantic models.

Usage: python3 examples/codegen/roundtrip_examples.py MODELS.py [schema/openrpc.json]

Every example param and result whose schema refers to a component model (directly, in
a oneOf with null, or as array items) is validated by that model and dumped back; the
dump must equal the example. Error examples (x-error-examples) send their error's data
through ErrorData; those that show invalid input must be refused by the model instead.
Prints one line per check and "OK <n>" at the end; exits 1 on the first difference.
"""
import importlib.util
import json
import sys
from pathlib import Path

from pydantic import ValidationError

ROOT = Path(__file__).resolve().parent.parent.parent


def load_models(path):
    spec = importlib.util.spec_from_file_location("mmcore_models", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the models' postponed annotations resolve through it
    spec.loader.exec_module(module)
    return module


def model_of(schema, models):
    """(model class, shape) for a schema: shape is 'one', 'optional' or 'array'; None if no model applies."""
    prefix = "#/components/schemas/"
    if "$ref" in schema:
        return getattr(models, schema["$ref"][len(prefix):]), "one"
    if "oneOf" in schema:
        refs = [s for s in schema["oneOf"] if "$ref" in s]
        if len(refs) == 1 and any(s.get("type") == "null" for s in schema["oneOf"]):
            return model_of(refs[0], models)[0], "optional"
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return model_of(schema["items"], models)[0], "array"
    return None


def roundtrip(model, value):
    instance = model.model_validate(value)
    return instance.model_dump(mode="json", exclude_unset=True)


def same(a, b):
    # JSON numbers: the models keep 3 as 3.0 in a float-or-string union; equal as numbers.
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) or a == b


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    models = load_models(sys.argv[1])
    doc = json.loads((Path(sys.argv[2]) if len(sys.argv) == 3 else ROOT / "schema" / "openrpc.json").read_text())
    checks = 0

    def check(label, schema, value, valid):
        nonlocal checks
        found = model_of(schema, models)
        if found is None:
            return
        model, shape = found
        values = value if shape == "array" else [value]
        for item in values:
            if shape == "optional" and item is None:
                continue
            try:
                back = roundtrip(model, item)
            except ValidationError as error:
                if valid:
                    print(f"FAIL {label}: {model.__name__} refused the example: {error}")
                    sys.exit(1)
                print(f"refused as it should be: {label} ({model.__name__})")
                checks += 1
                continue
            if not valid:
                print(f"FAIL {label}: {model.__name__} accepted invalid input {json.dumps(item)}")
                sys.exit(1)
            if not same(back, item):
                print(f"FAIL {label}: {model.__name__} round trip changed\n  {json.dumps(item)}\n  {json.dumps(back)}")
                sys.exit(1)
            print(f"ok {label} ({model.__name__})")
            checks += 1

    for method in doc["methods"]:
        params = {param["name"]: param for param in method["params"]}
        # `examples` show results; `x-error-examples` show error responses.
        for example in method.get("examples", []) + method.get("x-error-examples", []):
            label = f"{method['name']} / {example['name']}"
            is_error = "error" in example
            for param in example["params"]:
                # An error example may show invalid input on purpose; the model must then refuse it,
                # unless the error comes from the server or the session rather than the input.
                input_error = is_error and example["error"]["data"]["code"] in ("INVALID_PARAMS", "INVALID_CONFIGURATION")
                check(f"{label} / {param['name']}", params[param["name"]]["schema"], param["value"], not input_error)
            if "result" in example:
                check(f"{label} / result", method["result"]["schema"], example["result"]["value"], True)
            if is_error:
                check(f"{label} / error.data", {"$ref": "#/components/schemas/ErrorData"}, example["error"]["data"], True)
    for event in doc.get("x-events", []):
        check(f"event {event['eventName']}", {"$ref": "#/components/schemas/Event"}, {"eventName": event["eventName"], "payload": None}, True)
    print(f"OK {checks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
