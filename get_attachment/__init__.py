import uuid

import azure.functions as func

from shared.attachments import get_overview
from shared.http import RequestContext, api, json_response


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(get_overview(ctx.caller, uuid.UUID(ctx.req.route_params["attachmentId"])))
