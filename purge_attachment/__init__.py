import uuid

import azure.functions as func

from shared.attachments import purge_attachment
from shared.http import RequestContext, api


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    purge_attachment(ctx.caller, uuid.UUID(ctx.req.route_params["attachmentId"]))
    return func.HttpResponse(status_code=204, headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})
