import uuid

import azure.functions as func

from shared.correspondence_overview import get_details
from shared.http import RequestContext, api, json_response


@api(consumes=None)
def main(ctx: RequestContext) -> func.HttpResponse:
    correspondence_id = uuid.UUID(ctx.req.route_params["correspondenceId"])
    return json_response(get_details(ctx.caller, correspondence_id))
