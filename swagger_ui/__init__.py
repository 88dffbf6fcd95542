import azure.functions as func

from shared.api.http import RequestContext, api
from shared.use_cases.swagger_ui import swagger_ui


# Anonymous like the OpenAPI document it shows; "Authorize" in the page takes the token.
@api(consumes=None, produces="text/html", authenticate=False, admission=False)
def main(ctx: RequestContext) -> func.HttpResponse:
    body, content_type, headers, status = swagger_ui((ctx.req.route_params or {}).get("path") or "")
    return func.HttpResponse(body, status_code=status, headers={**headers, "Content-Type": content_type})
