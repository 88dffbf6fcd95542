import uuid

import azure.functions as func

from shared.api.http import SECURITY_HEADERS, RequestContext, api
from shared.use_cases.purge_attachment import purge_attachment


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    purge_attachment(ctx.caller, uuid.UUID(ctx.req.route_params["attachmentId"]))
    return func.HttpResponse(status_code=204, headers=dict(SECURITY_HEADERS))
