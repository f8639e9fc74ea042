"""Index an app directory with the real Python worker's loader (azure-functions-runtime), as the
Functions host does at start-up, and print each function's metadata as JSON.

Run in its own process: `python tests/index_app.py APP_DIR`. Exits 1 with the worker's error text
when indexing fails (a binding/signature mistake that would fail on Azure).
"""
import json
import sys
import types


def main(app_dir: str) -> int:
    sys.path.insert(0, app_dir)
    from azure_functions_runtime.bindings.meta import load_binding_registry
    from azure_functions_runtime.functions import Registry
    from azure_functions_runtime.loader import index_function_app, process_indexed_function

    load_binding_registry()

    class BindingInfo:  # stand-in for the protobuf message; the loader only sets attributes
        in_, out, inout = 0, 1, 2
        undefined, string, binary, stream = 0, 1, 2, 3

        def __init__(self, **kw):
            self.__dict__.update(kw)

    class Record:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    protos = types.SimpleNamespace(BindingInfo=BindingInfo, RpcFunctionMetadata=Record, RpcRetryOptions=Record)
    try:
        indexed = index_function_app(f"{app_dir}/function_app.py")
        metadata, _ = process_indexed_function(protos, Registry(), indexed, app_dir)
    except Exception as exc:  # the worker reports these as FunctionLoadError
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    out = []
    for m in metadata:
        raw = [json.loads(b) for b in m.raw_bindings]
        out.append({"name": m.name, "script_file": getattr(m, "script_file", None), "bindings": raw})
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
