import uuid

import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.get_attachment import get_attachment


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(get_attachment(ctx.caller, uuid.UUID(ctx.req.route_params["attachmentId"])))
