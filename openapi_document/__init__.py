import azure.functions as func

from shared.api.http import JSON, RequestContext, api
from shared.use_cases.openapi_document import openapi_document


# Anonymous like the health check: the document describes the API, it holds no data.
@api(consumes=None, authenticate=False)
def main(ctx: RequestContext) -> func.HttpResponse:
    return func.HttpResponse(
        openapi_document(),
        status_code=200,
        mimetype=JSON,
        charset="utf-8",
        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"},
    )
