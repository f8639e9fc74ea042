"""HTTP functions: `hook` (the webhook receiver) and `plugin_help` (Prow's /plugin-help JSON).
Each parses the request, calls the core, returns."""
import azure.functions as func

bp = func.Blueprint()


@bp.function_name("hook")
@bp.route(route="hook", auth_level=func.AuthLevel.ANONYMOUS)
def hook(req: func.HttpRequest) -> func.HttpResponse:
    # Every method reaches the core, so that a GET gets Prow's 405 rather than the host's 404.
    from shared.hook import handle_webhook

    try:
        body = req.get_body()
    except Exception:  # the body could not be read
        body = None
    result = handle_webhook(req.method, req.headers, body)
    return func.HttpResponse(result.body, status_code=result.status, headers=result.headers)


@bp.function_name("plugin_help")
@bp.route(route="plugin-help", auth_level=func.AuthLevel.ANONYMOUS)
def plugin_help(req: func.HttpRequest) -> func.HttpResponse:
    # Every method reaches the core, so that a POST gets Prow's 405.
    from shared.plugin_help import handle_plugin_help

    result = handle_plugin_help(req.method)
    return func.HttpResponse(result.body, status_code=result.status, headers=result.headers)
