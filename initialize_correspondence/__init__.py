import azure.functions as func

from shared.http import RequestContext, api, json_response
from shared.initialize_correspondence import initialize_json


@api()
def main(ctx: RequestContext) -> func.HttpResponse:
    return json_response(initialize_json(ctx.caller, ctx.json_body()))
