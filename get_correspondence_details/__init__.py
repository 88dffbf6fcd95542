import uuid

import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.use_cases.get_correspondence_details import get_correspondence_details


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(get_correspondence_details(ctx.caller, uuid.UUID(ctx.req.route_params["correspondenceId"])))
