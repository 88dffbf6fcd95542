import azure.functions as func

from shared.api.http import RequestContext, api, json_response
from shared.models.correspondence import parse_initialize_request
from shared.use_cases.initialize_correspondence import initialize_correspondence


@api()
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(initialize_correspondence(ctx.caller, parse_initialize_request(ctx.json_body())))
